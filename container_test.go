package tock_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// Gets are served FIFO: a small Get waits behind a large one even
		// though its amount is there (SimPy's Container serves the same way).
		name: "CO-01 Get waits FIFO until the level holds it",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewContainer(10, 0)
			g := tock.NewGroup(ctx)
			get := func(name string, n float64) {
				g.Go(func(ctx context.Context) error {
					err := c.Get(ctx, n)
					h.Log(ctx, "%s got %g: %v", name, n, err)
					return err
				})
			}
			get("G1", 5)
			h.WaitUntil(ctx, "G1 waits", func() bool { return c.Stats().WaitingGets == 1 })
			get("G2", 2)
			h.WaitUntil(ctx, "G2 waits", func() bool { return c.Stats().WaitingGets == 2 })
			for i, n := range []float64{3, 3, 1} {
				tock.SleepUntil(ctx, h.At(float64(i+1)))
				if err := c.Put(ctx, n); err != nil {
					return err
				}
				h.Log(ctx, "put %g: level %g", n, c.Level())
			}
			return g.Wait()
		},
		sim: `1 put 3: level 3
2 G1 got 5: <nil>
2 put 3: level 1
3 G2 got 2: <nil>
3 put 1: level 0`,
	},
	scenario{
		// A Put waits until its amount fits under the capacity.
		name: "CO-02 Put waits for room",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewContainer(10, 8)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				err := c.Put(ctx, 5)
				h.Log(ctx, "put 5: %v", err)
				return err
			})
			h.WaitUntil(ctx, "put waits", func() bool { return c.Stats().WaitingPuts == 1 })
			tock.Sleep(ctx, h.U(4))
			if !c.TryGet(3) {
				return fmt.Errorf("TryGet(3) failed at level %g", c.Level())
			}
			if err := g.Wait(); err != nil {
				return err
			}
			h.Log(ctx, "level %g; TryPut(1) %v; TryGet(11 - 1) %v", c.Level(), c.TryPut(1), c.TryGet(10))
			return nil
		},
		sim:     "4 put 5: <nil>\n4 level 10; TryPut(1) false; TryGet(11 - 1) true",
		ordered: true,
	},
	scenario{
		// Nothing is lost: a cancelled head Get takes nothing and lets the
		// Get behind it through; a waiter served and then cancelled keeps
		// what it got.
		name: "CO-03 cancelled waiters",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewContainer(10, 3)
			g := tock.NewGroup(ctx)
			big, cancelBig := tock.WithCancel(ctx)
			defer cancelBig()
			g.Go(func(tctx context.Context) error {
				err := c.Get(big, 8) //tockvet:ignore a ctx the test cancels from outside the task
				h.Log(tctx, "G1 get 8: %v", err)
				return nil
			})
			h.WaitUntil(ctx, "G1 waits", func() bool { return c.Stats().WaitingGets == 1 })
			g.Go(func(ctx context.Context) error {
				err := c.Get(ctx, 2)
				h.Log(ctx, "G2 get 2: %v", err)
				return err
			})
			h.WaitUntil(ctx, "G2 waits", func() bool { return c.Stats().WaitingGets == 2 })
			tock.Sleep(ctx, h.U(2))
			cancelBig()
			if err := g.Wait(); err != nil {
				return err
			}
			h.Log(ctx, "level %g", c.Level())
			for _, cancelFirst := range []bool{true, false} {
				c := tock.NewContainer(10, 0)
				err := h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error { return c.Get(ctx, 4) },
					func() bool { return c.Stats().WaitingGets == 1 }, func() { c.TryPut(5) })
				h.Log(ctx, "cancel first %v: %v, level %g", cancelFirst, err, c.Level())
			}
			return nil
		},
		sim: `2 G1 get 8: context canceled
2 G2 get 2: <nil>
2 level 1
2 cancel first true: context canceled, level 5
2 cancel first false: <nil>, level 1`,
		check: causal(order{"G1 get 8: context canceled", "level 1"}, order{"G2 get 2: <nil>", "level 1"}),
	},
)

func TestContainerMisuse(t *testing.T) {
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"capacity 0", func() { tock.NewContainer(0, 0) }, "tock: NewContainer: the capacity 0 is not positive"},
		{"initial above capacity", func() { tock.NewContainer(1, 2) }, "tock: NewContainer: the initial level 2"},
		{"NaN initial", func() { tock.NewContainer(1, math.NaN()) }, "tock: NewContainer: the initial level NaN"},
		{"negative get", func() { tock.NewContainer(5, 0).Get(context.Background(), -1) }, "tock: Container.Get: the amount -1"},
		{"get above capacity", func() { tock.NewContainer(5, 0).Get(context.Background(), 6) }, "exceeds the capacity 5"},
		{"put NaN", func() { tock.NewContainer(5, 0).TryPut(math.NaN()) }, "tock: Container.TryPut: the amount NaN"},
		{"zero value", func() { var c tock.Container; c.TryGet(1) }, "not made with NewContainer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := fmt.Sprint(recover()); !strings.Contains(r, c.want) {
					t.Errorf("panic %q, want it to contain %q", r, c.want)
				}
			}()
			c.f()
		})
	}
}

func TestContainerMonitor(t *testing.T) {
	checkLeaks(t)
	sim.Run(context.Background(), func(ctx context.Context) error {
		c := tock.NewContainer(100, 10)
		m := tock.NewMonitor(ctx, c.Level())
		c.Monitor(m)
		tock.Sleep(ctx, 10*time.Second) // 10 for 10 s
		c.Put(ctx, 30)                  // 40 for 5 s
		tock.Sleep(ctx, 5*time.Second)
		c.Get(ctx, 40) // 0 for 5 s
		tock.Sleep(ctx, 5*time.Second)
		s := m.Stats()
		if want := (10.0*10 + 40*5) / 20; s.Mean != want || s.Max != 40 || s.Min != 0 || s.Changes != 2 || s.Duration != 20*time.Second {
			t.Errorf("monitor %+v, want mean %g, max 40, min 0, 2 changes over 20s", s, want)
		}
		return nil
	})
}

func ExampleContainer() {
	// A tank of 50 litres; a truck refills it when it runs low.
	sim.Run(context.Background(), func(ctx context.Context) error {
		tank := tock.NewContainer(50, 20)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			if err := tank.Get(ctx, 30); err != nil { // waits for the truck
				return err
			}
			fmt.Printf("+%v: got 30 l, %g l left\n", tock.Now(ctx).Sub(sim.DefaultStart), tank.Level())
			return nil
		})
		tock.Sleep(ctx, 10*time.Minute)
		tank.Put(ctx, 25)
		return g.Wait()
	})
	// Output:
	// +10m0s: got 30 l, 15 l left
}
