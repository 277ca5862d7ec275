package tock_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// AnyIO CD-01: Wait releases the lock, and holds it again on return.
		name: "CD-01 wait and notify",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewCondition(nil)
			c.Lock(ctx)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				if err := c.Lock(ctx); err != nil {
					return err
				}
				h.Log(ctx, "notifier has the lock")
				c.NotifyAll(ctx)
				c.Unlock(ctx)
				return nil
			})
			err := c.Wait(ctx)
			h.Log(ctx, "wait: %v, lock owned by me: %v", err, c.Stats().Lock.Owner == tock.TaskID(ctx))
			c.Unlock(ctx)
			return g.Wait()
		},
		sim:     "0 notifier has the lock\n0 wait: <nil>, lock owned by me: true",
		ordered: true,
	},
	scenario{
		// AnyIO CD-05/C3: a cancelled waiter re-acquires the lock before it
		// returns its error.
		name: "CD-05 cancelled wait re-acquires",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewCondition(nil)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				c.Lock(ctx)
				err := c.Wait(ctx)
				h.Log(ctx, "waiter: %v, holds lock %v", err, c.Stats().Lock.Owner == tock.TaskID(ctx))
				c.Unlock(ctx)
				return err
			})
			h.WaitUntil(ctx, "waiting", func() bool { return c.Stats().Waiting == 1 })
			c.Lock(ctx)
			g.Cancel()
			// the cancelled waiter must queue for the lock before returning
			h.WaitUntil(ctx, "waiter queued for the lock", func() bool { return c.Stats().Lock.Waiting == 1 })
			h.Log(ctx, "lock waiters while I hold it: %d", c.Stats().Lock.Waiting)
			c.Unlock(ctx)
			return g.Wait()
		},
		sim:     "0 lock waiters while I hold it: 1\n0 waiter: context canceled, holds lock true",
		ordered: true,
	},
	scenario{
		// AnyIO CD-08/C2: Notify(n) wakes up to n, FIFO; Waiting drops at
		// notify time.
		name: "CD-08 Notify(n) FIFO",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewCondition(nil)
			g := tock.NewGroup(ctx)
			for i := 0; i < 5; i++ {
				g.Go(func(ctx context.Context) error {
					c.Lock(ctx)
					defer c.Unlock(ctx)
					err := c.Wait(ctx)
					h.Log(ctx, "woke %d", i)
					return err
				})
				h.WaitUntil(ctx, "waiting", func() bool { return c.Stats().Waiting == i+1 })
			}
			c.Lock(ctx)
			c.Notify(ctx, 2)
			h.Log(ctx, "waiting after Notify(2): %d", c.Stats().Waiting)
			c.Notify(ctx, 0)
			c.Unlock(ctx)
			h.WaitUntil(ctx, "two woke", func() bool { return len(h.Msgs()) == 3 })
			c.Lock(ctx)
			c.Notify(ctx, 10)
			h.Log(ctx, "waiting after Notify(10): %d", c.Stats().Waiting)
			c.Unlock(ctx)
			return g.Wait()
		},
		sim: `0 waiting after Notify(2): 3
			0 woke 0
			0 woke 1
			0 waiting after Notify(10): 0
			0 woke 2
			0 woke 3
			0 woke 4`,
		// Notified waiters re-acquire the lock FIFO on both runtimes.
		ordered: true,
	},
	scenario{
		// Issue 12, defect 5: NotifyAll's waiters re-acquire the lock in the
		// order they waited, on both runtimes (the real runtime used to let
		// them race for it: DABC). Each logs once it holds the lock again,
		// and holds it across a yield, so a waiter that barged in would
		// show.
		name: "CD NotifyAll re-acquires FIFO",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewCondition(nil)
			g := tock.NewGroup(ctx)
			for i, name := range []string{"A", "B", "C", "D"} {
				g.Go(func(ctx context.Context) error {
					c.Lock(ctx)
					defer c.Unlock(ctx)
					if err := c.Wait(ctx); err != nil {
						return err
					}
					h.Log(ctx, "%s re-acquired", name)
					tock.Yield(ctx)
					h.Log(ctx, "%s releases", name)
					return nil
				})
				h.WaitUntil(ctx, "waiting", func() bool { return c.Stats().Waiting == i+1 })
			}
			c.Lock(ctx)
			c.NotifyAll(ctx)
			st := c.Stats()
			h.Log(ctx, "notified: waiting %d, queued for the lock %d", st.Waiting, st.Lock.Waiting)
			c.Unlock(ctx)
			return g.Wait()
		},
		sim: `0 notified: waiting 0, queued for the lock 4
			0 A re-acquired
			0 A releases
			0 B re-acquired
			0 B releases
			0 C re-acquired
			0 C releases
			0 D re-acquired
			0 D releases`,
		ordered: true,
	},
	scenario{
		// AnyIO C4: a waiter cancelled before the notification passes it on.
		name: "CD notification passed on",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewCondition(nil)
			g := tock.NewGroup(ctx)
			var cancel1 context.CancelFunc
			for i := 1; i <= 2; i++ {
				g.Go(func(ctx context.Context) error {
					if i == 1 {
						ctx, cancel1 = tock.WithCancel(ctx)
					}
					c.Lock(ctx)
					defer c.Unlock(ctx)
					h.Log(ctx, "waiter %d: %v", i, c.Wait(ctx))
					return nil
				})
				h.WaitUntil(ctx, "waiting", func() bool { return c.Stats().Waiting == i })
			}
			c.Lock(ctx)
			cancel1()
			c.Notify(ctx, 1)
			c.Unlock(ctx)
			return g.Wait()
		},
		// Waiter 2 was queued for the lock at notify time (the notifier
		// held it); waiter 1, cancelled before, asks for it only when it
		// runs, so it re-acquires the lock after waiter 2.
		sim: "0 waiter 2: <nil>\n0 waiter 1: context canceled",
	},
	scenario{
		// AnyIO CD-10: WaitFor re-checks the predicate after each notify.
		name: "CD-10 WaitFor",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewCondition(nil)
			var value string
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				c.Lock(ctx)
				defer c.Unlock(ctx)
				err := c.WaitFor(ctx, func() bool { return value != "" })
				h.Log(ctx, "got %q: %v", value, err)
				return err
			})
			h.WaitUntil(ctx, "waiting", func() bool { return c.Stats().Waiting == 1 })
			c.Lock(ctx)
			c.NotifyAll(ctx)
			c.Unlock(ctx)
			h.WaitUntil(ctx, "waiting again", func() bool { return c.Stats().Waiting == 1 })
			h.Log(ctx, "still waiting")
			c.Lock(ctx)
			value = "foo"
			c.NotifyAll(ctx)
			c.Unlock(ctx)
			return g.Wait()
		},
		sim:     "0 still waiting\n0 got \"foo\": <nil>",
		ordered: true,
	},
	scenario{
		// AnyIO CD-12: Wait in a cancelled context returns at once, lock
		// still held, nothing queued. WaitFor with a true predicate does not
		// even check.
		name: "CD-12 cancelled before Wait",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewCondition(nil)
			c.Lock(ctx)
			cctx, cancel := tock.WithCancel(ctx)
			cancel()
			err := c.Wait(cctx)
			st := c.Stats()
			h.Log(ctx, "wait: %v; waiting %d, lock held by me %v at depth %d", err, st.Waiting, st.Lock.Owner == tock.TaskID(ctx), st.Lock.Depth)
			h.Log(ctx, "waitfor true: %v", c.WaitFor(cctx, func() bool { return true }))
			c.Unlock(ctx)
			return nil
		},
		sim:     "0 wait: context canceled; waiting 0, lock held by me true at depth 1\n0 waitfor true: <nil>",
		ordered: true,
	},
	scenario{
		// Wait restores the depth of a re-entrant hold.
		name: "CD Wait restores depth",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			c := tock.NewCondition(&l)
			l.Lock(ctx)
			l.Lock(ctx)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				l.Lock(ctx)
				h.Log(ctx, "other got the lock")
				c.Notify(ctx, 1)
				l.Unlock(ctx)
				return nil
			})
			c.Wait(ctx)
			h.Log(ctx, "depth %d", l.Stats().Depth)
			l.Unlock(ctx)
			l.Unlock(ctx)
			return g.Wait()
		},
		sim:     "0 other got the lock\n0 depth 2",
		ordered: true,
	},
)

