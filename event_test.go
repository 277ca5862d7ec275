package tock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// AnyIO EV-01 / μSim F3: Set wakes every waiter, in the order they
		// waited, before the setter's next checkpoint.
		name: "EV-01 Set wakes every waiter",
		body: func(ctx context.Context, h *H) error {
			var e tock.Event
			g := tock.NewGroup(ctx)
			for _, n := range []string{"W1", "W2"} {
				g.Go(func(ctx context.Context) error {
					err := e.Wait(ctx)
					h.Log(ctx, "%s woke: %v, set %v", n, err, e.IsSet())
					return err
				})
			}
			h.WaitUntil(ctx, "both wait", func() bool { return e.Stats().Waiting == 2 })
			tock.Sleep(ctx, h.U(5))
			h.Log(ctx, "setting (was set: %v)", e.IsSet())
			e.Set()
			h.Log(ctx, "waiting after Set: %d", e.Stats().Waiting)
			e.Set() // idempotent
			return g.Wait()
		},
		sim:   "5 setting (was set: false)\n5 waiting after Set: 0\n5 W1 woke: <nil>, set true\n5 W2 woke: <nil>, set true",
		check: causal(order{"setting (was set: false)", "W1 woke: <nil>, set true"}),
	},
	scenario{
		// AnyIO EV-02: a waiter cancelled before Set never sees it.
		// AnyIO E5: Set then cancel in the same step: Wait returns nil.
		name: "EV-02 cancel before or after Set",
		body: func(ctx context.Context, h *H) error {
			for _, cancelFirst := range []bool{true, false} {
				var e tock.Event
				err := h.CancelRace(ctx, cancelFirst, e.Wait, func() bool { return e.Stats().Waiting == 1 }, e.Set)
				h.Log(ctx, "cancel first %v: wait %v", cancelFirst, err)
			}
			return nil
		},
		sim:     "0 cancel first true: wait context canceled\n0 cancel first false: wait <nil>",
		ordered: true,
	},
	scenario{
		// AnyIO E1/EV-05: Wait on a set event returns at once but is still a
		// checkpoint: it fails in a cancelled context, and under simulation
		// lets the runnable tasks run first.
		name: "EV wait on a set event",
		body: func(ctx context.Context, h *H) error {
			var e tock.Event
			e.Set()
			cctx, cancel := tock.WithCancel(ctx)
			cancel()
			h.Log(ctx, "cancelled wait: %v", e.Wait(cctx))
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { h.Log(ctx, "other ran"); return nil })
			h.Log(ctx, "wait: %v", e.Wait(ctx))
			return g.Wait()
		},
		sim: "0 cancelled wait: context canceled\n0 other ran\n0 wait: <nil>",
	},
	scenario{
		// AnyIO EV-07: many waiters, Set twice; all resume (FIFO under
		// simulation).
		name: "EV-07 fan-out",
		body: func(ctx context.Context, h *H) error {
			var e tock.Event
			g := tock.NewGroup(ctx)
			for i := 0; i < 8; i++ {
				g.Go(func(ctx context.Context) error {
					err := e.Wait(ctx)
					h.Log(ctx, "w%d", i)
					return err
				})
			}
			h.WaitUntil(ctx, "all wait", func() bool { return e.Stats().Waiting == 8 })
			e.Set()
			e.Set()
			return g.Wait()
		},
		sim: "0 w0\n0 w1\n0 w2\n0 w3\n0 w4\n0 w5\n0 w6\n0 w7",
	},
)

func ExampleEvent() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		var ready tock.Event
		g := tock.NewGroup(ctx)
		for _, name := range []string{"alice", "bob"} {
			g.Go(func(ctx context.Context) error {
				if err := ready.Wait(ctx); err != nil {
					return err
				}
				fmt.Printf("%s starts at +%v\n", name, tock.Now(ctx).Sub(sim.DefaultStart))
				return nil
			})
		}
		tock.Sleep(ctx, 3*time.Second)
		ready.Set()
		return g.Wait()
	})
	// Output:
	// alice starts at +3s
	// bob starts at +3s
}
