package sim_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal/leaktest"
	"github.com/tockgo/tock/sim"
)

// Bad input to Run and its options panics at the call, naming the rule,
// before anything runs: never a run that silently returns nil.
func TestRunBadInput(t *testing.T) {
	leaktest.Check(t)
	ran := false
	main := func(ctx context.Context) error { ran = true; return nil }
	bg := context.Background()
	t0 := sim.DefaultStart
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"nil ctx", func() { sim.Run(nil, main) }, "tock/sim: Run: nil ctx; use context.Background()"},
		{"nil main", func() { sim.Run(bg, nil) }, "tock/sim: Run: main is nil"},
		{"nil option", func() { sim.Run(bg, main, nil) }, "tock/sim: Run: option 0 (counting from 0) is nil"},
		{"nil option after others", func() { sim.Run(bg, main, sim.For(time.Hour), nil) }, "tock/sim: Run: option 1 (counting from 0) is nil"},
		{"negative For", func() { sim.For(-time.Second) }, "tock/sim: For: the duration -1s is negative; the clock cannot run backwards"},
		{"negative For in Run", func() { sim.Run(bg, main, sim.For(-1)) }, "tock/sim: For: the duration -1ns is negative"},
		{"Until before the default start", func() { sim.Run(bg, main, sim.Until(t0.Add(-time.Nanosecond))) },
			"tock/sim: Run: Until(1999-12-31T23:59:59.999999999Z) is before the start 2000-01-01T00:00:00Z; the clock cannot run backwards"},
		{"Until before Start", func() { sim.Run(bg, main, sim.Start(t0.Add(time.Hour)), sim.Until(t0)) },
			"tock/sim: Run: Until(2000-01-01T00:00:00Z) is before the start 2000-01-01T01:00:00Z"},
		{"Start after Until", func() { sim.Run(bg, main, sim.Until(t0), sim.Start(t0.Add(time.Hour))) },
			"tock/sim: Run: Until(2000-01-01T00:00:00Z) is before the start 2000-01-01T01:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				tc.call()
				return "no panic"
			}()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("panic %q, want %q", msg, tc.want)
			}
			if ran {
				t.Errorf("main ran")
			}
		})
	}
}

// The edges of what is allowed: For(0) and Until(start) run the start
// instant, then stop; of Until and For the last wins.
func TestRunLimitsAtTheEdge(t *testing.T) {
	leaktest.Check(t)
	t0 := sim.DefaultStart
	for _, tc := range []struct {
		name string
		opts []sim.Option
		want time.Duration // how long main sleeps before the run stops it
	}{
		{"For(0)", []sim.Option{sim.For(0)}, 0},
		{"Until(start)", []sim.Option{sim.Start(t0.Add(time.Hour)), sim.Until(t0.Add(time.Hour))}, 0},
		{"For then Until", []sim.Option{sim.For(time.Hour), sim.Until(t0.Add(time.Minute))}, time.Minute},
		{"Until then For", []sim.Option{sim.Until(t0.Add(time.Minute)), sim.For(time.Hour)}, time.Hour},
		{"Until before start, then For", []sim.Option{sim.Until(t0.Add(-time.Hour)), sim.For(time.Second)}, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var start, end time.Time
			ranAtStart := false
			err := sim.Run(context.Background(), func(ctx context.Context) error {
				start = tock.Now(ctx)
				tock.Yield(ctx)
				ranAtStart = true
				err := tock.Sleep(ctx, 1000*time.Hour)
				end = tock.Now(ctx)
				return err
			}, tc.opts...)
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v", err)
			}
			if !ranAtStart || end.Sub(start) != tc.want {
				t.Errorf("ran at start %v, stopped after %v, want %v", ranAtStart, end.Sub(start), tc.want)
			}
		})
	}
}
