package tock_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tockgo/tock"
)

var _ = register(
	scenario{
		// μSim T1: delays accumulate; a zero delay only postpones.
		name: "T1 sleeps accumulate",
		body: func(ctx context.Context, h *H) error {
			for i := 0; i < 5; i++ {
				if err := tock.Sleep(ctx, h.U(20)); err != nil {
					return err
				}
			}
			h.Log(ctx, "after five sleeps")
			if err := tock.Sleep(ctx, 0); err != nil {
				return err
			}
			h.Log(ctx, "after sleep 0")
			return nil
		},
		sim:     "100 after five sleeps\n100 after sleep 0",
		ordered: true,
		check: func(t *testing.T, h *H, err error) {
			if err != nil {
				t.Fatal(err)
			}
			// A sleep never returns early, on either clock.
			if h.lines[0].at < 100 {
				t.Errorf("five sleeps of 20 ended at %g units", h.lines[0].at)
			}
		},
	},
	scenario{
		// μSim T2/T4: SleepUntil resumes at exactly the instant; a past or
		// present instant returns at once.
		name: "T2 SleepUntil instants",
		body: func(ctx context.Context, h *H) error {
			for k := 0; k < 5; k++ {
				if err := tock.SleepUntil(ctx, h.At(float64(20*k))); err != nil {
					return err
				}
				h.Log(ctx, "k=%d", k)
			}
			if err := tock.SleepUntil(ctx, h.At(-5)); err != nil {
				return err
			}
			h.Log(ctx, "past instant passed")
			return nil
		},
		sim:     "0 k=0\n20 k=1\n40 k=2\n60 k=3\n80 k=4\n80 past instant passed",
		ordered: true,
	},
	scenario{
		// μSim postpone_order: Yield, Sleep(0) and SleepUntil(now) all
		// postpone the caller behind every task already runnable.
		name: "postpone order",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "A before")
				tock.Yield(ctx)
				h.Log(ctx, "A after yield")
				tock.Sleep(ctx, 0)
				h.Log(ctx, "A after sleep 0")
				tock.SleepUntil(ctx, tock.Now(ctx))
				h.Log(ctx, "A after sleep until now")
				return nil
			})
			g.Go(func(ctx context.Context) error {
				for i := 1; i <= 4; i++ {
					h.Log(ctx, "B %d", i)
					tock.Yield(ctx)
				}
				return nil
			})
			return g.Wait()
		},
		sim: `0 A before
			0 B 1
			0 A after yield
			0 B 2
			0 A after sleep 0
			0 B 3
			0 A after sleep until now
			0 B 4`,
	},
	scenario{
		// μSim same_time_fifo: within an instant, wake-ups run in the order
		// they were scheduled, not the order the tasks were made.
		name: "same instant FIFO",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			sleeper := func(name string, first float64) func(ctx context.Context) error {
				return func(ctx context.Context) error {
					tock.Sleep(ctx, h.U(first))
					h.Log(ctx, "%s woke 1", name)
					tock.Sleep(ctx, h.U(5))
					h.Log(ctx, "%s woke 2", name)
					return nil
				}
			}
			g.Go(sleeper("A", 10))
			g.Go(sleeper("B", 5))
			g.Go(sleeper("C", 10))
			return g.Wait()
		},
		sim: `5 B woke 1
			10 A woke 1
			10 C woke 1
			10 B woke 2
			15 A woke 2
			15 C woke 2`,
	},
	scenario{
		name: "WithTimeout cancels a sleep at its deadline",
		body: func(ctx context.Context, h *H) error {
			tctx, cancel := tock.WithTimeout(ctx, h.U(10))
			defer cancel()
			err := tock.Sleep(tctx, h.U(1000))
			h.Log(ctx, "sleep: %v", err)
			if _, ok := tctx.Deadline(); !ok {
				h.Log(ctx, "no deadline")
			}
			return nil
		},
		sim:     "10 sleep: context deadline exceeded",
		ordered: true,
	},
	scenario{
		// A timeout or a sleep of the largest Duration, once the clock has
		// moved, waits: it does not wrap around into the past.
		name: "huge durations do not wrap",
		body: func(ctx context.Context, h *H) error {
			tock.Sleep(ctx, h.U(5))
			forever, cancel := tock.WithTimeout(ctx, math.MaxInt64)
			defer cancel()
			h.Log(ctx, "sleep under a huge timeout: %v", tock.Sleep(forever, h.U(1)))
			tctx, cancel2 := tock.WithTimeout(ctx, h.U(10))
			defer cancel2()
			h.Log(ctx, "huge sleep: %v", tock.Sleep(tctx, math.MaxInt64))
			return nil
		},
		sim:     "6 sleep under a huge timeout: <nil>\n16 huge sleep: context deadline exceeded",
		ordered: true,
	},
	scenario{
		// Nested timeouts: the inner one fires first when shorter; the outer
		// one still fires at its own instant afterwards.
		name: "nested timeouts",
		body: func(ctx context.Context, h *H) error {
			outer, c1 := tock.WithTimeout(ctx, h.U(10))
			inner, c2 := tock.WithTimeout(outer, h.U(100))
			err := tock.Sleep(inner, h.U(1000))
			h.Log(ctx, "short outer, long inner: %v", err)
			c2()
			c1()
			outer, c1 = tock.WithTimeout(ctx, h.U(100))
			inner, c2 = tock.WithTimeout(outer, h.U(10))
			err = tock.Sleep(inner, h.U(1000))
			h.Log(ctx, "inner: %v", err)
			err = tock.Sleep(outer, h.U(1000))
			h.Log(ctx, "outer: %v", err)
			c2()
			c1()
			return nil
		},
		sim: `10 short outer, long inner: context deadline exceeded
			20 inner: context deadline exceeded
			110 outer: context deadline exceeded`,
		ordered: true,
	},
	scenario{
		// AnyIO TG-16: a timeout cancelled before its deadline reports a
		// cancellation, not a timeout.
		name: "timeout cancelled before deadline",
		body: func(ctx context.Context, h *H) error {
			tctx, cancel := tock.WithTimeout(ctx, h.U(10))
			cancel()
			err := tock.Sleep(tctx, h.U(1))
			h.Log(ctx, "canceled=%v deadline=%v", errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded))
			return nil
		},
		sim:     "0 canceled=true deadline=false",
		ordered: true,
	},
	scenario{
		// AnyIO TG-13: cancelled before use: every checkpoint fails at once,
		// even one that could finish immediately.
		name: "cancelled before entering",
		body: func(ctx context.Context, h *H) error {
			cctx, cancel := tock.WithCancel(ctx)
			cancel()
			h.Log(ctx, "sleep: %v", tock.Sleep(cctx, h.U(5)))
			h.Log(ctx, "sleep 0: %v", tock.Sleep(cctx, 0))
			h.Log(ctx, "yield: %v", tock.Yield(cctx))
			h.Log(ctx, "sleep until past: %v", tock.SleepUntil(cctx, h.At(-1)))
			return nil
		},
		sim: `0 sleep: context canceled
			0 sleep 0: context canceled
			0 yield: context canceled
			0 sleep until past: context canceled`,
		ordered: true,
	},
	scenario{
		// A past deadline is already expired.
		name: "WithDeadline in the past",
		body: func(ctx context.Context, h *H) error {
			dctx, cancel := tock.WithDeadline(ctx, h.At(-1))
			defer cancel()
			h.Log(ctx, "err: %v", dctx.Err())
			h.Log(ctx, "sleep: %v", tock.Sleep(dctx, h.U(5)))
			return nil
		},
		sim:     "0 err: context deadline exceeded\n0 sleep: context deadline exceeded",
		ordered: true,
	},
	scenario{
		// A context derived with the standard library from a task's context
		// wakes a parked task when cancelled, at that instant.
		name: "context.WithCancel from a task context",
		body: func(ctx context.Context, h *H) error {
			cctx, cancel := context.WithCancel(ctx)
			vctx := context.WithValue(cctx, ctxKey{}, "v")
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				err := h.Forever(vctx) //tockvet:ignore waits on the parent's derived context on purpose
				h.Log(ctx, "waiter: %v (value %v)", err, vctx.Value(ctxKey{}))
				return nil
			})
			tock.Sleep(ctx, h.U(5))
			h.Log(ctx, "cancelling")
			cancel()
			return g.Wait()
		},
		sim:     "5 cancelling\n5 waiter: context canceled (value v)",
		ordered: true,
	},
	scenario{
		// A timeout derived from a standard-library child of a tock timeout:
		// the tock deadline propagates through it.
		name: "tock timeout through a standard-library child",
		body: func(ctx context.Context, h *H) error {
			tctx, cancel := tock.WithTimeout(ctx, h.U(7))
			defer cancel()
			cctx, ccancel := context.WithCancel(tctx)
			defer ccancel()
			err := tock.Sleep(cctx, h.U(100))
			h.Log(ctx, "child: %v", err)
			return nil
		},
		sim:     "7 child: context deadline exceeded",
		ordered: true,
	},
)

