package tock_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tockgo/tock"
)

// The tests of this file check the memory-model sentence of each doc
// comment ("X synchronizes before Y returns") the way the race detector
// sees it: one task writes a plain variable and then makes the releasing
// call, another makes the acquiring call and then reads the variable, and
// nothing else orders the two. The writer is the parent task: it makes the
// primitive (holding it, if the case needs that) and starts the reader
// with Group.Go before it writes, so Go's edge does not cover the write,
// and Group.Wait, the only other edge, comes after it. Without the
// promised edge, go test -race reports a DATA RACE; without -race, the
// read still checks that the acquiring call returned after the write.
// They run on the real runtime: a simulation runs one task at a time, and
// the race detector sees every step of it ordered anyway.

// syncCase is one promised edge: make, run by the writer (the parent task)
// before it starts the reader, makes the primitive and returns the two
// calls; take must not be able to return before give has been called.
type syncCase struct {
	name string
	make func(ctx context.Context) (handOff, error)
}

type handOff struct {
	give func(ctx context.Context) error // the writer's releasing call, after its write
	take func(ctx context.Context) error // the reader's acquiring call, before its read
	// readerCtx, if not nil, is the context the reader's group is made
	// with (derived from the writer's); else the writer's own ctx.
	readerCtx context.Context
}

