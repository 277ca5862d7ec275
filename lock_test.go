package tock_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// μSim L1: taking and releasing a free lock does not suspend.
		name: "L1 uncontended lock does not yield",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "A before")
				l.Lock(ctx)
				h.Log(ctx, "A inside")
				l.Unlock(ctx)
				h.Log(ctx, "A after")
				return nil
			})
			g.Go(func(ctx context.Context) error { h.Log(ctx, "B ran"); return nil })
			return g.Wait()
		},
		sim: "0 A before\n0 A inside\n0 A after\n0 B ran",
	},
	scenario{
		// μSim L3: re-entrant for the owner; another task gets it only after
		// the outermost Unlock.
		name: "L3 re-entrant lock",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			var holds tock.Event
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				for i := 0; i < 3; i++ {
					l.Lock(ctx)
				}
				holds.Set()
				h.Log(ctx, "A depth %d", l.Stats().Depth)
				tock.Sleep(ctx, h.U(5))
				l.Unlock(ctx)
				l.Unlock(ctx)
				h.Log(ctx, "A at depth %d, locked %v", l.Stats().Depth, l.Locked())
				l.Unlock(ctx)
				return nil
			})
			g.Go(func(ctx context.Context) error {
				holds.Wait(ctx)
				l.Lock(ctx)
				h.Log(ctx, "B acquired")
				l.Unlock(ctx)
				return nil
			})
			return g.Wait()
		},
		sim:     "0 A depth 3\n5 A at depth 1, locked true\n5 B acquired",
		ordered: true,
	},
	scenario{
		// μSim fifo_handoff / L5: strict FIFO hand-off; holders of 5 each.
		name: "L5 FIFO hand-off",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			g := tock.NewGroup(ctx)
			for i, name := range []string{"A", "B", "C", "D"} {
				g.Go(func(ctx context.Context) error {
					if err := l.Lock(ctx); err != nil {
						return err
					}
					h.Log(ctx, "%s acquired", name)
					tock.Sleep(ctx, h.U(5))
					l.Unlock(ctx)
					return nil
				})
				// sequence the arrivals: the next one calls Lock only after this
				// one has queued or acquired (waiting + acquired never drops)
				h.WaitUntil(ctx, "arrival", func() bool { return l.Stats().Waiting+len(h.Msgs()) >= i+1 })
			}
			err := g.Wait()
			h.Log(ctx, "all done")
			return err
		},
		sim:     "0 A acquired\n5 B acquired\n10 C acquired\n15 D acquired\n20 all done",
		ordered: true,
	},
	scenario{
		// μSim no_barging / AnyIO LK-15: Unlock hands the lock to the waiter
		// at once; the releaser cannot take it back before the waiter ran.
		name: "no barging, owner set at release",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			g := tock.NewGroup(ctx)
			l.Lock(ctx)
			var waiterID uint64
			g.Go(func(ctx context.Context) error {
				waiterID = tock.TaskID(ctx)
				l.Lock(ctx)
				h.Log(ctx, "waiter acquired")
				tock.Sleep(ctx, h.U(1))
				l.Unlock(ctx)
				return nil
			})
			h.WaitUntil(ctx, "waiter queued", func() bool { return l.Stats().Waiting == 1 })
			tock.Sleep(ctx, h.U(5))
			l.Unlock(ctx)
			st := l.Stats()
			h.Log(ctx, "after unlock: owner is the waiter %v, available %v, trylock %v", st.Owner == waiterID, l.Available(ctx), l.TryLock(ctx))
			l.Lock(ctx)
			h.Log(ctx, "releaser re-acquired")
			l.Unlock(ctx)
			return g.Wait()
		},
		sim:     "5 after unlock: owner is the waiter true, available false, trylock false\n5 waiter acquired\n6 releaser re-acquired",
		ordered: false,
		check:   causal(order{"waiter acquired", "releaser re-acquired"}),
	},
	scenario{
		// μSim L8 / AnyIO LK-10: Available, Locked and Stats.
		name: "L8 Available and Stats",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			h.Log(ctx, "fresh %+v available %v", l.Stats(), l.Available(ctx))
			l.Lock(ctx)
			st := l.Stats()
			h.Log(ctx, "held: locked %v, owner is me %v, depth %d, waiting %d; available to owner %v", st.Locked, st.Owner == tock.TaskID(ctx), st.Depth, st.Waiting, l.Available(ctx))
			g := tock.NewGroup(ctx)
			for i := 0; i < 2; i++ {
				g.Go(func(ctx context.Context) error {
					if i == 0 {
						h.Log(ctx, "available to another task %v", l.Available(ctx))
					}
					if err := l.Lock(ctx); err != nil {
						return err
					}
					l.Unlock(ctx)
					return nil
				})
				h.WaitUntil(ctx, "queued", func() bool { return l.Stats().Waiting == i+1 })
				h.Log(ctx, "waiting %d", l.Stats().Waiting)
			}
			l.Unlock(ctx)
			err := g.Wait()
			h.Log(ctx, "after %+v available %v", l.Stats(), l.Available(ctx))
			return err
		},
		sim: `0 fresh {Locked:false Owner:0 Depth:0 Waiting:0} available true
			0 held: locked true, owner is me true, depth 1, waiting 0; available to owner true
			0 available to another task false
			0 waiting 1
			0 waiting 2
			0 after {Locked:false Owner:0 Depth:0 Waiting:0} available true`,
		ordered: true,
	},
	scenario{
		// μSim L10 / AnyIO LK-08: a cancelled waiter leaves the queue; the
		// next keeps its place and nobody is stranded.
		name: "L10 cancel a queued waiter",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			var release tock.Event
			g := tock.NewGroup(ctx)
			var cancelB context.CancelFunc
			for i, name := range []string{"A", "B", "C"} {
				g.Go(func(ctx context.Context) error {
					if name == "B" {
						ctx, cancelB = tock.WithCancel(ctx)
					}
					if err := l.Lock(ctx); err != nil {
						h.Log(ctx, "%s: %v", name, err)
						return nil
					}
					h.Log(ctx, "%s acquired", name)
					if name == "A" {
						release.Wait(ctx) // A holds until main lets go
					} else {
						tock.Sleep(ctx, h.U(10))
					}
					l.Unlock(ctx)
					return nil
				})
				// A holds the lock (main releases it) and B cannot acquire
				// before it is cancelled: these conditions cannot lapse.
				h.WaitUntil(ctx, "queued", func() bool { return l.Locked() && l.Stats().Waiting == i })
			}
			tock.Sleep(ctx, h.U(5))
			cancelB()
			tock.Sleep(ctx, h.U(5))
			release.Set()
			err := g.Wait()
			h.Log(ctx, "done, %+v", l.Stats())
			return err
		},
		sim:     "0 A acquired\n5 B: context canceled\n10 C acquired\n20 done, {Locked:false Owner:0 Depth:0 Waiting:0}",
		ordered: true,
	},
	scenario{
		// DESIGN: a waiter cancelled before the hand-off is skipped (it was
		// cancelled first), even within the same instant; a waiter handed the
		// lock and cancelled afterwards keeps it ("the wake-up wins").
		name: "cancel before or after the hand-off",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			for _, cancelFirst := range []bool{true, false} {
				l.Lock(ctx)
				g := tock.NewGroup(ctx)
				var cancel context.CancelFunc
				g.Go(func(ctx context.Context) error {
					ctx, cancel = tock.WithCancel(ctx)
					err := l.Lock(ctx)
					h.Log(ctx, "target (cancel first %v): %v", cancelFirst, err)
					if err == nil {
						l.Unlock(ctx)
					}
					return nil
				})
				g.Go(func(ctx context.Context) error {
					h.WaitUntil(ctx, "target queued", func() bool { return l.Stats().Waiting == 1 })
					l.Lock(ctx)
					h.Log(ctx, "peer acquired (cancel first %v)", cancelFirst)
					l.Unlock(ctx)
					return nil
				})
				h.WaitUntil(ctx, "both queued", func() bool { return l.Stats().Waiting == 2 })
				if cancelFirst {
					cancel()
					l.Unlock(ctx)
				} else {
					l.Unlock(ctx)
					cancel()
				}
				if err := g.Wait(); err != nil {
					return err
				}
			}
			return nil
		},
		sim: `0 target (cancel first true): context canceled
			0 peer acquired (cancel first true)
			0 target (cancel first false): <nil>
			0 peer acquired (cancel first false)`,
		check: causal(order{"target (cancel first false): <nil>", "peer acquired (cancel first false)"}),
	},
	scenario{
		// AnyIO LK-18: Lock in a cancelled context fails even on a free lock;
		// TryLock ignores cancellation.
		name: "LK-18 cancelled context",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			cctx, cancel := tock.WithCancel(ctx)
			cancel()
			h.Log(ctx, "lock: %v, locked %v", l.Lock(cctx), l.Locked())
			h.Log(ctx, "trylock: %v", l.TryLock(cctx))
			l.Unlock(cctx)
			return nil
		},
		sim:     "0 lock: context canceled, locked false\n0 trylock: true",
		ordered: true,
	},
	scenario{
		// μSim L9: unlocking in a defer releases the lock on an error.
		name: "L9 error releases via defer",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			use := func() error {
				if err := l.Lock(ctx); err != nil {
					return err
				}
				defer l.Unlock(ctx)
				return errA
			}
			h.Log(ctx, "%v, %v", use(), use())
			h.Log(ctx, "trylock %v", l.TryLock(ctx))
			return nil
		},
		sim:     "0 A failed, A failed\n0 trylock true",
		ordered: true,
	},
)

