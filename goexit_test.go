package tock_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// A task that ends by runtime.Goexit (what t.Fatal does on a task's
// goroutine) is a failure the group records as ErrGoexit: Wait returns, the
// group is cancelled, and its deferred calls ran.
var _ = register(
	scenario{
		name: "Goexit in a group task ends Wait with ErrGoexit",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				defer h.Log(ctx, "deferred call ran")
				runtime.Goexit()
				return nil
			})
			g.Go(func(ctx context.Context) error {
				err := tock.Sleep(ctx, h.U(10))
				h.Log(ctx, "sibling woke: %v", err)
				return err
			})
			err := g.Wait()
			h.Log(ctx, "Wait: ErrGoexit %v", errors.Is(err, tock.ErrGoexit))
			return nil
		},
		sim: `0 deferred call ran
			0 sibling woke: context canceled
			0 Wait: ErrGoexit true`,
		ordered: true,
	},
	scenario{
		name: "Goexit in a Start task before started",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			err := g.Start(func(ctx context.Context, started func()) error {
				runtime.Goexit()
				return nil
			})
			h.Log(ctx, "Start: ErrGoexit %v", errors.Is(err, tock.ErrGoexit))
			g.Go(func(ctx context.Context) error { return nil }) // the group is still usable
			h.Log(ctx, "Wait: %v", g.Wait())
			return nil
		},
		sim: `0 Start: ErrGoexit true
			0 Wait: <nil>`,
		ordered: true,
	},
	scenario{
		name: "Goexit in a Start task after started",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			err := g.Start(func(ctx context.Context, started func()) error {
				started()
				runtime.Goexit()
				return nil
			})
			h.Log(ctx, "Start: %v", err)
			h.Log(ctx, "Wait: ErrGoexit %v", errors.Is(g.Wait(), tock.ErrGoexit))
			return nil
		},
		sim: `0 Start: <nil>
			0 Wait: ErrGoexit true`,
		ordered: true,
	},
)

// In a simulation, a task that calls runtime.Goexit does not take the run
// down with it: the other tasks go on (on reused coroutines too), and a main
// that calls it makes sim.Run return ErrGoexit.
func TestSimGoexit(t *testing.T) {
	err := within(t, "sim.Run with tasks that call runtime.Goexit", func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			for round := 0; round < 3; round++ {
				g := tock.NewGroup(ctx)
				for i := 0; i < 10; i++ {
					g.Go(func(ctx context.Context) error {
						if err := tock.Sleep(ctx, time.Duration(i)*time.Second); err != nil {
							return err
						}
						if i%3 == 0 {
							runtime.Goexit()
						}
						return nil
					})
				}
				if err := g.Wait(); !errors.Is(err, tock.ErrGoexit) {
					return errors.New("round: Wait did not return ErrGoexit: " + errString(err))
				}
			}
			runtime.Goexit()
			return nil
		})
	})
	if !errors.Is(err, tock.ErrGoexit) {
		t.Fatalf("sim.Run = %v, want ErrGoexit", err)
	}
}

// The same under the checked mode (the goroutine-ID misuse checks).
func TestSimGoexitChecked(t *testing.T) {
	err := within(t, "sim.Run with tasks that call runtime.Goexit", func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				runtime.Goexit() // what t.Fatal does after marking the test failed
				return nil
			})
			return g.Wait()
		}, sim.Checked())
	})
	if !errors.Is(err, tock.ErrGoexit) {
		t.Fatalf("sim.Run = %v, want ErrGoexit", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// A task the run abandons (here: deadlocked) that calls runtime.Goexit
// while it unwinds does not take the run's loop down with it: sim.Run
// returns the deadlock, and the other abandoned tasks are unwound too.
func TestSimGoexitWhileAbandoned(t *testing.T) {
	var unwound [3]bool
	err := within(t, "sim.Run with an abandoned task that calls runtime.Goexit while it unwinds", func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			var ev tock.Event
			g := tock.NewGroup(ctx)
			for i := range unwound {
				g.Go(func(ctx context.Context) error {
					defer func() { unwound[i] = true }()
					if i == 1 {
						defer runtime.Goexit() // what a deferred t.FailNow does
					}
					return ev.Wait(context.WithoutCancel(ctx))
				})
			}
			return g.Wait()
		})
	})
	var dl *sim.DeadlockError
	if !errors.As(err, &dl) {
		t.Fatalf("sim.Run = %v, want a *sim.DeadlockError", err)
	}
	if unwound != [3]bool{true, true, true} {
		t.Errorf("unwound = %v, want every abandoned task unwound", unwound)
	}
}
