package tock_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// Adversarial tests of the primitives (issue 12): panics inside callbacks,
// cancellation racing every hand-off, tasks unwound while they wait. Each
// asserts the contract of DESIGN.md: nothing lost or duplicated, no hang, no
// internal mutex left held, nothing left half-queued.

var _ = register(
	scenario{
		// A WaitFor predicate that panics, at the first check and after a
		// notification: the panic reaches the caller with the lock held at
		// its depth (Wait re-acquired it first), nothing stays queued, and
		// the caller's deferred Unlock frees the lock for the others.
		name: "ADV WaitFor predicate panics",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewCondition(nil)
			c.Lock(ctx)
			got := panicOf(func() {
				c.WaitFor(ctx, func() bool { panic("at once") })
			})
			st := c.Stats()
			h.Log(ctx, "first check: %s; mine %v, depth %d, waiting %d", got, st.Lock.Owner == tock.TaskID(ctx), st.Lock.Depth, st.Waiting)
			c.Unlock(ctx)

			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				c.Lock(ctx)
				c.Lock(ctx) // depth 2
				defer c.Unlock(ctx)
				defer c.Unlock(ctx)
				calls := 0
				got := panicOf(func() {
					c.WaitFor(ctx, func() bool {
						if calls++; calls == 2 {
							panic("after a notification")
						}
						return false
					})
				})
				st := c.Stats()
				h.Log(ctx, "second check: %s; mine %v, depth %d, waiting %d", got, st.Lock.Owner == tock.TaskID(ctx), st.Lock.Depth, st.Waiting)
				return nil
			})
			h.WaitUntil(ctx, "waiting", func() bool { return c.Stats().Waiting == 1 })
			c.Lock(ctx)
			c.NotifyAll(ctx)
			c.Unlock(ctx)
			if err := g.Wait(); err != nil {
				return err
			}
			if err := c.Lock(ctx); err != nil {
				return err
			}
			st = c.Stats()
			h.Log(ctx, "lock free again: mine %v, depth %d, waiting %d, queued %d", st.Lock.Owner == tock.TaskID(ctx), st.Lock.Depth, st.Waiting, st.Lock.Waiting)
			c.Unlock(ctx)
			return nil
		},
		sim: `0 first check: at once; mine true, depth 1, waiting 0
			0 second check: after a notification; mine true, depth 2, waiting 0
			0 lock free again: mine true, depth 1, waiting 0, queued 0`,
		ordered: true,
	},
	scenario{
		// A waiter's cancellation racing a Notify(1), both orders. Cancelled
		// first: the notification passes on to the next waiter, and the
		// cancelled one still returns holding the lock. Notified first: the
		// wake-up wins (Wait returns nil), and the next waiter is not woken.
		name: "ADV cancel races Notify",
		body: func(ctx context.Context, h *H) error {
			for _, cancelFirst := range []bool{true, false} {
				c := tock.NewCondition(nil)
				g := tock.NewGroup(ctx)
				var cancelA context.CancelFunc
				wait := func(name string) {
					g.Go(func(ctx context.Context) error {
						if name == "A" {
							ctx, cancelA = tock.WithCancel(ctx)
						}
						c.Lock(ctx)
						defer c.Unlock(ctx)
						err := c.Wait(ctx)
						h.Log(ctx, "cancel first %v: %s: %v, holds the lock %v", cancelFirst, name, err, c.Stats().Lock.Owner == tock.TaskID(ctx))
						return nil
					})
				}
				wait("A")
				h.WaitUntil(ctx, "A waiting", func() bool { return c.Stats().Waiting == 1 })
				wait("B")
				h.WaitUntil(ctx, "B waiting", func() bool { return c.Stats().Waiting == 2 })
				c.Lock(ctx)
				if cancelFirst {
					cancelA()
					c.Notify(ctx, 1)
				} else {
					c.Notify(ctx, 1)
					cancelA()
				}
				left := c.Stats().Waiting
				logged := len(h.Msgs())
				c.Unlock(ctx)
				if left == 1 {
					// B was not notified: wake it now
					h.WaitUntil(ctx, "A done", func() bool { return len(h.Msgs()) > logged })
					c.Lock(ctx)
					h.Log(ctx, "cancel first %v: B still waiting", cancelFirst)
					c.NotifyAll(ctx)
					c.Unlock(ctx)
				}
				g.Wait()
				cancelA()
			}
			return nil
		},
		// Cancelled first, B is queued for the lock at notify time, ahead
		// of A (whose re-acquire queues when it runs); under the real
		// runtime A may queue first, so the lines are compared as a set.
		sim: `0 cancel first true: B: <nil>, holds the lock true
			0 cancel first true: A: context canceled, holds the lock true
			0 cancel first false: A: <nil>, holds the lock true
			0 cancel first false: B still waiting
			0 cancel first false: B: <nil>, holds the lock true`,
	},
)