// checkSyncBefore runs each case as a subtest, bounded by within.
func checkSyncBefore(t *testing.T, cases []syncCase) {
	t.Helper()
	checkLeaks(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var x int // the plain variable: no atomic, no lock of the test's own
			err := within(t, c.name, func() error {
				return tock.Run(context.Background(), func(ctx context.Context) error {
					h, err := c.make(ctx)
					if err != nil {
						return err
					}
					rctx := ctx
					if h.readerCtx != nil {
						rctx = h.readerCtx
					}
					g := tock.NewGroup(rctx)
					g.Go(func(ctx context.Context) error {
						if err := h.take(ctx); err != nil {
							return fmt.Errorf("the acquiring call: %w", err)
						}
						return readOne(x)
					})
					x = 1
					if err := h.give(ctx); err != nil {
						g.Cancel()
						g.Wait()
						return fmt.Errorf("the releasing call: %w", err)
					}
					return g.Wait()
				})
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// retried repeats try, a Try call, until it succeeds.
func retried(what string, try func() bool) func(ctx context.Context) error {
	return func(ctx context.Context) error { return untilState(ctx, what, try) }
}

// whenQueued is give after the reader is queued (queued holds), so that give
// hands over to a parked waiter rather than to a later call.
func whenQueued(queued func() bool, give func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := untilState(ctx, "the reader is queued", queued); err != nil {
			return err
		}
		return give(ctx)
	}
}

// fails is nil if err is want: the acquiring call is one that a close
// makes fail.
func fails(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	return fmt.Errorf("got %v, want %v", err, want)
}

// closes is the hand-off of a close: give calls close, and take is call,
// which must fail with want.
func closes(close func(), call func(ctx context.Context) error, want error) handOff {
	return handOff{
		give: func(context.Context) error { close(); return nil },
		take: func(ctx context.Context) error { return fails(call(ctx), want) },
	}
}

// untilFails repeats call, a Put that succeeds until a close, and returns
// its first error.
func untilFails(call func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var err error
		if e := untilState(ctx, "a failure", func() bool { err = call(ctx); return err != nil }); e != nil {
			return e
		}
		return err
	}
}

// must is nil if ok: a Try call that must succeed.
func must(what string, ok bool) error {
	if ok {
		return nil
	}
	return errors.New(what + " failed")
}

func TestSyncBeforeLock(t *testing.T) {
	checkSyncBefore(t, []syncCase{
		{"Unlock→TryLock", func(ctx context.Context) (handOff, error) {
			l := &tock.Lock{}
			return handOff{
				give: func(ctx context.Context) error { l.Unlock(ctx); return nil },
				take: func(ctx context.Context) error {
					if err := untilState(ctx, "TryLock", func() bool { return l.TryLock(ctx) }); err != nil {
						return err
					}
					l.Unlock(ctx)
					return nil
				},
			}, l.Lock(ctx)
		}},
	})
}

func TestSyncBeforeSemaphore(t *testing.T) {
	checkSyncBefore(t, []syncCase{
		{"Release→TryAcquire", func(ctx context.Context) (handOff, error) {
			s := tock.NewSemaphore(0)
			return handOff{
				give: func(context.Context) error { s.Release(); return nil },
				take: retried("TryAcquire", s.TryAcquire),
			}, nil
		}},
	})
}

func TestSyncBeforeCapacityLimiter(t *testing.T) {
	// held is a limiter of one token, which the writer holds as itself.
	held := func(ctx context.Context) (*tock.CapacityLimiter, error) {
		l := tock.NewCapacityLimiter(1)
		return l, l.Acquire(ctx)
	}
	// heldFor is a limiter of one token, held by the borrower "writer".
	heldFor := func() *tock.CapacityLimiter {
		l := tock.NewCapacityLimiter(1)
		l.TryAcquireFor("writer")
		return l
	}
	release := func(l *tock.CapacityLimiter) func(ctx context.Context) error {
		return func(ctx context.Context) error { l.Release(ctx); return nil }
	}
	releaseFor := func(l *tock.CapacityLimiter) func(context.Context) error {
		return func(context.Context) error { l.ReleaseFor("writer"); return nil }
	}
	raise := func(l *tock.CapacityLimiter) func(context.Context) error {
		return func(context.Context) error { l.SetTotal(1); return nil }
	}
	acquire := func(l *tock.CapacityLimiter) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			if err := l.Acquire(ctx); err != nil {
				return err
			}
			l.Release(ctx)
			return nil
		}
	}
	tryAcquire := func(l *tock.CapacityLimiter) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			if err := untilState(ctx, "TryAcquire", func() bool { return l.TryAcquire(ctx) }); err != nil {
				return err
			}
			l.Release(ctx)
			return nil
		}
	}
	waiting := func(l *tock.CapacityLimiter) func() bool {
		return func() bool { return l.Stats().Waiting == 1 }
	}
	checkSyncBefore(t, []syncCase{
		{"Release→Acquire", func(ctx context.Context) (handOff, error) {
			l, err := held(ctx)
			return handOff{give: release(l), take: acquire(l)}, err
		}},
		{"Release→Acquire, queued", func(ctx context.Context) (handOff, error) {
			l, err := held(ctx)
			return handOff{give: whenQueued(waiting(l), release(l)), take: acquire(l)}, err
		}},
		{"Release→TryAcquire", func(ctx context.Context) (handOff, error) {
			l, err := held(ctx)
			return handOff{give: release(l), take: tryAcquire(l)}, err
		}},
		{"Release→Select OnBorrow, queued", func(ctx context.Context) (handOff, error) {
			l, err := held(ctx)
			return handOff{give: whenQueued(waiting(l), release(l)), take: func(ctx context.Context) error {
				if _, err := tock.Select(ctx, tock.OnBorrow(l, nil)); err != nil {
					return err
				}
				l.Release(ctx)
				return nil
			}}, err
		}},
		{"ReleaseFor→AcquireFor, queued", func(ctx context.Context) (handOff, error) {
			l := heldFor()
			return handOff{give: whenQueued(waiting(l), releaseFor(l)), take: func(ctx context.Context) error {
				if err := l.AcquireFor(ctx, "reader"); err != nil {
					return err
				}
				l.ReleaseFor("reader")
				return nil
			}}, nil
		}},
		{"ReleaseFor→TryAcquireFor", func(context.Context) (handOff, error) {
			l := heldFor()
			return handOff{give: releaseFor(l), take: retried("TryAcquireFor", func() bool { return l.TryAcquireFor("reader") })}, nil
		}},
		{"SetTotal→Acquire", func(context.Context) (handOff, error) {
			l := tock.NewCapacityLimiter(0)
			return handOff{give: raise(l), take: acquire(l)}, nil
		}},
		{"SetTotal→Acquire, queued", func(context.Context) (handOff, error) {
			l := tock.NewCapacityLimiter(0)
			return handOff{give: whenQueued(waiting(l), raise(l)), take: acquire(l)}, nil
		}},
		{"SetTotal→TryAcquire", func(context.Context) (handOff, error) {
			l := tock.NewCapacityLimiter(0)
			return handOff{give: raise(l), take: tryAcquire(l)}, nil
		}},
	})
}

