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
		// μSim first / SimPy any_of: the first wait to succeed wins; the
		// others are cancelled and stop waiting.
		name: "AO-01 AnyOf returns the first to succeed",
		body: func(ctx context.Context, h *H) error {
			var a, b, c tock.Event
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				i, err := tock.AnyOf(ctx, a.Wait, b.Wait, c.Wait)
				h.Log(ctx, "AnyOf: %d %v; still waiting: %d %d", i, err, a.Stats().Waiting, c.Stats().Waiting)
				return err
			})
			h.WaitUntil(ctx, "all wait", func() bool {
				return a.Stats().Waiting+b.Stats().Waiting+c.Stats().Waiting == 3
			})
			tock.Sleep(ctx, h.U(2))
			b.Set()
			if err := g.Wait(); err != nil {
				return err
			}
			// A Sleep as a timeout.
			i, err := tock.AnyOf(ctx, a.Wait, func(ctx context.Context) error { return tock.Sleep(ctx, h.U(3)) })
			h.Log(ctx, "timeout: %d %v", i, err)
			return nil
		},
		sim:     "2 AnyOf: 1 <nil>; still waiting: 0 0\n5 timeout: 1 <nil>",
		ordered: true,
	},
	scenario{
		// μSim collect / SimPy all_of: AllOf returns once all are done; the
		// first failure cancels the rest and is returned.
		name: "AO-02 AllOf",
		body: func(ctx context.Context, h *H) error {
			var a, b tock.Event
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				err := tock.AllOf(ctx, a.Wait, b.Wait)
				h.Log(ctx, "AllOf: %v", err)
				return err
			})
			h.WaitUntil(ctx, "both wait", func() bool { return a.Stats().Waiting+b.Stats().Waiting == 2 })
			tock.Sleep(ctx, h.U(1))
			a.Set()
			tock.Sleep(ctx, h.U(1))
			b.Set()
			if err := g.Wait(); err != nil {
				return err
			}
			boom := errors.New("boom")
			err := tock.AllOf(ctx, a.Wait, func(context.Context) error { return boom }, h.Forever)
			h.Log(ctx, "AllOf with a failure: %v", err)
			return nil
		},
		sim:     "2 AllOf: <nil>\n2 AllOf with a failure: boom",
		ordered: true,
	},
)

func TestAnyOfFailures(t *testing.T) {
	checkLeaks(t)
	sim.Run(context.Background(), func(ctx context.Context) error {
		e1, e2 := errors.New("one"), errors.New("two")
		i, err := tock.AnyOf(ctx, func(context.Context) error { return e1 }, func(context.Context) error { return e2 })
		if i != -1 || !errors.Is(err, e1) || !errors.Is(err, e2) {
			t.Errorf("all fail: %d %v, want -1 and both errors", i, err)
		}
		cctx, cancel := tock.WithTimeout(ctx, time.Second)
		defer cancel()
		var never tock.Event
		i, err = tock.AnyOf(cctx, never.Wait, never.Wait)
		if i != -1 || !errors.Is(err, context.DeadlineExceeded) || never.Stats().Waiting != 0 {
			t.Errorf("ctx times out: %d %v (waiting %d), want -1 and DeadlineExceeded", i, err, never.Stats().Waiting)
		}
		if i, err := tock.AnyOf(cctx, never.Wait); i != -1 || err == nil {
			t.Errorf("done ctx: %d %v", i, err)
		}
		// A tie at one instant goes to the wait that ran first.
		i, err = tock.AnyOf(ctx,
			func(ctx context.Context) error { return tock.Sleep(ctx, time.Second) },
			func(ctx context.Context) error { return tock.Sleep(ctx, time.Second) })
		if i != 0 || err != nil {
			t.Errorf("tie: %d %v, want 0", i, err)
		}
		return nil
	})
}

func TestAnyOfPanics(t *testing.T) {
	checkLeaks(t)
	defer func() {
		if r := fmt.Sprint(recover()); !strings.Contains(r, "tock: AnyOf: no wait given") {
			t.Errorf("panic %q", r)
		}
	}()
	tock.AnyOf(context.Background())
}

func TestAnyOfRepanics(t *testing.T) {
	checkLeaks(t)
	defer func() {
		r := recover()
		var pe *tock.PanicError
		if e, ok := r.(error); !ok || !errors.As(e, &pe) || pe.Value != "inside" {
			t.Errorf("recovered %v, want a *PanicError with the wait's value", r)
		}
	}()
	tock.Run(context.Background(), func(ctx context.Context) error {
		var never tock.Event
		tock.AnyOf(ctx, never.Wait, func(context.Context) error { panic("inside") })
		return nil
	})
}

func ExampleAnyOf() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		var served tock.Event
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, 5*time.Minute)
			served.Set()
			return nil
		})
		// A customer waits to be served, but no longer than 3 minutes.
		patience := func(ctx context.Context) error { return tock.Sleep(ctx, 3*time.Minute) }
		i, _ := tock.AnyOf(ctx, served.Wait, patience)
		fmt.Println([]string{"served", "reneged"}[i], "at", tock.Now(ctx).Sub(sim.DefaultStart))
		return g.Wait()
	})
	// Output:
	// reneged at 3m0s
}

func ExampleAllOf() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		step := func(d time.Duration) func(ctx context.Context) error {
			return func(ctx context.Context) error { return tock.Sleep(ctx, d) }
		}
		err := tock.AllOf(ctx, step(time.Second), step(3*time.Second), step(2*time.Second))
		fmt.Println("all done at", tock.Now(ctx).Sub(sim.DefaultStart), err)
		return nil
	})
	// Output:
	// all done at 3s <nil>
}
