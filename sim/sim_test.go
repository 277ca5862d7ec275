package sim_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal/leaktest"
	"github.com/tockgo/tock/sim"
)

// tracer records "time message" lines relative to the simulation start.
type tracer struct{ b strings.Builder }

func (tr *tracer) log(ctx context.Context, format string, args ...any) {
	fmt.Fprintf(&tr.b, "%g %s\n", tock.Now(ctx).Sub(sim.DefaultStart).Seconds(), fmt.Sprintf(format, args...))
}

func ticker(tr *tracer, period time.Duration, name string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		defer tr.log(ctx, "%s finally", name)
		for {
			if err := tock.Sleep(ctx, period); err != nil {
				return err
			}
			tr.log(ctx, "%s tick", name)
		}
	}
}

func TestMetronome(t *testing.T) {
	leaktest.Check(t)
	var tr tracer
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(ticker(&tr, time.Second, "tick"))
		g.Go(ticker(&tr, 2*time.Second, "TOCK"))
		return g.Wait()
	}, sim.For(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := "1 tick tick\n2 TOCK tick\n2 tick tick\n3 tick tick\n4 TOCK tick\n4 tick tick\n5 tick tick\n5 TOCK finally\n5 tick finally\n" // cancelled in the order they parked
	if tr.b.String() != want {
		t.Errorf("trace:\n%s\nwant:\n%s", tr.b.String(), want)
	}
}

// μSim till_semantics: a wake-up at exactly Until still runs; then every
// task is cancelled at that instant, in the order they parked.
func TestUntilRunsWorkAtTheInstant(t *testing.T) {
	leaktest.Check(t)
	var tr tracer
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(ticker(&tr, 4*time.Second, "four"))
		g.Go(ticker(&tr, 5*time.Second, "five"))
		return g.Wait()
	}, sim.Until(sim.DefaultStart.Add(10*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	want := "4 four tick\n5 five tick\n8 four tick\n10 five tick\n10 four finally\n10 five finally\n"
	if tr.b.String() != want {
		t.Errorf("trace:\n%s\nwant:\n%s", tr.b.String(), want)
	}
}

func TestUntilEarlyFinishAndStart(t *testing.T) {
	leaktest.Check(t)
	var end time.Time
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		tock.Sleep(ctx, 3*time.Second)
		end = tock.Now(ctx)
		return nil
	}, sim.For(10*time.Second))
	if err != nil || !end.Equal(sim.DefaultStart.Add(3*time.Second)) {
		t.Errorf("early finish at %v, %v", end, err)
	}

	// Start and Until combine (μSim: start=10, till=17, ticks every 3).
	t0 := time.Date(2030, 6, 1, 0, 0, 10, 0, time.UTC)
	var ticks []string
	err = sim.Run(context.Background(), func(ctx context.Context) error {
		if !tock.Now(ctx).Equal(t0) {
			t.Errorf("start at %v, want %v", tock.Now(ctx), t0)
		}
		for {
			if err := tock.Sleep(ctx, 3*time.Second); err != nil {
				ticks = append(ticks, fmt.Sprintf("closed at %v", tock.Now(ctx).Sub(t0)))
				return err
			}
			ticks = append(ticks, tock.Now(ctx).Sub(t0).String())
		}
	}, sim.Start(t0), sim.Until(t0.Add(7*time.Second)))
	if err != nil || strings.Join(ticks, ",") != "3s,6s,closed at 7s" {
		t.Errorf("ticks %v, %v", ticks, err)
	}
}

