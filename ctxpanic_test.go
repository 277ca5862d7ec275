package tock_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
)

// A ctx of the user's own type whose methods panic, at the points where
// tock calls them while a waiter is queued: the waiter's own park (Done,
// in the real runtime's park and in the simulation's) and a granter, with
// the primitive's mutex held, asking whether the waiter gave up (Err).
// Nothing may stay queued, no mutex may stay held, and nothing handed out
// may be lost.

// panickyCtx wraps a task's ctx: its Done panics if doneBoom is set, its
// Done is nil if nilDone is set (so that a park calls no method of it),
// and its Err panics while errBoom is set.
type panickyCtx struct {
	context.Context
	doneBoom bool
	nilDone  bool
	errBoom  *atomic.Bool
	// doneHook, if set, runs in Done before it panics (a test holds the
	// park there)
	doneHook func()
}

func (c *panickyCtx) Done() <-chan struct{} {
	if c.doneBoom {
		if c.doneHook != nil {
			c.doneHook()
		}
		panic("panickyCtx.Done")
	}
	if c.nilDone {
		return nil
	}
	return c.Context.Done()
}

func (c *panickyCtx) Err() error {
	if c.errBoom != nil && c.errBoom.Load() {
		panic("panickyCtx.Err")
	}
	return c.Context.Err()
}

// A Lock's waiter whose ctx's Done panics in its park: the panic reaches
// the caller, the waiter is gone from the queue, and the owner's Unlock
// frees the lock (before, the lock went to the dead waiter and stayed
// held).
func TestCtxDonePanicsInPark(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		var l tock.Lock
		l.Lock(ctx)
		g := tock.NewGroup(ctx)
		var got atomic.Value
		g.Go(func(ctx context.Context) error {
			got.Store(panicOf(func() { l.Lock(&panickyCtx{Context: ctx, doneBoom: true}) }))
			return nil
		})
		if err := g.Wait(); err != nil {
			return err
		}
		if s, _ := got.Load().(string); s != "panickyCtx.Done" {
			return fmt.Errorf("Lock with a ctx whose Done panics: panic %q, want panickyCtx.Done", s)
		}
		if st := l.Stats(); st.Waiting != 0 {
			return fmt.Errorf("after the panic %d waiters are queued, want 0", st.Waiting)
		}
		l.Unlock(ctx)
		if st := l.Stats(); st.Locked {
			return fmt.Errorf("after the owner's Unlock the lock is held by %d, want free", st.Owner)
		}
		return nil
	})
}