func TestConditionOwnerChecks(t *testing.T) {
	checkLeaks(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		var l tock.Lock
		c := tock.NewCondition(&l)
		expectPanic(t, "tock: Condition.Wait: the caller does not hold the condition's lock", func() { c.Wait(ctx) })
		// AnyIO CD-14 (fixed behaviour): the real owner counts, however the
		// lock was taken.
		l.Lock(ctx)
		c.Notify(ctx, 1)
		c.NotifyAll(ctx)
		l.Unlock(ctx)
		c.Lock(ctx)
		c.Unlock(ctx)
		expectPanic(t, "tock: Condition.Notify: the caller does not hold the condition's lock", func() { c.Notify(ctx, 1) })
		expectPanic(t, "tock: Condition.NotifyAll: the caller does not hold the condition's lock", func() { c.NotifyAll(ctx) })
		c.Lock(ctx)
		expectPanic(t, "tock: Condition.Notify: negative count -1", func() { c.Notify(ctx, -1) })
		c.Unlock(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ExampleCondition() {
	// A consumer waits, under a shared lock, until the producer has filled
	// the box.
	sim.Run(context.Background(), func(ctx context.Context) error {
		cond := tock.NewCondition(nil)
		var box []string
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			cond.Lock(ctx)
			defer cond.Unlock(ctx)
			if err := cond.WaitFor(ctx, func() bool { return len(box) == 2 }); err != nil {
				return err
			}
			fmt.Println("consumer sees", box, "at", tock.Now(ctx).Sub(sim.DefaultStart))
			return nil
		})
		for _, item := range []string{"apple", "pear"} {
			tock.Sleep(ctx, time.Minute)
			cond.Lock(ctx)
			box = append(box, item)
			cond.NotifyAll(ctx)
			cond.Unlock(ctx)
		}
		return g.Wait()
	})
	// Output:
	// consumer sees [apple pear] at 2m0s
}