// Tasks blocked forever are not a deadlock when an Until instant is pending:
// they are cancelled when it is reached.
func TestUntilCancelsBlockedTasks(t *testing.T) {
	leaktest.Check(t)
	var got, waited error
	var at time.Duration
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			got = tock.Sleep(ctx, 100*time.Hour)
			at = tock.Now(ctx).Sub(sim.DefaultStart)
			return got
		})
		waited = g.Wait()
		return waited
	}, sim.For(time.Hour))
	if err != nil || !errors.Is(got, context.Canceled) || at != time.Hour || !errors.Is(waited, context.Canceled) {
		t.Fatalf("Run = %v; task got %v at %v; Wait = %v", err, got, at, waited)
	}

	// A task blocked in a wait that cannot be cancelled is abandoned (unwound)
	// at the Until instant; the clock never passes it.
	unwound := false
	err = sim.Run(context.Background(), func(ctx context.Context) error {
		defer func() { unwound = true }()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return g.Wait() })
		return g.Wait()
	}, sim.For(time.Hour))
	if err != nil || !unwound {
		t.Fatalf("Run = %v, unwound %v", err, unwound)
	}
}

func TestDeadlock(t *testing.T) {
	leaktest.Check(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		tock.Sleep(ctx, 5*time.Second)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			return g.Wait() // waits for itself
		})
		return g.Wait()
	})
	var d *sim.DeadlockError
	if !errors.As(err, &d) {
		t.Fatalf("Run = %v, want a *DeadlockError", err)
	}
	if !d.At.Equal(sim.DefaultStart.Add(5 * time.Second)) {
		t.Errorf("deadlock at %v", d.At)
	}
	want := []sim.BlockedTask{{Task: "main", WaitsOn: "Group.Wait", HeldBy: []string{"task 2"}}, {Task: "task 2", WaitsOn: "Group.Wait", HeldBy: []string{"task 2"}}}
	if fmt.Sprint(d.Blocked) != fmt.Sprint(want) {
		t.Errorf("blocked %v, want %v", d.Blocked, want)
	}
	msg := err.Error()
	if !strings.Contains(msg, "deadlock at 2000-01-01T00:00:05Z") || !strings.Contains(msg, "task 2 waits on Group.Wait") {
		t.Errorf("message %q", msg)
	}
}

// Abandoned tasks are unwound: their deferred calls run, and a blocking call
// made while unwinding does not hang.
func TestAbandonedTasksUnwind(t *testing.T) {
	leaktest.Check(t)
	unwound := 0
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for i := 0; i < 3; i++ {
			g.Go(func(ctx context.Context) error {
				defer func() {
					unwound++
					tock.Sleep(context.WithoutCancel(ctx), time.Second) // would block; must not
				}()
				return g.Wait()
			})
		}
		return g.Wait()
	})
	var d *sim.DeadlockError
	if !errors.As(err, &d) || len(d.Blocked) != 4 {
		t.Fatalf("Run = %v", err)
	}
	if unwound != 3 {
		t.Errorf("%d tasks unwound, want 3", unwound)
	}
}

func TestOuterCancelAborts(t *testing.T) {
	leaktest.Check(t)
	outer, cancel := context.WithCancel(context.Background())
	defer cancel()
	deferred := false
	err := sim.Run(outer, func(ctx context.Context) error {
		defer func() { deferred = true }()
		cancel() // the outer world cancels; the run notices between steps
		for {
			tock.Sleep(ctx, time.Second)
		}
	})
	if !errors.Is(err, context.Canceled) || !deferred {
		t.Errorf("Run = %v, deferred %v", err, deferred)
	}
	ran := false
	err = sim.Run(outer, func(ctx context.Context) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("already cancelled: Run = %v, ran %v", err, ran)
	}
}

func TestOuterValuesVisible(t *testing.T) {
	type key struct{}
	outer := context.WithValue(context.Background(), key{}, 42)
	sim.Run(outer, func(ctx context.Context) error {
		if ctx.Value(key{}) != 42 {
			t.Errorf("value %v", ctx.Value(key{}))
		}
		return nil
	})
}

func TestWallClockDeadline(t *testing.T) {
	leaktest.Check(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		wctx, cancel := context.WithTimeout(ctx, time.Hour) //tockvet:ignore the wall-clock deadline under test
		defer cancel()
		return tock.Sleep(wctx, time.Second)
	})
	if !errors.Is(err, sim.ErrWallClockDeadline) {
		t.Errorf("Run = %v, want ErrWallClockDeadline", err)
	}
	// A wall-clock deadline later than a tock deadline is the tock deadline.
	err = sim.Run(context.Background(), func(ctx context.Context) error {
		tctx, c1 := tock.WithTimeout(ctx, time.Minute)
		defer c1()
		wctx, c2 := context.WithTimeout(tctx, time.Hour) //tockvet:ignore the wall-clock deadline under test
		defer c2()
		return tock.Sleep(wctx, time.Second)
	})
	if err != nil {
		t.Errorf("Run = %v", err)
	}
}

