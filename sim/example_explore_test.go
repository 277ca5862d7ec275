package sim_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// Two tasks increment a counter with a checkpoint (a Yield, standing for a
// log write) between the read and the write. The FIFO run passes; Explore
// finds the interleaving that loses an update, shrinks it to the one
// deviation from FIFO it needs, and gives the seed that replays it.
func ExampleExplore() {
	main := func(ctx context.Context) error {
		counter := 0
		inc := func(ctx context.Context) error {
			v := counter
			if err := tock.Yield(ctx); err != nil {
				return err
			}
			counter = v + 1
			return nil
		}
		g := tock.NewGroup(ctx)
		g.Go(inc)
		g.Go(func(ctx context.Context) error {
			if err := tock.Yield(ctx); err != nil { // starts a little later
				return err
			}
			return inc(ctx)
		})
		if err := g.Wait(); err != nil {
			return err
		}
		if counter != 2 {
			return fmt.Errorf("lost update: counter = %d", counter)
		}
		return nil
	}
	fmt.Println("FIFO:", sim.Run(context.Background(), main))

	err := sim.Explore(context.Background(), main, sim.Schedules(100))
	var se *sim.ScheduleError
	if errors.As(err, &se) {
		fmt.Println("found:", se.Err)
		fmt.Println("seed:", se.Seed)
		for _, ev := range se.Trace {
			fmt.Println(ev)
		}
		// the seed replays exactly that schedule
		fmt.Println("replay:", sim.Run(context.Background(), main, sim.Replay(se.Seed)))
	}
	// Output:
	// FIFO: <nil>
	// found: lost update: counter = 1
	// seed: tock1:AAEEAQ
	// +0s main: waits on Group.Wait
	// +0s task 2: gives way
	// +0s task 3: gives way
	// +0s task 3: gives way [ran out of turn: 2 of 2 runnable]
	// +0s task 2: returns
	// +0s task 3: returns
	// +0s main: returns
	// replay: lost update: counter = 1
}

// In a test, sim.Test runs main once under FIFO, or explores when given
// Schedules, Random or PCT; a failure names the seed, and
// TOCK_SEED=<seed> go test -run '^TestTransfer$' replays it.
func ExampleTest() {
	transfer := func(ctx context.Context) error {
		var a, b tock.Lock
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			if err := a.Lock(ctx); err != nil {
				return err
			}
			defer a.Unlock(ctx)
			if err := b.Lock(ctx); err != nil {
				return err
			}
			b.Unlock(ctx)
			return nil
		})
		return g.Wait()
	}
	TestTransfer := func(t *testing.T) {
		sim.Test(t, transfer, sim.PCT(2), sim.Schedules(500))
	}
	_ = TestTransfer
}

// Report fills an ExploreStats: how many schedules ran, which one failed,
// and how far shrinking got (PerSecond gives the rate, which varies from
// machine to machine).
func ExampleExploreStats() {
	var st sim.ExploreStats
	sim.Explore(context.Background(), func(ctx context.Context) error {
		ready := false
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { ready = true; return nil })
		if err := tock.Yield(ctx); err != nil {
			return err
		}
		if !ready {
			return errors.New("not ready")
		}
		return g.Wait()
	}, sim.Schedules(100), sim.Report(&st))
	// st.Schedules may exceed st.Failed: workers run later schedules while
	// an earlier one fails
	fmt.Printf("failed at schedule %d; %d deviation(s), shrunk to %d\n", st.Failed, st.Deviations, st.Shrunk)
	// Output:
	// failed at schedule 2; 1 deviation(s), shrunk to 1
}
