package tock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// Lower priority value first, FIFO among equals (SimPy's
		// PriorityResource).
		name: "PL-01 priority order",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewPriorityLimiter(1)
			first, err := l.Acquire(ctx, 0)
			if err != nil {
				return err
			}
			g := tock.NewGroup(ctx)
			for i, w := range []struct {
				name string
				prio int
			}{{"C", 2}, {"B1", 1}, {"B2", 1}, {"A", -1}} {
				g.Go(func(ctx context.Context) error {
					p, err := l.Acquire(ctx, w.prio)
					if err != nil {
						return err
					}
					h.Log(ctx, "%s (priority %d) got it", w.name, p.Priority())
					tock.Sleep(ctx, h.U(1))
					p.Release()
					return nil
				})
				h.WaitUntil(ctx, "queued", func() bool { return l.Stats().Waiting == i+1 })
			}
			tock.Sleep(ctx, h.U(1))
			first.Release()
			return g.Wait()
		},
		sim:     "1 A (priority -1) got it\n2 B1 (priority 1) got it\n3 B2 (priority 1) got it\n4 C (priority 2) got it",
		ordered: true,
	},
	scenario{
		// Preemption (SimPy's PreemptiveResource): a more urgent Acquire
		// takes the token of the least urgent holder, whose Permit context
		// is cancelled with cause ErrPreempted; an equally urgent one waits.
		name: "PL-02 preemption",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewPriorityLimiter(1, tock.Preemptive())
			low, err := l.Acquire(ctx, 5)
			if err != nil {
				return err
			}
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				err := h.Forever(low.Context()) // the holder's work
				h.Log(ctx, "low interrupted: preempted %v, cause ErrPreempted %v", low.Preempted(), errors.Is(context.Cause(low.Context()), tock.ErrPreempted))
				low.Release() // a no-op: the token is gone
				_ = err
				return nil
			})
			tock.Sleep(ctx, h.U(3))
			same, ok := l.TryAcquire(ctx, 5)
			h.Log(ctx, "same priority TryAcquire: %v", ok)
			if ok {
				same.Release()
			}
			high, err := l.Acquire(ctx, 1)
			if err != nil {
				return err
			}
			h.Log(ctx, "high got it; in use %d", l.Stats().InUse)
			if err := g.Wait(); err != nil {
				return err
			}
			tock.Sleep(ctx, h.U(1))
			high.Release()
			h.Log(ctx, "released; in use %d, ctx %v", l.Stats().InUse, high.Context().Err())
			return nil
		},
		sim: `3 same priority TryAcquire: false
3 high got it; in use 1
3 low interrupted: preempted true, cause ErrPreempted true
4 released; in use 0, ctx context canceled`,
		check: causal(order{"same priority TryAcquire: false", "low interrupted: preempted true, cause ErrPreempted true"}),
	},
	scenario{
		// A waiter cancelled before the hand-off takes nothing; one handed
		// the token and then cancelled holds it.
		name: "PL-03 cancel before or after the hand-off",
		body: func(ctx context.Context, h *H) error {
			for _, cancelFirst := range []bool{true, false} {
				l := tock.NewPriorityLimiter(1)
				hold, _ := l.Acquire(ctx, 0)
				var got *tock.Permit
				err := h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
					p, err := l.Acquire(ctx, 3)
					got = p
					return err
				}, func() bool { return l.Stats().Waiting == 1 }, hold.Release)
				h.Log(ctx, "cancel first %v: %v, holds %v, in use %d", cancelFirst, err, got != nil, l.Stats().InUse)
			}
			return nil
		},
		sim:     "0 cancel first true: context canceled, holds false, in use 0\n0 cancel first false: <nil>, holds true, in use 1",
		ordered: true,
	},
)

func TestPriorityLimiterMisuse(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"total 0", func() { tock.NewPriorityLimiter(0) }, "tock: NewPriorityLimiter: the total 0 is not positive"},
		{"double release", func() {
			l := tock.NewPriorityLimiter(1)
			p, _ := l.TryAcquire(context.Background(), 0)
			p.Release()
			p.Release()
		}, "tock: Permit.Release: the permit was already released"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := fmt.Sprint(recover()); !strings.Contains(r, c.want) {
					t.Errorf("panic %q, want %q", r, c.want)
				}
			}()
			c.f()
		})
	}
}

// The preempted holder is the least urgent one, the most recent among
// equals; a preemption cascades nothing.
func TestPriorityLimiterVictim(t *testing.T) {
	checkLeaks(t)
	sim.Run(context.Background(), func(ctx context.Context) error {
		l := tock.NewPriorityLimiter(3, tock.Preemptive())
		a, _ := l.Acquire(ctx, 2)
		b, _ := l.Acquire(ctx, 4)
		c, _ := l.Acquire(ctx, 4)
		d, _ := l.Acquire(ctx, 3)
		if !c.Preempted() || b.Preempted() || a.Preempted() {
			t.Errorf("preempted a %v b %v c %v, want only c (priority 4, most recent)", a.Preempted(), b.Preempted(), c.Preempted())
		}
		e, _ := l.Acquire(ctx, 3)
		if !b.Preempted() {
			t.Error("b not preempted by e")
		}
		ctx2, cancel := tock.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := l.Acquire(ctx2, 3); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("equal priority preempted: %v", err)
		}
		a.Release()
		d.Release()
		e.Release()
		if s := l.Stats(); s.InUse != 0 || s.Waiting != 0 {
			t.Errorf("stats %+v", s)
		}
		return nil
	})
}

func ExamplePriorityLimiter() {
	// One repairman; a broken machine (priority 1) preempts routine work
	// (priority 2), which resumes when the repair is done.
	sim.Run(context.Background(), func(ctx context.Context) error {
		repairman := tock.NewPriorityLimiter(1, tock.Preemptive())
		at := func(ctx context.Context) time.Duration { return tock.Now(ctx).Sub(sim.DefaultStart) }
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			left := 10 * time.Minute
			for left > 0 {
				p, err := repairman.Acquire(ctx, 2)
				if err != nil {
					return err
				}
				start := tock.Now(ctx)
				err = tock.Sleep(p.Context(), left)
				left -= tock.Now(ctx).Sub(start)
				p.Release()
				if errors.Is(context.Cause(p.Context()), tock.ErrPreempted) {
					fmt.Printf("%v: routine work preempted, %v left\n", at(ctx), left)
				}
			}
			fmt.Printf("%v: routine work done\n", at(ctx))
			return nil
		})
		tock.Sleep(ctx, 4*time.Minute)
		p, _ := repairman.Acquire(ctx, 1)
		fmt.Printf("%v: repair starts\n", at(ctx))
		tock.Sleep(ctx, 3*time.Minute)
		p.Release()
		return g.Wait()
	})
	// Output:
	// 4m0s: repair starts
	// 4m0s: routine work preempted, 6m0s left
	// 13m0s: routine work done
}