func boom() { panic(fmt.Errorf("boom %d", 7)) }

func TestMainPanicSurfacesWithStack(t *testing.T) {
	leaktest.Check(t)
	defer func() {
		pe, ok := recover().(*tock.PanicError)
		if !ok {
			t.Fatal("no *tock.PanicError")
		}
		if fmt.Sprint(pe.Value) != "boom 7" || !strings.Contains(string(pe.Stack), "sim_test.boom") {
			t.Errorf("value %v stack:\n%s", pe.Value, pe.Stack)
		}
		if !strings.Contains(pe.Error(), "sim_test.boom") || pe.Unwrap() == nil {
			t.Errorf("Error() should include the stack; Unwrap should give the error")
		}
	}()
	sim.Run(context.Background(), func(ctx context.Context) error {
		tock.Sleep(ctx, time.Second)
		boom()
		return nil
	})
}

// Tasks still running when main returns are cancelled and unwind.
func TestStrayTasksCancelled(t *testing.T) {
	leaktest.Check(t)
	var got error
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			got = tock.Sleep(ctx, time.Hour)
			return got
		})
		return tock.Sleep(ctx, time.Second)
	})
	if err != nil || !errors.Is(got, context.Canceled) {
		t.Errorf("Run = %v, stray task got %v", err, got)
	}
}

// randomModel runs n tasks doing seeded random sleeps, timeouts and group
// cancellations, and returns the trace.
func randomModel(seed uint64, n int) (string, error) {
	var tr tracer
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		rng := rand.New(rand.NewPCG(seed, 1))
		top := tock.NewGroup(ctx)
		for gi := 0; gi < n/10; gi++ {
			g := tock.NewGroup(ctx)
			for j := 0; j < 10; j++ {
				id := gi*10 + j
				steps := 1 + rng.IntN(8)
				delays := make([]time.Duration, steps)
				for k := range delays {
					delays[k] = time.Duration(rng.IntN(50)) * time.Millisecond
				}
				timeout := time.Duration(rng.IntN(300)) * time.Millisecond
				g.Go(func(ctx context.Context) error {
					if id%3 == 0 {
						var cancel context.CancelFunc
						ctx, cancel = tock.WithTimeout(ctx, timeout)
						defer cancel()
					}
					for k, d := range delays {
						if err := tock.Sleep(ctx, d); err != nil {
							tr.log(ctx, "t%d step %d: %v", id, k, err)
							return nil
						}
						tr.log(ctx, "t%d step %d", id, k)
					}
					if id%7 == 0 {
						return fmt.Errorf("t%d fails", id)
					}
					return nil
				})
			}
			cancelAt := time.Duration(rng.IntN(400)) * time.Millisecond
			top.Go(func(ctx context.Context) error {
				if gi%2 == 0 {
					tock.Sleep(ctx, cancelAt)
					tr.log(ctx, "cancel group %d", gi)
					g.Cancel()
				}
				err := g.Wait()
				tr.log(ctx, "group %d: %v", gi, err)
				return nil
			})
		}
		return top.Wait()
	})
	return tr.b.String(), err
}