func TestLockMisuse(t *testing.T) {
	checkLeaks(t)
	var l tock.Lock
	ctx := context.Background()
	expectPanic(t, "tock: Lock.Unlock: the lock is not locked", func() { l.Unlock(ctx) })
	err := sim.Run(ctx, func(ctx context.Context) error {
		l.Lock(ctx)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			expectPanic(t, "tock: Lock.Unlock: only the owner may unlock; called by task 2, owned by main", func() { l.Unlock(ctx) })
			return nil
		})
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A deadlock on a Lock names the primitive.
func TestLockDeadlockReport(t *testing.T) {
	checkLeaks(t)
	var a, b tock.Lock
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			a.Lock(ctx)
			tock.Sleep(ctx, 1)
			return b.Lock(ctx)
		})
		g.Go(func(ctx context.Context) error {
			b.Lock(ctx)
			tock.Sleep(ctx, 1)
			return a.Lock(ctx)
		})
		return g.Wait()
	})
	var d *sim.DeadlockError
	if !errors.As(err, &d) || fmt.Sprint(d.Blocked) != "[{main Group.Wait [task 2 task 3]} {task 2 Lock.Lock [task 3]} {task 3 Lock.Lock [task 2]}]" {
		t.Fatalf("Run = %v", err)
	}
}