// Tasks abandoned by the simulation while in Condition.Wait, notified and
// queued for the lock, leave no waiter behind in the condition or in the
// lock. (Tasks abandoned before any notification re-acquire the lock through
// Lock.Lock, whose wait is the shared internal one.)
func TestConditionWaitUnwound(t *testing.T) {
	checkLeaks(t)
	for _, notified := range []bool{false, true} {
		c := tock.NewCondition(nil)
		err := within(t, "sim.Run", func() error {
			return sim.Run(context.Background(), func(ctx context.Context) error {
				g := tock.NewGroup(ctx)
				for i := 0; i < 3; i++ {
					g.Go(func(ctx context.Context) error {
						c.Lock(ctx)
						return c.Wait(ctx)
					})
				}
				tock.Yield(ctx)
				c.Lock(ctx)
				if notified {
					c.NotifyAll(ctx) // all three now queue for the lock main keeps
				}
				return errors.New("main gives up") // the waiters are abandoned
			})
		})
		if err == nil || err.Error() != "main gives up" {
			t.Fatalf("notified %v: Run = %v", notified, err)
		}
		if st := c.Stats(); st.Waiting != 0 || st.Lock.Waiting != 0 {
			t.Fatalf("notified %v: abandoned waiters left queued: %+v", notified, st)
		}
	}
}

// No lost wake-up: producers add items under the lock and Notify(1) each;
// consumers wait for an item with contexts that are cancelled at random
// (retrying on cancellation). A notification that reached a cancelled waiter
// must pass on or be taken, so every item is consumed and every consumer
// sees the end; a lost one leaves a consumer asleep with items left (the
// test then fails on its bound instead of hanging). Every Wait, even a
// cancelled one, returns holding the lock.
func TestConditionNoLostWakeup(t *testing.T) {
	checkLeaks(t)
	const producers, consumers, perProducer = 2, 4, 3000
	c := tock.NewCondition(nil)
	items, done := 0, false
	var consumed, cancelled atomic.Int64
	err := within(t, "producers and consumers", func() error {
		return tock.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			for k := 0; k < consumers; k++ {
				rng := rand.New(rand.NewPCG(uint64(k), 1))
				g.Go(func(ctx context.Context) error {
					c.Lock(ctx)
					defer c.Unlock(ctx)
					for {
						for items == 0 && !done {
							wctx, cancel := ctx, context.CancelFunc(func() {})
							if rng.IntN(4) == 0 {
								wctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(30))*time.Microsecond) //tockvet:ignore real runtime only: a wall-clock timeout racing the wake-up
							}
							err := c.Wait(wctx)
							cancel()
							if c.Stats().Lock.Owner != tock.TaskID(ctx) {
								return fmt.Errorf("Wait returned (%v) without the lock", err)
							}
							if err != nil {
								cancelled.Add(1)
							}
						}
						if items == 0 {
							return nil // done and drained
						}
						items--
						consumed.Add(1)
					}
				})
			}
			pg := tock.NewGroup(ctx)
			for p := 0; p < producers; p++ {
				pg.Go(func(ctx context.Context) error {
					for i := 0; i < perProducer; i++ {
						c.Lock(ctx)
						items++
						c.Notify(ctx, 1)
						c.Unlock(ctx)
						if i%64 == 0 {
							tock.Yield(ctx)
						}
					}
					return nil
				})
			}
			if err := pg.Wait(); err != nil {
				return err
			}
			c.Lock(ctx)
			done = true
			c.NotifyAll(ctx)
			c.Unlock(ctx)
			return g.Wait()
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := consumed.Load(); n != producers*perProducer {
		t.Fatalf("consumed %d of %d items", n, producers*perProducer)
	}
	if st := c.Stats(); st.Waiting != 0 || st.Lock.Waiting != 0 || st.Lock.Locked {
		t.Fatalf("left behind: %+v", st)
	}
	t.Logf("%d waits cancelled", cancelled.Load())
}