func TestDeterminism(t *testing.T) {
	leaktest.Check(t)
	first, err := randomModel(42, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(first, "\n") < 2000 {
		t.Fatalf("trace too short to mean anything: %d lines", strings.Count(first, "\n"))
	}
	for _, want := range []string{"deadline exceeded", "context canceled", "fails", "cancel group"} {
		if !strings.Contains(first, want) {
			t.Errorf("trace never shows %q", want)
		}
	}
	h := fnv.New64a()
	h.Write([]byte(first))
	sum := h.Sum64()
	for i := 1; i < 20; i++ {
		again, err := randomModel(42, 1000)
		if err != nil {
			t.Fatal(err)
		}
		h := fnv.New64a()
		h.Write([]byte(again))
		if h.Sum64() != sum {
			t.Fatalf("run %d differs from run 0", i)
		}
	}
	other, _ := randomModel(43, 1000)
	if other == first {
		t.Error("a different seed gave the same trace")
	}
}

func TestHundredThousandTasks(t *testing.T) {
	leaktest.Check(t)
	const tasks, sleeps = 100_000, 10
	var woke int
	var end time.Time
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for i := 0; i < tasks; i++ {
			g.Go(func(ctx context.Context) error {
				for k := 0; k < sleeps; k++ {
					if err := tock.Sleep(ctx, time.Duration(1+i%7)*time.Second); err != nil {
						return err
					}
					woke++
				}
				return nil
			})
		}
		err := g.Wait()
		end = tock.Now(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if woke != tasks*sleeps || !end.Equal(sim.DefaultStart.Add(70*time.Second)) {
		t.Errorf("woke %d times, ended at %v", woke, end)
	}
}

// A simulation's context used after Run returned (or from a goroutine the
// simulation does not run) panics with a message saying so, instead of
// blocking something the scheduler no longer drives.
func TestContextUsedOutsideItsSimulation(t *testing.T) {
	var leaked context.Context
	sim.Run(context.Background(), func(ctx context.Context) error { leaked = ctx; return nil })
	defer func() {
		if r := fmt.Sprint(recover()); !strings.Contains(r, "may be used only by that task") {
			t.Errorf("panic %q", r)
		}
	}()
	var e tock.Event
	e.Wait(context.WithoutCancel(leaked))
}

// Cancelling a context wakes the tasks parked on it in the order they
// parked, whatever order earlier tasks left it in.
func TestCancelWakesInParkOrder(t *testing.T) {
	leaktest.Check(t)
	var order []int
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for i := 1; i <= 5; i++ {
			g.Go(func(ctx context.Context) error {
				if i == 2 { // leaves first, then parks again after the others
					tock.Sleep(ctx, time.Second)
				}
				err := tock.Sleep(ctx, time.Hour)
				order = append(order, i)
				return err
			})
		}
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, time.Minute)
			return errors.New("stop")
		})
		return g.Wait()
	})
	if err == nil || err.Error() != "stop" {
		t.Fatalf("Run: %v", err)
	}
	if fmt.Sprint(order) != "[1 3 4 5 2]" {
		t.Errorf("woken in order %v, want [1 3 4 5 2] (the order they parked)", order)
	}
}

// TestYieldAlone: a Yield with no other task runnable goes on at once, but
// still lets a cancellation the simulation polls for (a context.WithCancel
// it does not control) reach the task parked on it.
func TestYieldAlone(t *testing.T) {
	leaktest.Check(t)
	var tr tracer
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		g := tock.NewGroup(ctx)
		woken := false
		g.Go(func(ctx context.Context) error {
			err := tock.Sleep(cctx, time.Hour) //tockvet:ignore waits on the parent's derived context on purpose
			tr.log(ctx, "sleeper: %v", err)
			woken = true
			return nil
		})
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, time.Second)
			tock.Yield(ctx) // alone: nothing else is runnable
			tr.log(ctx, "yielded alone")
			cancel()
			for i := 1; i <= 3; i++ {
				tock.Yield(ctx)
				tr.log(ctx, "yield %d: sleeper woken %v", i, woken)
			}
			return nil
		})
		return g.Wait()
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The polled cancellation is seen after the step that made it, so the
	// sleeper is queued behind the yielder.
	want := "1 yielded alone\n1 yield 1: sleeper woken false\n1 sleeper: context canceled\n1 yield 2: sleeper woken true\n1 yield 3: sleeper woken true\n"
	if tr.b.String() != want {
		t.Errorf("got\n%swant\n%s", tr.b.String(), want)
	}
}
