package tock_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// When a simulation abandons its tasks, their deferred cleanups run while
// they are unwound. A cleanup that blocks (a contended Lock, Group.Wait), puts
// on a Queue, or loops with recover() around tock calls must not hang Run,
// and must leave no internal mutex held and no waiter queued (issue 12,
// defect 2).

// bounded runs f and fails t if it does not return within 20 s.
func bounded(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return within 20 s: it hangs", what)
	}
}

// abandonments are the ways a run abandons tasks that are still blocked.
var abandonments = []struct {
	name string
	opts []sim.Option
	// end is how main ends once the model is set up.
	end func(ctx context.Context, cancelOuter context.CancelFunc) error
	// ok checks Run's error.
	ok func(err error) bool
}{
	{"deadlock", nil,
		func(ctx context.Context, _ context.CancelFunc) error { return h0.Forever(context.WithoutCancel(ctx)) },
		func(err error) bool { var d *sim.DeadlockError; return errors.As(err, &d) }},
	{"outer ctx cancelled", nil,
		func(ctx context.Context, cancelOuter context.CancelFunc) error {
			cancelOuter()
			for {
				tock.Sleep(context.WithoutCancel(ctx), time.Second)
			}
		},
		func(err error) bool { return errors.Is(err, context.Canceled) }},
	{"main returned", nil,
		func(ctx context.Context, _ context.CancelFunc) error { return nil },
		func(err error) bool { return err == nil }},
	{"Until", []sim.Option{sim.For(10 * time.Second)},
		func(ctx context.Context, _ context.CancelFunc) error { return h0.Forever(ctx) },
		func(err error) bool { return err == nil }},
}

// unwindState is what the cleanups of one run record.
type unwindState struct {
	lock      tock.Lock
	q         *tock.Queue[int]
	inner     *tock.Group
	ctx       context.Context // main's, kept after the run
	reached   []string        // cleanup code that must not run (after a refused block)
	recovered int             // unwinding panics recovered by the recover loop
	resumed   bool            // a task resumed after recovering the unwinding panic
	unwound   bool            // ... and was unwound again
	ctxErr    string          // what a cleanup's Lock with its task's ctx returned
}

func unwindModel(st *unwindState, end func(context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		st.ctx = ctx
		wc := context.WithoutCancel(ctx) // cleanups that ignore the cancellation
		st.q = tock.NewQueue[int]()
		st.inner = tock.NewGroup(ctx)
		st.inner.Go(func(ctx context.Context) error { return h0.Forever(context.WithoutCancel(ctx)) })
		g := tock.NewGroup(ctx)
		var held tock.Event
		g.Go(func(ctx context.Context) error { // holds the lock for good
			st.lock.Lock(ctx)
			held.Set()
			return h0.Forever(context.WithoutCancel(ctx))
		})
		held.Wait(ctx)
		cleanups := []struct {
			name string
			f    func()
		}{
			{"Lock", func() { st.lock.Lock(wc) }},
			{"Lock again", func() { st.lock.Lock(wc) }},
			{"Queue.Put", func() { st.q.Put(wc, 1); st.q.Put(wc, 2) }},
			{"Group.Wait", func() { st.inner.Wait() }},
			{"Group.Wait again", func() { st.inner.Wait() }},
			{"recover loop", func() {
				for range 5 {
					func() {
						defer func() {
							if recover() != nil {
								st.recovered++
							}
						}()
						st.lock.Lock(wc)
					}()
				}
			}},
		}
		g.Go(func(ctx context.Context) error {
			defer func() { // the run cancelled every context: a cleanup that uses it gets an error, no panic
				err := st.lock.Lock(ctx)
				st.ctxErr = fmt.Sprint(err)
			}()
			return h0.Forever(context.WithoutCancel(ctx))
		})
		for _, c := range cleanups {
			g.Go(func(ctx context.Context) error {
				defer func() {
					c.f()
					if c.name != "recover loop" { // it recovers every unwinding
						st.reached = append(st.reached, c.name)
					}
				}()
				return h0.Forever(context.WithoutCancel(ctx))
			})
		}
		g.Go(func(ctx context.Context) error { // recovers the unwinding and blocks again
			defer func() {
				if recover() != nil {
					st.unwound = true
				}
			}()
			defer func() {
				recover()
				tock.Sleep(wc, time.Second) //tockvet:ignore a blocking call on an outer context while unwinding, on purpose
				st.resumed = true
			}()
			return h0.Forever(context.WithoutCancel(ctx))
		})
		tock.Yield(ctx) // every task blocks
		tock.Yield(ctx)
		return end(ctx)
	}
}

