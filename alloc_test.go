package tock_test

import (
	"context"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// Issue #6: no allocation per event on the sleep and hand-off paths. Each
// case measures the whole process's allocations (the scheduler's and every
// task's, or both goroutines') per operation, after a warm-up.
func TestNoAllocationPerEvent(t *testing.T) {
	checkLeaks(t)
	const rounds = 200
	simCase := func(name string, setup func(ctx context.Context, g *tock.Group) func()) {
		t.Run(name, func(t *testing.T) {
			err := sim.Run(context.Background(), func(ctx context.Context) error {
				g := tock.NewGroup(ctx)
				op := setup(ctx, g)
				if n := testing.AllocsPerRun(rounds, op); n != 0 {
					t.Errorf("%v allocations per operation, want 0", n)
				}
				g.Cancel()
				g.Wait()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	// A sleep that switches: another task's timers interleave with the
	// caller's, so the caller is never the next event on its own.
	simCase("sim sleep", func(ctx context.Context, g *tock.Group) func() {
		g.Go(func(ctx context.Context) error {
			for tock.Sleep(ctx, 2*time.Millisecond) == nil {
			}
			return nil
		})
		return func() { tock.Sleep(ctx, 3*time.Millisecond) }
	})
	// A Lock handed over FIFO to a task waiting for it, and back.
	simCase("sim lock hand-off", func(ctx context.Context, g *tock.Group) func() {
		var l tock.Lock
		g.Go(func(ctx context.Context) error {
			for l.Lock(ctx) == nil {
				tock.Yield(ctx)
				l.Unlock(ctx)
			}
			return nil
		})
		return func() {
			l.Lock(ctx)
			tock.Yield(ctx)
			l.Unlock(ctx)
		}
	})
	// Queue items handed to consumers that wait for them: a round trip over
	// two queues, each Get blocking until the other side's Put.
	simCase("sim queue items", func(ctx context.Context, g *tock.Group) func() {
		there, back := tock.NewQueue[int](), tock.NewQueue[int]()
		g.Go(func(ctx context.Context) error {
			for {
				v, err := there.Get(ctx)
				if err != nil {
					return nil
				}
				back.Put(ctx, v)
			}
		})
		return func() {
			there.Put(ctx, 1)
			back.Get(ctx)
		}
	})
	// Real goroutines: a rendezvous round trip, each side blocking.
	t.Run("real rendezvous", func(t *testing.T) {
		ctx := context.Background()
		ps, pr := tock.NewStream[int](0)
		qs, qr := tock.NewStream[int](0)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for v := range pr.All(ctx) {
				qs.Send(ctx, v)
			}
		}()
		n := testing.AllocsPerRun(rounds, func() {
			ps.Send(ctx, 1)
			qr.Receive(ctx)
		})
		ps.Close()
		<-done
		if n != 0 {
			t.Errorf("%v allocations per round trip, want 0", n)
		}
	})
}

// A task started and finished in a simulation allocates its Task (which
// holds its context) and nothing else: no goroutine, no stack (it reuses an
// idle coroutine), no name string, and no closure of the group's (its
// function and the group's end are held by the Task).
func TestSimSpawnAllocations(t *testing.T) {
	checkLeaks(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		task := func(ctx context.Context) error { return nil }
		n := testing.AllocsPerRun(200, func() {
			g.Go(task)
			tock.Yield(ctx) // the task runs and ends
		})
		if n > 1 {
			t.Errorf("%v allocations per task started and finished, want at most 1", n)
		}
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Issue 13: the uncontended operations of the real runtime allocate
// nothing, whatever kind of ctx the caller passes: Background, a task's
// ctx from tock.Run, or one derived from it (values and a cancel). A
// CapacityLimiter keeps its borrowers without a map entry or list element
// per acquire.
func TestUncontendedZeroAllocations(t *testing.T) {
	checkLeaks(t)
	kinds := func(t *testing.T, name string, needsTask bool, op func(ctx context.Context) func()) {
		t.Run(name, func(t *testing.T) {
			check := func(kind string, ctx context.Context) {
				f := op(ctx)
				f() // warm-up: first-use buffers
				if n := testing.AllocsPerRun(200, f); n != 0 {
					t.Errorf("%s, %s ctx: %v allocations per operation, want 0", name, kind, n)
				}
			}
			if !needsTask {
				check("Background", context.Background())
			}
			tock.Run(context.Background(), func(ctx context.Context) error {
				check("task", ctx)
				d := context.WithValue(ctx, allocKey(1), 1)
				d = context.WithValue(d, allocKey(2), 2)
				d = context.WithValue(d, allocKey(3), 3)
				d, cancel := context.WithCancel(d)
				defer cancel()
				check("derived", d)
				return nil
			})
		})
	}
	kinds(t, "Lock", false, func(ctx context.Context) func() {
		var l tock.Lock
		return func() { l.Lock(ctx); l.Unlock(ctx) }
	})
	kinds(t, "re-entrant Lock", true, func(ctx context.Context) func() {
		var l tock.Lock
		return func() { l.Lock(ctx); l.TryLock(ctx); l.Unlock(ctx); l.Unlock(ctx) }
	})
	kinds(t, "Semaphore", false, func(ctx context.Context) func() {
		s := tock.NewSemaphore(1)
		return func() { s.Acquire(ctx); s.Release() }
	})
	kinds(t, "Event.Wait", false, func(ctx context.Context) func() {
		var e tock.Event
		e.Set()
		return func() { e.Wait(ctx) }
	})
	kinds(t, "Stream", false, func(ctx context.Context) func() {
		s, r := tock.NewStream[int](1)
		return func() { s.Send(ctx, 1); r.Receive(ctx) }
	})
	kinds(t, "Queue", false, func(ctx context.Context) func() {
		q := tock.NewQueue[int]()
		return func() { q.Put(ctx, 1); q.Get(ctx) }
	})
	kinds(t, "CapacityLimiter", true, func(ctx context.Context) func() {
		l := tock.NewCapacityLimiter(4)
		return func() { l.Acquire(ctx); l.Release(ctx) }
	})
	kinds(t, "CapacityLimiter For", false, func(ctx context.Context) func() {
		l := tock.NewCapacityLimiter(4)
		l.AcquireFor(ctx, "other") // a holder already there
		return func() { l.AcquireFor(ctx, 7); l.ReleaseFor(7) }
	})
	// beyond the borrowers searched by a scan: the index map keeps them
	kinds(t, "CapacityLimiter many holders", false, func(ctx context.Context) func() {
		l := tock.NewCapacityLimiter(tock.Unlimited)
		for i := 0; i < 20; i++ {
			l.AcquireFor(ctx, 100+i)
		}
		return func() { l.AcquireFor(ctx, 7); l.ReleaseFor(7) }
	})
}

type allocKey int

// A Select's own allocations, beyond its cases (made once here and used
// again, as a loop may): its state with its claim (one object). Select
// over two Queues, the second ready: the first pass finds it, and the
// first case queues no waiter and the Select makes no signal (before the
// first pass: 3 allocations, 4 under the race detector).
func TestSelectAllocations(t *testing.T) {
	ctx := context.Background()
	q1, q2 := tock.NewQueue[int](), tock.NewQueue[int]()
	cases := []tock.SelectCase{tock.OnGet(q1, nil), tock.OnGet(q2, nil)}
	n := testing.AllocsPerRun(200, func() {
		q2.Put(ctx, 1)
		if i, err := tock.Select(ctx, cases...); i != 1 || err != nil {
			t.Fatalf("Select = %d, %v; want 1, nil", i, err)
		}
	})
	if n > 1 {
		t.Errorf("Select over two Queues, the second ready: %v allocations, want at most 1 (its state)", n)
	}
}