type ctxKey struct{}

func TestNowFollowsRuntime(t *testing.T) {
	checkLeaks(t)
	h, err := runSim(func(ctx context.Context, h *H) error {
		if !tock.Simulated(ctx) {
			t.Error("sim ctx not simulated")
		}
		return nil
	})
	if err != nil || !h.start.Equal(simStart) {
		t.Errorf("sim start %v, %v", h.start, err)
	}
	if tock.Simulated(context.Background()) {
		t.Error("background ctx simulated")
	}
}

// Sleeping until an instant so far back that its offset from the start
// saturates (time.Time{} is two millennia before the default start) is a
// checkpoint like any past instant, not a wait without a timer; so is the
// most negative duration. Under both runtimes the calls return at once; in a
// simulation the clock does not move.
func TestSleepFarPast(t *testing.T) {
	checkLeaks(t)
	body := func(ctx context.Context, h *H) error {
		start := tock.Now(ctx)
		if err := tock.SleepUntil(ctx, time.Time{}); err != nil {
			return err
		}
		if err := tock.Sleep(ctx, math.MinInt64); err != nil {
			return err
		}
		if got := tock.Now(ctx); tock.Simulated(ctx) && !got.Equal(start) {
			t.Errorf("the clock moved to %v", got)
		}
		return nil
	}
	if _, err := runSim(body); err != nil {
		t.Fatal("sim:", err)
	}
	if _, err := runReal(body); err != nil {
		t.Fatal("real:", err)
	}
}
