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
		// AnyIO SM-01: two holders of Semaphore(2); value back to 2.
		// AnyIO S7: an uncontended Acquire is a checkpoint under simulation.
		name: "SM-01 acquire and release",
		body: func(ctx context.Context, h *H) error {
			s := tock.NewSemaphore(2)
			g := tock.NewGroup(ctx)
			for _, n := range []string{"A", "B"} {
				g.Go(func(ctx context.Context) error {
					if err := s.Acquire(ctx); err != nil {
						return err
					}
					h.Log(ctx, "%s inside", n)
					tock.Sleep(ctx, h.U(1))
					s.Release()
					return nil
				})
			}
			err := g.Wait()
			h.Log(ctx, "value %d", s.Value())
			return err
		},
		sim: "0 A inside\n0 B inside\n1 value 2",
	},
	scenario{
		// AnyIO SM-03 / S7: FastAcquire skips the checkpoint; the default
		// does not.
		name: "SM-03 FastAcquire",
		body: func(ctx context.Context, h *H) error {
			for _, fast := range []bool{false, true} {
				var opts []tock.SemaphoreOption
				if fast {
					opts = append(opts, tock.FastAcquire())
				}
				s := tock.NewSemaphore(1, opts...)
				g := tock.NewGroup(ctx)
				g.Go(func(ctx context.Context) error { h.Log(ctx, "other ran (fast %v)", fast); return nil })
				s.Acquire(ctx)
				h.Log(ctx, "acquired (fast %v)", fast)
				s.Release()
				g.Wait()
			}
			return nil
		},
		sim: "0 other ran (fast false)\n0 acquired (fast false)\n0 acquired (fast true)\n0 other ran (fast true)",
	},
	scenario{
		// AnyIO SM-04/B2/SM-10: TryAcquire; FIFO hand-off with no barging:
		// the value stays 0 when a waiter gets the unit.
		name: "SM-04 TryAcquire and no barging",
		body: func(ctx context.Context, h *H) error {
			s := tock.NewSemaphore(1)
			h.Log(ctx, "try %v, try %v", s.TryAcquire(), s.TryAcquire())
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				err := s.Acquire(ctx)
				h.Log(ctx, "waiter got it: %v", err)
				return err
			})
			h.WaitUntil(ctx, "queued", func() bool { return s.Stats().Waiting == 1 })
			s.Release()
			h.Log(ctx, "after release: value %d, try %v", s.Value(), s.TryAcquire())
			return g.Wait()
		},
		sim:   "0 try true, try false\n0 after release: value 0, try false\n0 waiter got it: <nil>",
		check: causal(order{"try true, try false", "waiter got it: <nil>"}),
	},
	scenario{
		// AnyIO SM-05/S8: a cancelled waiter consumes nothing.
		// AnyIO S10: handed the unit then cancelled: it keeps the unit.
		name: "SM-05 cancellation consumes nothing",
		body: func(ctx context.Context, h *H) error {
			for _, cancelFirst := range []bool{true, false} {
				s := tock.NewSemaphore(0, tock.MaxValue(1))
				err := h.CancelRace(ctx, cancelFirst, s.Acquire, func() bool { return s.Stats().Waiting == 1 }, s.Release)
				h.Log(ctx, "cancel first %v: acquire %v", cancelFirst, err)
				h.Log(ctx, "value %d waiting %d", s.Value(), s.Stats().Waiting)
			}
			return nil
		},
		sim: `0 cancel first true: acquire context canceled
			0 value 1 waiting 0
			0 cancel first false: acquire <nil>
			0 value 0 waiting 0`,
		ordered: true,
	},
	scenario{
		// AnyIO S6/SM-09: waiters served FIFO; Stats counts them.
		name: "SM-09 FIFO and Stats",
		body: func(ctx context.Context, h *H) error {
			s := tock.NewSemaphore(0)
			g := tock.NewGroup(ctx)
			for i := 0; i < 5; i++ {
				g.Go(func(ctx context.Context) error {
					err := s.Acquire(ctx)
					h.Log(ctx, "got %d", i)
					s.Release()
					return err
				})
				h.WaitUntil(ctx, "queued", func() bool { return s.Stats().Waiting == i+1 })
			}
			h.Log(ctx, "stats %+v", s.Stats())
			s.Release()
			err := g.Wait()
			h.Log(ctx, "stats %+v", s.Stats())
			return err
		},
		sim: `0 stats {Value:0 MaxValue:0 HasMax:false Waiting:5}
			0 got 0
			0 got 1
			0 got 2
			0 got 3
			0 got 4
			0 stats {Value:1 MaxValue:0 HasMax:false Waiting:0}`,
		ordered: true,
	},
	scenario{
		// AnyIO SM-16/SM-17: no maximum, any task may release.
		name: "SM-17 anyone releases",
		body: func(ctx context.Context, h *H) error {
			s := tock.NewSemaphore(1)
			s.Release()
			s.Release()
			h.Log(ctx, "value %d", s.Value())
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { s.Release(); return nil })
			g.Wait()
			h.Log(ctx, "value %d", s.Value())
			return nil
		},
		sim:     "0 value 3\n0 value 4",
		ordered: true,
	},
)

func TestSemaphoreMisuse(t *testing.T) {
	expectPanic(t, "tock: NewSemaphore: the initial value -1 is negative", func() { tock.NewSemaphore(-1) })
	expectPanic(t, "tock: NewSemaphore: the maximum value 2 is below the initial value 3", func() { tock.NewSemaphore(3, tock.MaxValue(2)) })
	s := tock.NewSemaphore(1, tock.MaxValue(2))
	s.Release()
	if s.Value() != 2 || s.Stats().MaxValue != 2 {
		t.Fatal(s.Stats())
	}
	expectPanic(t, "tock: Semaphore.Release: released too many times (the maximum value is 2)", s.Release)
	var zero tock.Semaphore
	if zero.TryAcquire() {
		t.Fatal("zero semaphore has a unit")
	}
}

func ExampleSemaphore() {
	// Three jobs share two slots; the third starts when a slot frees up.
	sim.Run(context.Background(), func(ctx context.Context) error {
		slots := tock.NewSemaphore(2)
		g := tock.NewGroup(ctx)
		for _, job := range []string{"a", "b", "c"} {
			g.Go(func(ctx context.Context) error {
				if err := slots.Acquire(ctx); err != nil {
					return err
				}
				defer slots.Release()
				fmt.Printf("%s starts at +%v\n", job, tock.Now(ctx).Sub(sim.DefaultStart))
				return tock.Sleep(ctx, time.Second)
			})
		}
		return g.Wait()
	})
	// Output:
	// a starts at +0s
	// b starts at +0s
	// c starts at +1s
}