func TestSyncBeforePriorityLimiter(t *testing.T) {
	// held is a limiter of one token, which the writer holds.
	held := func(ctx context.Context) (*tock.PriorityLimiter, func(context.Context) error, error) {
		l := tock.NewPriorityLimiter(1)
		p, err := l.Acquire(ctx, 0)
		return l, func(context.Context) error { p.Release(); return nil }, err
	}
	acquire := func(l *tock.PriorityLimiter) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			p, err := l.Acquire(ctx, 0)
			if err != nil {
				return err
			}
			p.Release()
			return nil
		}
	}
	checkSyncBefore(t, []syncCase{
		{"Permit.Release→Acquire", func(ctx context.Context) (handOff, error) {
			l, release, err := held(ctx)
			return handOff{give: release, take: acquire(l)}, err
		}},
		{"Permit.Release→Acquire, queued", func(ctx context.Context) (handOff, error) {
			l, release, err := held(ctx)
			queued := func() bool { return l.Stats().Waiting == 1 }
			return handOff{give: whenQueued(queued, release), take: acquire(l)}, err
		}},
		{"Permit.Release→TryAcquire", func(ctx context.Context) (handOff, error) {
			l, release, err := held(ctx)
			return handOff{give: release, take: func(ctx context.Context) error {
				var p *tock.Permit
				err := untilState(ctx, "TryAcquire", func() bool {
					var ok bool
					p, ok = l.TryAcquire(ctx, 0)
					return ok
				})
				if err == nil {
					p.Release()
				}
				return err
			}}, err
		}},
	})
}

func TestSyncBeforeContainer(t *testing.T) {
	// Each call is made on a container of capacity 1.
	type call = func(c *tock.Container) func(ctx context.Context) error
	put := func(c *tock.Container) func(ctx context.Context) error {
		return func(ctx context.Context) error { return c.Put(ctx, 1) }
	}
	get := func(c *tock.Container) func(ctx context.Context) error {
		return func(ctx context.Context) error { return c.Get(ctx, 1) }
	}
	// try is a Try call: retried until it succeeds, or made once (it must
	// succeed) after the reader is queued (waiting is 1).
	type try struct {
		name    string
		f       func(c *tock.Container, amount float64) bool
		waiting func(s tock.ContainerStats) int
	}
	tryPut := try{"TryPut", (*tock.Container).TryPut, func(s tock.ContainerStats) int { return s.WaitingGets }}
	tryGet := try{"TryGet", (*tock.Container).TryGet, func(s tock.ContainerStats) int { return s.WaitingPuts }}
	retry := func(tr try) call {
		return func(c *tock.Container) func(ctx context.Context) error {
			return retried(tr.name, func() bool { return tr.f(c, 1) })
		}
	}
	queued := func(tr try) call {
		return func(c *tock.Container) func(ctx context.Context) error {
			return whenQueued(func() bool { return tr.waiting(c.Stats()) == 1 }, func(context.Context) error {
				return must(tr.name, tr.f(c, 1))
			})
		}
	}
	getQueued := func(c *tock.Container) func(ctx context.Context) error {
		return whenQueued(func() bool { return c.Stats().WaitingPuts == 1 }, get(c))
	}
	var cases []syncCase
	for _, r := range []struct {
		name       string
		initial    float64
		give, take call
	}{
		{"Get→Put", 1, get, put},
		{"Get→Put, queued", 1, getQueued, put},
		{"Get→TryPut", 1, get, retry(tryPut)},
		{"TryGet→Put, queued", 1, queued(tryGet), put},
		{"Put→TryGet", 0, put, retry(tryGet)},
		{"TryPut→Get, queued", 0, queued(tryPut), get},
	} {
		cases = append(cases, syncCase{r.name, func(context.Context) (handOff, error) {
			c := tock.NewContainer(1, r.initial)
			return handOff{give: r.give(c), take: r.take(c)}, nil
		}})
	}
	checkSyncBefore(t, cases)
}