// Cancellation at every wait point of Lock, Semaphore, CapacityLimiter and
// Event, on the real runtime: tasks acquire in a loop with contexts that
// time out at random, racing the hand-offs. The exclusion invariants hold
// throughout; at the end every unit and token is back and no waiter is left.
func TestCancelAtEveryWaitPoint(t *testing.T) {
	checkLeaks(t)
	const tasks, rounds = 6, 1500
	var l tock.Lock
	sem := tock.NewSemaphore(2, tock.MaxValue(2))
	lim := tock.NewCapacityLimiter(3)
	var inLock, inSem, inLim, violations atomic.Int32
	var acquired, timedOut atomic.Int64
	err := within(t, "the hammer", func() error {
		return tock.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			var evs [tasks]tock.Event
			for k := 0; k < tasks; k++ {
				rng := rand.New(rand.NewPCG(uint64(k), 2))
				g.Go(func(ctx context.Context) error {
					defer evs[k].Set()
					for i := 0; i < rounds; i++ {
						cctx, cancel := context.WithTimeout(ctx, time.Duration(rng.IntN(40))*time.Microsecond) //tockvet:ignore real runtime only: a wall-clock timeout racing the wake-up
						step := func(err error, inside *atomic.Int32, max int32, release func()) error {
							if err != nil {
								if !errors.Is(err, context.DeadlineExceeded) {
									return err
								}
								timedOut.Add(1)
								return nil
							}
							acquired.Add(1)
							if inside.Add(1) > max {
								violations.Add(1)
							}
							if rng.IntN(2) == 0 {
								tock.Yield(ctx)
							}
							inside.Add(-1)
							release()
							return nil
						}
						var err error
						switch rng.IntN(3) {
						case 0:
							err = step(l.Lock(cctx), &inLock, 1, func() { l.Unlock(ctx) })
						case 1:
							err = step(sem.Acquire(cctx), &inSem, 2, sem.Release)
						case 2:
							err = step(lim.Acquire(cctx), &inLim, 3, func() { lim.Release(ctx) })
						}
						cancel()
						if err != nil {
							return err
						}
						// an Event wait racing its Set (the neighbour's end)
						if i == rounds-1 {
							wctx, cancel := context.WithTimeout(ctx, time.Duration(rng.IntN(40))*time.Microsecond) //tockvet:ignore real runtime only: a wall-clock timeout racing the wake-up
							err := evs[(k+1)%tasks].Wait(wctx)
							cancel()
							if err != nil && !errors.Is(err, context.DeadlineExceeded) {
								return err
							}
						}
					}
					return nil
				})
			}
			return g.Wait()
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if violations.Load() != 0 {
		t.Fatalf("%d exclusion violations", violations.Load())
	}
	if st := l.Stats(); st.Locked || st.Waiting != 0 {
		t.Fatalf("lock: %+v", st)
	}
	if st := sem.Stats(); st.Value != 2 || st.Waiting != 0 {
		t.Fatalf("semaphore: %+v (a unit lost or duplicated)", st)
	}
	if st := lim.Stats(); st.Borrowed != 0 || st.Waiting != 0 {
		t.Fatalf("limiter: %+v", st)
	}
	if acquired.Load() == 0 || timedOut.Load() == 0 {
		t.Fatalf("%d acquired, %d timed out: the race was not exercised", acquired.Load(), timedOut.Load())
	}
	t.Logf("%d acquired, %d timed out", acquired.Load(), timedOut.Load())
}
