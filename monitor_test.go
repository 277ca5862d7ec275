package tock_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

func TestMonitorTimeWeighted(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		m := tock.NewMonitor(ctx, 0)
		if s := m.Stats(); s.Mean != 0 || s.Duration != 0 {
			t.Errorf("no time passed: %+v", s)
		}
		tock.Sleep(ctx, time.Second)
		m.Add(2) // 2 for 3 s
		tock.Sleep(ctx, 3*time.Second)
		m.Set(1) // 1 for 1 s
		m.Set(1)
		tock.Sleep(ctx, time.Second)
		s := m.Stats()
		mean := (0*1 + 2*3 + 1*1) / 5.0
		sd := math.Sqrt((4*3+1*1)/5.0 - mean*mean)
		if s.Mean != mean || math.Abs(s.StdDev-sd) > 1e-12 || s.Max != 2 || s.Min != 0 || s.Value != 1 || s.Changes != 3 {
			t.Errorf("stats %+v, want mean %g sd %g", s, mean, sd)
		}
		m.Reset()
		tock.Sleep(ctx, time.Second)
		if s := m.Stats(); s.Mean != 1 || s.Min != 1 || s.Duration != time.Second {
			t.Errorf("after Reset: %+v", s)
		}
		return nil
	})
}

func TestTally(t *testing.T) {
	var tl tock.Tally
	if s := tl.Stats(); s.Count != 0 || !math.IsNaN(tl.Quantile(0.5)) {
		t.Errorf("empty: %+v", s)
	}
	for _, x := range []float64{4, 1, 3, 2} {
		tl.Add(x)
	}
	s := tl.Stats()
	if s.Count != 4 || s.Mean != 2.5 || s.Min != 1 || s.Max != 4 || math.Abs(s.StdDev-math.Sqrt(5.0/3)) > 1e-12 {
		t.Errorf("stats %+v", s)
	}
	if q := tl.Quantile(0.5); q != 2.5 {
		t.Errorf("median %g", q)
	}
	if q := tl.Quantile(1); q != 4 {
		t.Errorf("max quantile %g", q)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Quantile(2) did not panic")
			}
		}()
		tl.Quantile(2)
	}()
}

func TestTallyTime(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		var waits tock.Tally
		sem := tock.NewSemaphore(0)
		g := tock.NewGroup(ctx)
		for range 2 {
			g.Go(func(ctx context.Context) error { return waits.Time(ctx, sem.Acquire) })
		}
		tock.Sleep(ctx, 2*time.Second)
		sem.Release()
		tock.Sleep(ctx, 2*time.Second)
		sem.Release()
		g.Wait()
		if s := waits.Stats(); s.Count != 2 || s.Mean != 3 || s.Min != 2 || s.Max != 4 {
			t.Errorf("waits %+v, want 2 and 4 s", s)
		}
		cctx, cancel := tock.WithCancel(ctx)
		cancel()
		if err := waits.Time(cctx, sem.Acquire); err == nil || waits.Stats().Count != 2 {
			t.Errorf("a failed wait was recorded: %v %+v", err, waits.Stats())
		}
		return nil
	})
}

func ExampleMonitor() {
	// The utilisation of one server busy 3 minutes out of every 4.
	sim.Run(context.Background(), func(ctx context.Context) error {
		busy := tock.NewMonitor(ctx, 0)
		for range 10 {
			busy.Set(1)
			tock.Sleep(ctx, 3*time.Minute)
			busy.Set(0)
			tock.Sleep(ctx, time.Minute)
		}
		fmt.Printf("utilisation %.2f over %v\n", busy.Mean(), busy.Stats().Duration)
		return nil
	})
	// Output:
	// utilisation 0.75 over 40m0s
}

func ExampleTally() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		var waits tock.Tally
		var l tock.Lock
		g := tock.NewGroup(ctx)
		for range 3 {
			g.Go(func(ctx context.Context) error {
				if err := waits.Time(ctx, l.Lock); err != nil {
					return err
				}
				defer l.Unlock(ctx)
				return tock.Sleep(ctx, time.Second)
			})
		}
		g.Wait()
		s := waits.Stats()
		fmt.Printf("%d waits: mean %gs, max %gs\n", s.Count, s.Mean, s.Max)
		return nil
	})
	// Output:
	// 3 waits: mean 1s, max 2s
}

// Concurrent Adds are never lost (Add reads and changes the value in one
// step), and each returns the value it made: the returned values are
// exactly 1..n.
func TestMonitorAddConcurrent(t *testing.T) {
	checkLeaks(t)
	const tasks, rounds = 4, 5000
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		m := tock.NewMonitor(ctx, 0)
		seen := make([][]float64, tasks)
		g := tock.NewGroup(ctx)
		for k := range tasks {
			g.Go(func(ctx context.Context) error {
				for range rounds {
					seen[k] = append(seen[k], m.Add(1))
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		n := tasks * rounds
		if s := m.Stats(); s.Value != float64(n) || s.Max != float64(n) || s.Min != 0 || s.Changes != n {
			return fmt.Errorf("after %d concurrent Add(1): %+v", n, s)
		}
		got := make([]bool, n+1)
		for _, vs := range seen {
			for _, v := range vs {
				if v < 1 || v > float64(n) || got[int(v)] {
					return fmt.Errorf("Add returned %g twice or out of 1..%d", v, n)
				}
				got[int(v)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