func TestSyncBeforeStream(t *testing.T) {
	type call = func(s *tock.SendStream[int], r *tock.ReceiveStream[int]) func(ctx context.Context) error
	send := func(s *tock.SendStream[int], _ *tock.ReceiveStream[int]) func(ctx context.Context) error {
		return func(ctx context.Context) error { return s.Send(ctx, 1) }
	}
	receive := func(_ *tock.SendStream[int], r *tock.ReceiveStream[int]) func(ctx context.Context) error {
		return func(ctx context.Context) error { _, err := r.Receive(ctx); return err }
	}
	trySend := func(s *tock.SendStream[int], _ *tock.ReceiveStream[int]) func(ctx context.Context) error {
		return func(context.Context) error { return s.TrySend(1) }
	}
	retrySend := func(s *tock.SendStream[int], _ *tock.ReceiveStream[int]) func(ctx context.Context) error {
		return retried("TrySend", func() bool { return s.TrySend(1) == nil })
	}
	retryReceive := func(_ *tock.SendStream[int], r *tock.ReceiveStream[int]) func(ctx context.Context) error {
		return retried("TryReceive", func() bool { _, err := r.TryReceive(); return err == nil })
	}
	queuedReceive := func(s *tock.SendStream[int], r *tock.ReceiveStream[int]) func(ctx context.Context) error {
		return whenQueued(func() bool { return s.Stats().WaitingSend == 1 }, receive(s, r))
	}
	closeSend := func(s *tock.SendStream[int], _ *tock.ReceiveStream[int]) func(ctx context.Context) error {
		return func(context.Context) error { s.Close(); return nil }
	}
	closeReceive := func(_ *tock.SendStream[int], r *tock.ReceiveStream[int]) func(ctx context.Context) error {
		return func(context.Context) error { r.Close(); return nil }
	}
	failing := func(c call, want error) call {
		return func(s *tock.SendStream[int], r *tock.ReceiveStream[int]) func(ctx context.Context) error {
			return func(ctx context.Context) error { return fails(c(s, r)(ctx), want) }
		}
	}
	var cases []syncCase
	for _, c := range []struct {
		name       string
		buffer     int
		full       bool // the writer fills the buffer first
		give, take call
	}{
		{"Receive→Send, no buffer", 0, false, receive, send},
		{"Receive→Send, full buffer, queued", 1, true, queuedReceive, send},
		{"TryReceive→Send, no buffer", 0, false, retryReceive, send},
		{"Receive→TrySend", 1, true, receive, retrySend},
		{"Send→TryReceive", 1, false, send, retryReceive},
		{"TrySend→Receive", 1, false, trySend, receive},
		{"SendStream.Close→Receive", 0, false, closeSend, failing(receive, tock.ErrEndOfStream)},
		{"SendStream.Close→Send on it", 0, false, closeSend, failing(send, tock.ErrClosedResource)},
		{"ReceiveStream.Close→Send", 0, false, closeReceive, failing(send, tock.ErrBrokenResource)},
		{"ReceiveStream.Close→Receive on it", 0, false, closeReceive, failing(receive, tock.ErrClosedResource)},
	} {
		cases = append(cases, syncCase{c.name, func(ctx context.Context) (handOff, error) {
			s, r := tock.NewStream[int](c.buffer)
			var err error
			if c.full {
				err = s.Send(ctx, 0)
			}
			return handOff{give: c.give(s, r), take: c.take(s, r)}, err
		}})
	}
	checkSyncBefore(t, cases)
}

