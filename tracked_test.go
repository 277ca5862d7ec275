package tock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// μSim F10: value 1137, +10 at t=10 and at t=20; a wait for 1157
		// resumes at t=20, not at the first change.
		name: "TR-01 WaitUntil wakes at the change that makes it true",
		body: func(ctx context.Context, h *H) error {
			tr := tock.NewTracked(1137)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				v, err := tr.WaitUntil(ctx, func(v int) bool { return v == 1157 })
				h.Log(ctx, "woke with %d: %v", v, err)
				return err
			})
			h.WaitUntil(ctx, "waiter queued", func() bool { return tr.Stats().Waiting == 1 })
			for _, at := range []float64{10, 20} {
				tock.SleepUntil(ctx, h.At(at))
				h.Log(ctx, "add 10 -> %d", tr.Update(func(v int) int { return v + 10 }))
			}
			return g.Wait()
		},
		sim: "10 add 10 -> 1147\n20 add 10 -> 1157\n20 woke with 1157: <nil>",
	},
	scenario{
		// A condition true only between two changes of one step still wakes
		// its waiter, with the value that made it true (μSim would miss it).
		name: "TR-02 a transient value wakes its waiter",
		body: func(ctx context.Context, h *H) error {
			tr := tock.NewTracked(0)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				v, err := tr.WaitUntil(ctx, func(v int) bool { return v == 1 })
				h.Log(ctx, "woke with %d: %v", v, err)
				return err
			})
			h.WaitUntil(ctx, "waiter queued", func() bool { return tr.Stats().Waiting == 1 })
			tock.Sleep(ctx, h.U(3))
			tr.Set(1)
			tr.Set(0)
			return g.Wait()
		},
		sim: "3 woke with 1: <nil>",
	},
	scenario{
		// μSim F3: a Flag set at t=5 wakes its waiters in order; WaitClear
		// waits for the other state; an already-true wait returns at once.
		name: "TR-03 Flag",
		body: func(ctx context.Context, h *H) error {
			var f tock.Flag
			g := tock.NewGroup(ctx)
			for _, n := range []string{"W1", "W2"} {
				g.Go(func(ctx context.Context) error {
					err := f.Wait(ctx)
					h.Log(ctx, "%s woke: %v", n, f.IsSet())
					return err
				})
			}
			h.WaitUntil(ctx, "both wait", func() bool { return f.Stats().Waiting == 2 })
			tock.Sleep(ctx, h.U(5))
			f.Set()
			g.Wait()
			if err := f.Wait(ctx); err != nil {
				return err
			}
			h.Log(ctx, "already set")
			g = tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				err := f.WaitClear(ctx)
				h.Log(ctx, "cleared: %v", !f.IsSet())
				return err
			})
			h.WaitUntil(ctx, "clear waiter", func() bool { return f.Stats().Waiting == 1 })
			tock.Sleep(ctx, h.U(2))
			f.Set() // no change: nobody wakes
			f.SetTo(false)
			return g.Wait()
		},
		sim:     "5 W1 woke: true\n5 W2 woke: true\n5 already set\n7 cleared: true",
		ordered: false,
	},
	scenario{
		// Cancellation: a waiter cancelled before the change returns its
		// error; one woken by a change and then cancelled returns the value.
		name: "TR-04 cancel before or after the change",
		body: func(ctx context.Context, h *H) error {
			for _, cancelFirst := range []bool{true, false} {
				tr := tock.NewTracked("idle")
				var got string
				err := h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
					v, err := tr.WaitUntil(ctx, func(s string) bool { return s == "busy" })
					if err == nil {
						got = v
					}
					return err
				}, func() bool { return tr.Stats().Waiting == 1 }, func() { tr.Set("busy") })
				h.Log(ctx, "cancel first %v: %q %v; waiting %d", cancelFirst, got, err, tr.Stats().Waiting)
			}
			return nil
		},
		sim:     "0 cancel first true: \"\" context canceled; waiting 0\n0 cancel first false: \"busy\" <nil>; waiting 0",
		ordered: true,
	},
)

func TestTrackedChecksCancellationFirst(t *testing.T) {
	checkLeaks(t)
	sim.Run(context.Background(), func(ctx context.Context) error {
		tr := tock.NewTracked(5)
		cctx, cancel := tock.WithCancel(ctx)
		cancel()
		v, err := tr.WaitUntil(cctx, func(int) bool { return true })
		if !errors.Is(err, context.Canceled) || v != 5 {
			t.Errorf("WaitUntil on a cancelled ctx: %v %v, want 5 and context.Canceled", v, err)
		}
		return nil
	})
}

func TestTrackedPanickingCondition(t *testing.T) {
	checkLeaks(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		tr := tock.NewTracked(0)
		g := tock.NewGroup(ctx)
		var woke []string
		g.Go(func(ctx context.Context) error {
			_, err := tr.WaitUntil(ctx, func(v int) bool { return v >= 1 })
			woke = append(woke, "first")
			return err
		})
		g.Go(func(ctx context.Context) error {
			_, err := tr.WaitUntil(ctx, func(v int) bool {
				if v == 1 {
					panic("bad condition")
				}
				return v == 2
			})
			woke = append(woke, "second")
			return err
		})
		tock.Sleep(ctx, time.Second)
		func() {
			defer func() {
				if r := recover(); r != "bad condition" {
					t.Errorf("Set: recovered %v, want the condition's panic", r)
				}
			}()
			tr.Set(1)
		}()
		// The lock is free and the second waiter still waits.
		if got := tr.Stats().Waiting; got != 1 {
			t.Errorf("after the panic: %d waiting, want 1", got)
		}
		tr.Set(2)
		if err := g.Wait(); err != nil {
			return err
		}
		if strings.Join(woke, ",") != "first,second" {
			t.Errorf("woke %v", woke)
		}
		// A condition that panics in WaitUntil itself leaves the lock free.
		func() {
			defer func() { recover() }()
			tr.WaitUntil(ctx, func(int) bool { panic("at once") })
		}()
		tr.Set(3)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTrackedNilCondition(t *testing.T) {
	defer func() {
		if r := fmt.Sprint(recover()); !strings.Contains(r, "tock: Tracked.WaitUntil") {
			t.Errorf("panic %q", r)
		}
	}()
	var tr tock.Tracked[int]
	tr.WaitUntil(context.Background(), nil)
}

func ExampleTracked() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		stock := tock.NewTracked(0)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			v, err := stock.WaitUntil(ctx, func(n int) bool { return n >= 3 })
			fmt.Printf("at +%v: stock %d, enough\n", tock.Now(ctx).Sub(sim.DefaultStart), v)
			return err
		})
		for range 4 {
			tock.Sleep(ctx, time.Minute)
			stock.Update(func(n int) int { return n + 1 })
		}
		return g.Wait()
	})
	// Output:
	// at +3m0s: stock 3, enough
}

func ExampleFlag() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		var open tock.Flag
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			open.Wait(ctx)
			fmt.Println("opened at", tock.Now(ctx).Sub(sim.DefaultStart))
			open.WaitClear(ctx)
			fmt.Println("closed at", tock.Now(ctx).Sub(sim.DefaultStart))
			return nil
		})
		tock.Sleep(ctx, 9*time.Hour)
		open.Set()
		tock.Sleep(ctx, 8*time.Hour)
		open.Clear()
		return g.Wait()
	})
	// Output:
	// opened at 9h0m0s
	// closed at 17h0m0s
}