// A grant that reaches the waiter before its park's panic wins, as it wins
// over a cancellation: the Lock returns nil and the caller owns the lock.
// Real runtime only: the test holds the park inside Done while the owner
// unlocks.
func TestCtxDonePanicsAfterGrant(t *testing.T) {
	err := within(t, "the test", func() error {
		return tock.Run(context.Background(), func(ctx context.Context) error {
			var l tock.Lock
			l.Lock(ctx)
			entered, release := make(chan struct{}), make(chan struct{})
			g := tock.NewGroup(ctx)
			var lockErr atomic.Value
			g.Go(func(ctx context.Context) error {
				pc := &panickyCtx{Context: ctx, doneBoom: true, doneHook: func() {
					close(entered)
					<-release //tockvet:ignore the real runtime: the test holds the park inside Done
				}}
				msg := panicOf(func() { lockErr.Store(fmt.Sprint(l.Lock(pc))) })
				if msg != "" {
					return fmt.Errorf("Lock granted before its ctx's Done panicked: panic %q, want it to return nil", msg)
				}
				if !l.Available(ctx) || l.Stats().Owner != tock.TaskID(ctx) {
					return fmt.Errorf("the granted waiter does not own the lock: %+v", l.Stats())
				}
				l.Unlock(ctx)
				return nil
			})
			<-entered     //tockvet:ignore the real runtime: the waiter is queued and in its park's Done
			l.Unlock(ctx) // grants the waiter
			close(release)
			if err := g.Wait(); err != nil {
				return err
			}
			if s := lockErr.Load(); s != "<nil>" {
				return fmt.Errorf("Lock returned %v, want nil", s)
			}
			if st := l.Stats(); st.Locked || st.Waiting != 0 {
				return fmt.Errorf("at the end: %+v, want free and nobody waiting", st)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A granter asks a waiter's ctx whether it gave up, with the primitive's
// mutex held: a panic in that ctx's Err is recovered there, the waiter
// counts as live and is granted. Before, the owner's Unlock panicked with
// the Lock's mutex held, and every later call on the lock hung.
func TestCtxErrPanicsInGranter(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		var l tock.Lock
		l.Lock(ctx)
		var boom atomic.Bool
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			if err := l.Lock(&panickyCtx{Context: ctx, nilDone: true, errBoom: &boom}); err != nil {
				return fmt.Errorf("the waiter's Lock: %v, want nil", err)
			}
			l.Unlock(ctx)
			return nil
		})
		h.WaitUntil(ctx, "the waiter queued", func() bool { return l.Stats().Waiting == 1 })
		boom.Store(true)
		msg := panicOf(func() { l.Unlock(ctx) })
		boom.Store(false)
		if msg != "" {
			return fmt.Errorf("the owner's Unlock panicked: %q", msg)
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if err := l.Lock(ctx); err != nil {
			return err
		}
		l.Unlock(ctx)
		return nil
	})
}

// A Select whose ctx's Done panics in its park: every case leaves its
// queue before the panic goes on, so an item put afterwards is not handed
// to the dead Select (before, it was, and was lost).
func TestCtxDonePanicsInSelect(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		var q tock.Queue[int]
		var ev tock.Event
		g := tock.NewGroup(ctx)
		var got atomic.Value
		g.Go(func(ctx context.Context) error {
			got.Store(panicOf(func() {
				tock.Select(&panickyCtx{Context: ctx, doneBoom: true}, tock.OnGet(&q, nil), tock.OnEvent(&ev, nil))
			}))
			return nil
		})
		if err := g.Wait(); err != nil {
			return err
		}
		if s, _ := got.Load().(string); s != "panickyCtx.Done" {
			return fmt.Errorf("Select with a ctx whose Done panics: panic %q, want panickyCtx.Done", s)
		}
		if err := q.Put(ctx, 7); err != nil {
			return err
		}
		if n := q.Len(); n != 1 {
			return fmt.Errorf("after a Put the queue holds %d items, want 1 (the item went to the dead Select)", n)
		}
		if v, err := q.Get(ctx); v != 7 || err != nil {
			return fmt.Errorf("Get: %d, %v, want 7, nil", v, err)
		}
		return nil
	})
}

// A Condition.Wait whose ctx's Done panics in its park: the waiter leaves
// the condition's queue, and the lock (released by Wait) can be taken.
func TestCtxDonePanicsInConditionWait(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		c := tock.NewCondition(nil)
		g := tock.NewGroup(ctx)
		var got atomic.Value
		g.Go(func(ctx context.Context) error {
			c.Lock(ctx)
			got.Store(panicOf(func() { c.Wait(&panickyCtx{Context: ctx, doneBoom: true}) }))
			if c.Stats().Lock.Owner == tock.TaskID(ctx) {
				c.Unlock(ctx)
			}
			return nil
		})
		if err := g.Wait(); err != nil {
			return err
		}
		if s, _ := got.Load().(string); s != "panickyCtx.Done" {
			return fmt.Errorf("Condition.Wait with a ctx whose Done panics: panic %q, want panickyCtx.Done", s)
		}
		if st := c.Stats(); st.Waiting != 0 || st.Lock.Waiting != 0 || st.Lock.Locked {
			return fmt.Errorf("after the panic: %+v, want nobody waiting and the lock free", st)
		}
		return c.Lock(ctx)
	})
}

// panicWhenPolled runs wait in a task of its own with a ctx of the user's
// own type whose Done is its own (so the simulation polls its Err after
// every step), waits until queued holds, makes that Err panic for one step,
// and returns the panic the wait raised (its message) once the task ended.
func panicWhenPolled(ctx context.Context, h *H, wait func(ctx context.Context), queued func() bool) (string, error) {
	var boom atomic.Bool
	var got atomic.Value
	g := tock.NewGroup(ctx)
	g.Go(func(ctx context.Context) error {
		own := make(chan struct{}) // a Done of the ctx's own: polled
		got.Store(panicOf(func() { wait(&ownDonePanicky{panickyCtx{Context: ctx, errBoom: &boom}, own}) }))
		return nil
	})
	h.WaitUntil(ctx, "the waiter queued", queued)
	boom.Store(true)
	tock.Yield(ctx) // a step: the poll
	err := g.Wait()
	boom.Store(false)
	s, _ := got.Load().(string)
	return s, err
}