func TestSyncBeforeQueue(t *testing.T) {
	less := func(a, b int) bool { return a < b }
	anything := func(int) bool { return true }
	put := func(q *tock.Queue[int]) func(ctx context.Context) error {
		return func(ctx context.Context) error { return q.Put(ctx, 1) }
	}
	getWhere := func(q *tock.Queue[int]) func(ctx context.Context) error {
		return func(ctx context.Context) error { _, err := q.GetWhere(ctx, anything); return err }
	}
	get := func(q *tock.Queue[int]) func(ctx context.Context) error {
		return func(ctx context.Context) error { _, err := q.Get(ctx); return err }
	}
	checkSyncBefore(t, []syncCase{
		{"Put→GetWhere", func(context.Context) (handOff, error) {
			q := tock.NewQueue[int]()
			return handOff{give: put(q), take: getWhere(q)}, nil
		}},
		{"Put→GetWhere, queued", func(context.Context) (handOff, error) {
			q := tock.NewQueue[int]()
			return handOff{give: whenQueued(func() bool { return q.Waiting() == 1 }, put(q)), take: getWhere(q)}, nil
		}},
		{"Put→Get, priority queue", func(context.Context) (handOff, error) {
			q := tock.NewPriorityQueue(less)
			return handOff{give: put(q), take: get(q)}, nil
		}},
		{"Put→GetWhere, priority queue", func(context.Context) (handOff, error) {
			q := tock.NewPriorityQueue(less)
			return handOff{give: put(q), take: getWhere(q)}, nil
		}},
		{"Close→Get", func(context.Context) (handOff, error) {
			q := tock.NewQueue[int]()
			return closes(q.Close, get(q), tock.ErrStreamClosed), nil
		}},
		{"Close→GetWhere", func(context.Context) (handOff, error) {
			q := tock.NewQueue[int]()
			return closes(q.Close, getWhere(q), tock.ErrStreamClosed), nil
		}},
		{"Close→Put", func(context.Context) (handOff, error) {
			q := tock.NewQueue[int]()
			return closes(q.Close, untilFails(put(q)), tock.ErrStreamClosed), nil
		}},
	})
}

func TestSyncBeforeChannel(t *testing.T) {
	subReceive := func(s *tock.Subscription[int]) func(ctx context.Context) error {
		return func(ctx context.Context) error { _, err := s.Receive(ctx); return err }
	}
	checkSyncBefore(t, []syncCase{
		{"Close→Receive", func(context.Context) (handOff, error) {
			c := tock.NewChannel[int]()
			return closes(c.Close, func(ctx context.Context) error { _, err := c.Receive(ctx); return err }, tock.ErrStreamClosed), nil
		}},
		{"Close→Subscription.Receive", func(context.Context) (handOff, error) {
			c := tock.NewChannel[int]()
			return closes(c.Close, subReceive(c.Subscribe()), tock.ErrStreamClosed), nil
		}},
		{"Close→Put", func(context.Context) (handOff, error) {
			c := tock.NewChannel[int]()
			return closes(c.Close, untilFails(func(ctx context.Context) error { return c.Put(ctx, 1) }), tock.ErrStreamClosed), nil
		}},
		{"Subscription.Close→Receive", func(context.Context) (handOff, error) {
			s := tock.NewChannel[int]().Subscribe()
			return closes(s.Close, subReceive(s), tock.ErrStreamClosed), nil
		}},
	})
}

func TestSyncBeforeResourceGuard(t *testing.T) {
	checkSyncBefore(t, []syncCase{
		{"Exit→Enter", func(context.Context) (handOff, error) {
			g := tock.NewResourceGuard("")
			return handOff{
				give: func(context.Context) error { g.Exit(); return nil },
				take: func(ctx context.Context) error {
					if err := untilState(ctx, "Enter", func() bool { return g.Enter() == nil }); err != nil {
						return err
					}
					g.Exit()
					return nil
				},
			}, g.Enter()
		}},
	})
}

func TestSyncBeforeCancel(t *testing.T) {
	// sleep is the reader's wait that only the cancellation ends early.
	sleep := func(ctx context.Context) error { return fails(tock.Sleep(ctx, 10*time.Second), context.Canceled) }
	checkSyncBefore(t, []syncCase{
		{"WithCancel→Sleep", func(ctx context.Context) (handOff, error) {
			cctx, cancel := tock.WithCancel(ctx)
			return handOff{give: func(context.Context) error { cancel(); return nil }, take: sleep, readerCtx: cctx}, nil
		}},
		{"WithCancel→Event.Wait", func(ctx context.Context) (handOff, error) {
			cctx, cancel := tock.WithCancel(ctx)
			var e tock.Event // never set
			return handOff{give: func(context.Context) error { cancel(); return nil }, take: func(ctx context.Context) error {
				return fails(e.Wait(ctx), context.Canceled)
			}, readerCtx: cctx}, nil
		}},
		{"WithTimeout's cancel→Sleep", func(ctx context.Context) (handOff, error) {
			cctx, cancel := tock.WithTimeout(ctx, time.Hour)
			return handOff{give: func(context.Context) error { cancel(); return nil }, take: sleep, readerCtx: cctx}, nil
		}},
	})
}