func TestUnwindingNeverHangs(t *testing.T) {
	checkLeaks(t)
	for _, ab := range abandonments {
		t.Run(ab.name, func(t *testing.T) {
			var st unwindState
			var err error
			outer, cancelOuter := context.WithCancel(context.Background())
			defer cancelOuter()
			bounded(t, "sim.Run", func() {
				err = sim.Run(outer, unwindModel(&st, func(ctx context.Context) error { return ab.end(ctx, cancelOuter) }), ab.opts...)
			})
			if !ab.ok(err) {
				t.Errorf("Run = %v", err)
			}
			if len(st.reached) > 0 {
				t.Errorf("cleanup code ran past a blocking call that must unwind: %q", st.reached)
			}
			if st.recovered != 5 {
				t.Errorf("the recover loop recovered %d unwinding panics, want 5 (one per blocking call)", st.recovered)
			}
			if st.resumed || !st.unwound {
				t.Errorf("a task that recovered the unwinding panic and blocked again: resumed %v, unwound again %v; want false, true", st.resumed, st.unwound)
			}
			if st.ctxErr != "context canceled" {
				t.Errorf("a cleanup's Lock with its task's (cancelled) ctx returned %q, want context canceled", st.ctxErr)
			}
			// No mutex is left held, no waiter queued.
			bounded(t, "Lock.Stats", func() {
				if s := st.lock.Stats(); s.Waiting != 0 {
					t.Errorf("%d waiters left queued on the lock", s.Waiting)
				}
			})
			bounded(t, "Queue.Len", func() { st.q.Len() })
			bounded(t, "Group.Cancel", func() { st.inner.Cancel() })
		})
	}
}

// A simulation's context used after the run: the blocking call panics naming
// the rule, after releasing the primitive's mutex and with no waiter left
// queued, so the primitive stays usable.
func TestBlockingOutsideTheSimulationReleasesEverything(t *testing.T) {
	checkLeaks(t)
	var st unwindState
	bounded(t, "sim.Run", func() {
		err := sim.Run(context.Background(), unwindModel(&st, func(ctx context.Context) error { return nil }))
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	const rule = "simulat" // "may be used only by that task" (a task's ctx), or "outside that simulation's tasks" (Group.Wait, which takes no ctx)
	leaked := context.WithoutCancel(st.ctx)
	for i := range 3 {
		expectPanic(t, rule, func() { st.lock.Lock(leaked) })
		expectPanic(t, rule, func() { st.inner.Wait() })
		bounded(t, fmt.Sprintf("Lock.Stats after misuse %d", i), func() {
			if s := st.lock.Stats(); s.Waiting != 0 || !s.Locked {
				t.Errorf("lock after a refused Lock: %+v, want locked with no waiter", s)
			}
		})
		bounded(t, "Group.Cancel", func() { st.inner.Cancel() })
	}
	var e tock.Event
	expectPanic(t, rule, func() { e.Wait(leaked) })
	bounded(t, "Event", func() {
		if s := e.Stats(); s.Waiting != 0 {
			t.Errorf("%d waiters left on the event", s.Waiting)
		}
		e.Set()
	})
}