// In a simulation a waiter's ctx whose cancellation is not the
// simulation's own is polled after every step; a panic in its Err there
// reaches the waiting task (its wait ends with the panic, its waiter out
// of the queue), not the scheduler.
func TestCtxErrPanicsWhenPolled(t *testing.T) {
	err := within(t, "the simulation", func() error {
		_, err := runSim(func(ctx context.Context, h *H) error {
			var l tock.Lock
			l.Lock(ctx)
			s, err := panicWhenPolled(ctx, h, func(ctx context.Context) { l.Lock(ctx) },
				func() bool { return l.Stats().Waiting == 1 })
			if err != nil {
				return err
			}
			if s != "panickyCtx.Err" {
				return fmt.Errorf("Lock whose polled ctx's Err panics: panic %q, want panickyCtx.Err", s)
			}
			if st := l.Stats(); st.Waiting != 0 {
				return fmt.Errorf("after the panic %d waiters are queued, want 0", st.Waiting)
			}
			l.Unlock(ctx)
			if l.Locked() {
				return fmt.Errorf("the lock is held after its owner's Unlock")
			}
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ownDonePanicky is a panickyCtx with a Done channel of its own.
type ownDonePanicky struct {
	panickyCtx
	done chan struct{}
}

func (c *ownDonePanicky) Done() <-chan struct{} { return c.done }

// In a simulation a context made over a ctx whose cancellation is not the
// simulation's own (tock.WithTimeout over a ctx of the user's own type
// with a Done of its own) polls that ctx's Err after every step: a panic
// there is recovered, and the context counts as not cancelled (the ctx's
// owner meets the panic at its own next call), instead of killing the
// scheduler.
func TestCtxErrPanicsInForeignParentPoll(t *testing.T) {
	err := within(t, "the simulation", func() error {
		_, err := runSim(func(ctx context.Context, h *H) error {
			var boom atomic.Bool
			parent := &ownDonePanicky{panickyCtx{Context: ctx, errBoom: &boom}, make(chan struct{})}
			c, cancel := tock.WithTimeout(parent, time.Hour)
			defer cancel()
			boom.Store(true)
			err := tock.Sleep(ctx, time.Second) // steps: each polls parent
			boom.Store(false)
			if err != nil {
				return err
			}
			if err := c.Err(); err != nil {
				return fmt.Errorf("the context over the panicking parent: %v, want nil (not cancelled)", err)
			}
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// valuePanicky is a ctx of the user's own type with a Done of its own,
// done once done is closed, whose Value panics while boom is set.
type valuePanicky struct {
	context.Context
	done chan struct{}
	boom *atomic.Bool
}

func (c *valuePanicky) Done() <-chan struct{} { return c.done }
func (c *valuePanicky) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}
func (c *valuePanicky) Value(key any) any {
	if c.boom.Load() {
		panic("valuePanicky.Value")
	}
	return c.Context.Value(key)
}

// In a simulation, a context over a foreign ctx that the loop's poll finds
// done is cancelled with the ctx's error and its cause (context.Cause asks
// the ctx's Value): a panic of Value there is recovered, and the cause is
// the error (before, the scheduler's goroutine panicked).
func TestCtxValuePanicsInForeignParentCause(t *testing.T) {
	err := within(t, "the simulation", func() error {
		_, err := runSim(func(ctx context.Context, h *H) error {
			var boom atomic.Bool
			parent := &valuePanicky{ctx, make(chan struct{}), &boom}
			c, cancel := tock.WithTimeout(parent, time.Hour)
			defer cancel()
			boom.Store(true)
			close(parent.done)
			err := tock.Sleep(ctx, time.Second) // steps: each polls parent
			boom.Store(false)
			if err != nil {
				return err
			}
			if err := c.Err(); err != context.Canceled {
				return fmt.Errorf("the context over the cancelled parent: Err %v, want context.Canceled", err)
			}
			if cause := context.Cause(c); cause != context.Canceled {
				return fmt.Errorf("the context over the cancelled parent: cause %v, want context.Canceled", cause)
			}
			return nil
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// stopPanicsCtx is a ctx of the user's own type, with a Done of its own
// (never closed) and an AfterFunc method whose stop func panics: a real
// task that parks with it again and again gets a watcher registered
// through that method (context.AfterFunc calls it, the Done being no
// standard-library context's), and the task's end stops it.
type stopPanicsCtx struct {
	context.Context
	done  chan struct{}
	stops *atomic.Int32
}

func (c stopPanicsCtx) Done() <-chan struct{} { return c.done }
func (c stopPanicsCtx) Err() error            { return nil }

func (c stopPanicsCtx) AfterFunc(f func()) func() bool {
	return func() bool {
		c.stops.Add(1)
		panic("stopPanicsCtx stop")
	}
}

// A group task whose derived ctx's AfterFunc stop panics when the task
// ends: the panic reaches Wait as the task's *PanicError (before, it was
// raised on the task's goroutine after the group had recorded the task,
// and ended the process). Go and Start tasks that return, a task that ends
// by runtime.Goexit (the stop's panic still reaches Wait), and one that
// panics itself (its own panic reaches Wait, and the stop is still called);
// tock.Run's main task likewise (Run panics with the stop's *PanicError).
func TestCtxAfterFuncStopPanicsAtTaskEnd(t *testing.T) {
	checkLeaks(t)
	for _, how := range []string{"Go", "Start", "Goexit", "panic", "Run"} {
		t.Run(how, func(t *testing.T) {
			var stops atomic.Int32
			var r any
			err := within(t, "Wait", func() error {
				defer func() { r = recover() }()
				g := tock.NewGroup(context.Background())
				q := tock.NewQueue[int]()
				worker := func(ctx context.Context) error {
					uctx := stopPanicsCtx{ctx, make(chan struct{}), &stops}
					for range 20 {
						if _, err := q.Get(uctx); err != nil {
							return err
						}
					}
					switch how {
					case "Goexit":
						runtime.Goexit()
					case "panic":
						panic("the task's own")
					}
					return nil
				}
				producer := func(ctx context.Context) error {
					for range 20 {
						for q.Waiting() == 0 {
							runtime.Gosched() // the worker parks (a state that does not lapse)
						}
						if err := q.Put(ctx, 1); err != nil {
							return err
						}
					}
					return nil
				}
				switch how {
				case "Run": // tock.Run's main task is the worker
					return tock.Run(context.Background(), func(ctx context.Context) error {
						g := tock.NewGroup(ctx)
						g.Go(producer)
						if err := worker(ctx); err != nil {
							return err
						}
						return g.Wait()
					})
				case "Start":
					if err := g.Start(func(ctx context.Context, started func()) error {
						started()
						return worker(ctx)
					}); err != nil {
						return err
					}
				default:
					g.Go(worker)
				}
				g.Go(producer)
				return g.Wait()
			})
			if err != nil {
				t.Fatalf("Wait returned %v; want it to panic", err)
			}
			pe, ok := r.(*tock.PanicError)
			if !ok {
				t.Fatalf("Wait panicked with %T %v; want a *tock.PanicError", r, r)
			}
			want := "stopPanicsCtx stop"
			if how == "panic" {
				want = "the task's own"
			}
			if fmt.Sprint(pe.Value) != want {
				t.Fatalf("PanicError.Value = %v; want %q", pe.Value, want)
			}
			if stops.Load() != 1 {
				t.Fatalf("stop called %d times; want 1", stops.Load())
			}
		})
	}
}

// tock.Sleep with a ctx whose Done panics raises that panic, with its
// value, from the call under both runtimes: in a simulation whether or not
// the sleeper is the next event (before, the simulation returned it as an
// error when another task was runnable, and slept through without asking
// the ctx when it was alone), and the simulation goes on. A ctx whose
// Deadline panics likewise in a simulation, which asks it (a deadline of
// the wall clock is refused there); the real runtime sleeps without asking.
func TestCtxPanicsInSleep(t *testing.T) {
	for _, c := range []struct {
		name, want string
		make       func(ctx context.Context) context.Context
	}{
		{"Done", "panickyCtx.Done", func(ctx context.Context) context.Context {
			return &panickyCtx{Context: ctx, doneBoom: true}
		}},
		{"Deadline", "deadlinePanicky.Deadline", func(ctx context.Context) context.Context {
			return deadlinePanicky{ctx}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
				if c.name == "Deadline" && !tock.Simulated(ctx) {
					return nil
				}
				for _, alone := range []bool{true, false} {
					g := tock.NewGroup(ctx)
					if !alone { // runnable again when the sleeper parks
						g.Go(func(ctx context.Context) error { return tock.Yield(ctx) })
					}
					g.Go(func(ctx context.Context) error {
						defer func() {
							r := recover()
							if fmt.Sprint(r) != c.want {
								t.Errorf("alone %v: Sleep panicked with %v; want %q", alone, r, c.want)
							}
						}()
						err := tock.Sleep(c.make(ctx), h.U(1))
						t.Errorf("alone %v: Sleep returned %v; want a panic", alone, err)
						return nil
					})
					if err := g.Wait(); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
}

// deadlinePanicky is a ctx whose Deadline panics and whose Done is nil
// (never done).
type deadlinePanicky struct{ context.Context }

func (deadlinePanicky) Deadline() (time.Time, bool) { panic("deadlinePanicky.Deadline") }
func (deadlinePanicky) Done() <-chan struct{}       { return nil }