// TestSyncBeforeGroup checks Group's edges, which are not a call pair of
// one primitive: Go before the task's start, a task's end before Wait
// returns, started (or the task's end) before Start returns, Cancel before
// the waits it ends. Each case writes and reads x in the tasks it starts.
func TestSyncBeforeGroup(t *testing.T) {
	checkLeaks(t)
	for _, c := range []struct {
		name string
		run  func(ctx context.Context, x *int) error
	}{
		{"Go", func(ctx context.Context, x *int) error {
			g := tock.NewGroup(ctx)
			*x = 1
			g.Go(func(context.Context) error { return readOne(*x) })
			return g.Wait()
		}},
		{"Wait", func(ctx context.Context, x *int) error {
			g := tock.NewGroup(ctx)
			g.Go(func(context.Context) error { *x = 1; return nil })
			if err := g.Wait(); err != nil {
				return err
			}
			return readOne(*x)
		}},
		{"Wait, a task started by a task", func(ctx context.Context, x *int) error {
			g := tock.NewGroup(ctx)
			g.Go(func(context.Context) error {
				g.Go(func(context.Context) error { *x = 1; return nil })
				return nil
			})
			if err := g.Wait(); err != nil {
				return err
			}
			return readOne(*x)
		}},
		{"Wait, a failed task", func(ctx context.Context, x *int) error {
			g := tock.NewGroup(ctx)
			failed := errors.New("failed")
			g.Go(func(context.Context) error { *x = 1; return failed })
			if err := fails(g.Wait(), failed); err != nil {
				return err
			}
			return readOne(*x)
		}},
		{"Wait, a panicking task", func(ctx context.Context, x *int) error {
			g := tock.NewGroup(ctx)
			g.Go(func(context.Context) error { *x = 1; panic("task panics") })
			var pe *tock.PanicError
			func() {
				defer func() { pe, _ = recover().(*tock.PanicError) }()
				g.Wait()
			}()
			if pe == nil {
				return errors.New("Wait did not panic with a *PanicError")
			}
			return readOne(*x)
		}},
		{"Start", func(ctx context.Context, x *int) error {
			g := tock.NewGroup(ctx)
			err := g.Start(func(ctx context.Context, started func()) error {
				*x = 1
				started()
				tock.Sleep(ctx, 10*time.Second) // until the Cancel below
				return nil
			})
			if err == nil {
				err = readOne(*x)
			}
			g.Cancel()
			return errors.Join(err, g.Wait())
		}},
		{"Start, a task that ends unstarted", func(ctx context.Context, x *int) error {
			g := tock.NewGroup(ctx)
			unstarted := errors.New("unstarted")
			err := fails(g.Start(func(context.Context, func()) error { *x = 1; return unstarted }), unstarted)
			if err == nil {
				err = readOne(*x)
			}
			return errors.Join(err, g.Wait())
		}},
		{"Cancel", func(ctx context.Context, x *int) error {
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				if err := fails(tock.Sleep(ctx, 10*time.Second), context.Canceled); err != nil {
					return err
				}
				return readOne(*x)
			})
			g.Go(func(context.Context) error { *x = 1; g.Cancel(); return nil })
			return g.Wait()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var x int
			err := within(t, c.name, func() error {
				return tock.Run(context.Background(), func(ctx context.Context) error { return c.run(ctx, &x) })
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// readOne is nil if x, read after the acquiring step, shows the write.
func readOne(x int) error {
	if x != 1 {
		return errors.New("the acquiring step returned before the write")
	}
	return nil
}
