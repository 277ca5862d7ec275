package sim_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// A simulated hour of a ticker takes no wall time, and gives the same result
// on every run.
func ExampleRun() {
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		for {
			if err := tock.Sleep(ctx, 20*time.Minute); err != nil {
				return err
			}
			fmt.Println(tock.Now(ctx).Format(time.TimeOnly))
		}
	}, sim.For(time.Hour))
	fmt.Println(err)
	// Output:
	// 00:20:00
	// 00:40:00
	// 01:00:00
	// <nil>
}

// A DeadlockError says what each blocked task waits on, who holds it, and
// the wait-for cycle.
func ExampleDeadlockError() {
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		var l tock.Lock
		l.Lock(ctx)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return l.Lock(ctx) }, tock.Name("worker"))
		return g.Wait() // waits for worker, which waits for main's Lock
	})
	var d *sim.DeadlockError
	if errors.As(err, &d) {
		fmt.Println("cycle:", d.Cycle)
		for _, b := range d.Blocked {
			fmt.Println(b.Task, "waits on", b.WaitsOn, "held by", b.HeldBy)
		}
	}
	fmt.Println(err)
	// Output:
	// cycle: [main worker]
	// main waits on Group.Wait held by [worker]
	// worker waits on Lock.Lock held by [main]
	// tock/sim: deadlock at 2000-01-01T00:00:00Z: 2 task(s) blocked; cycle: main -> worker -> main
	// 	main waits on Group.Wait, for worker
	// 	worker waits on Lock.Lock, held by main
}

// A task that blocks outside tock (here time.Sleep, the wall clock) holds the
// whole simulation; the watchdog ends the run with a *StallError naming it.
func ExampleStallError() {
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			if err := tock.Sleep(ctx, time.Minute); err != nil {
				return err
			}
			time.Sleep(300 * time.Millisecond) //tockvet:ignore the mistake this example shows
			return nil
		}, tock.Name("reporter"))
		return g.Wait()
	}, sim.StallTimeout(50*time.Millisecond))
	var se *sim.StallError
	if errors.As(err, &se) {
		fmt.Println(se.Task, "stalled at", se.At.Sub(sim.DefaultStart))
	}
	// Output: reporter stalled at 1m0s
}
