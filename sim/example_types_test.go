package sim_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// A task that returns without releasing its connection leaves the pool's
// only token borrowed: the BlockedTask of the task that then waits for it
// names the borrower as ended. Where the primitive knows no holder (a Queue),
// HeldBy is empty.
func ExampleBlockedTask() {
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		pool := tock.NewCapacityLimiter(1)
		jobs := tock.NewQueue[string]()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			return pool.Acquire(ctx) // and forgets to Release
		}, tock.Name("migrate"))
		g.Go(func(ctx context.Context) error {
			_, err := jobs.Get(ctx) // nobody puts
			return err
		}, tock.Name("consumer"))
		tock.Sleep(ctx, time.Second)
		return pool.Acquire(ctx)
	})
	var d *sim.DeadlockError
	if errors.As(err, &d) {
		for _, b := range d.Blocked {
			fmt.Printf("%s waits on %s, held by %q\n", b.Task, b.WaitsOn, b.HeldBy)
		}
	}
	// Output:
	// main waits on CapacityLimiter.Acquire, held by ["migrate (ended)"]
	// consumer waits on Queue.Get, held by []
}

// An Estimate is a metric's mean over independent replications with a 95%
// confidence interval; more replications narrow it. The model: ten jobs one
// after the other, each taking an exponentially distributed time of mean one
// minute, so the expected total is 10 minutes.
func ExampleEstimate() {
	model := func(ctx context.Context, seed uint64) (sim.Metrics, error) {
		rng := rand.New(rand.NewPCG(seed, 0))
		start := tock.Now(ctx)
		for range 10 {
			d := time.Duration(rng.ExpFloat64() * float64(time.Minute))
			if err := tock.Sleep(ctx, d); err != nil {
				return nil, err
			}
		}
		return sim.Metrics{"minutes": tock.Now(ctx).Sub(start).Minutes()}, nil
	}
	for _, n := range []int{5, 100} {
		est, err := sim.Replicate(context.Background(), model, sim.Seeds(n))
		if err != nil {
			fmt.Println(err)
			return
		}
		e := est["minutes"]
		fmt.Printf("n=%d: %.1f in [%.1f, %.1f]\n", e.N, e.Mean, e.Low, e.High)
	}
	// Output:
	// n=5: 9.7 in [6.8, 12.5]
	// n=100: 9.7 in [9.1, 10.4]
}

// A model reports its Metrics, one value per name, at the end of each
// replication; Replicate turns each into an Estimate. Here a single till
// serving 200 customers: their mean wait, and how busy the cashier was.
func ExampleMetrics() {
	model := func(ctx context.Context, seed uint64) (sim.Metrics, error) {
		rng := rand.New(rand.NewPCG(seed, 0))
		minutes := func(mean float64) time.Duration {
			return time.Duration(rng.ExpFloat64() * mean * float64(time.Minute))
		}
		till := tock.NewPriorityLimiter(1) // one cashier; MonitorUse follows its use
		busy := tock.NewMonitor(ctx, 0)
		till.MonitorUse(busy)
		var wait tock.Tally
		g := tock.NewGroup(ctx)
		for range 200 {
			if err := tock.Sleep(ctx, minutes(1)); err != nil { // the next arrival
				return nil, err
			}
			service := minutes(0.8)
			g.Go(func(ctx context.Context) error {
				arrived := tock.Now(ctx)
				p, err := till.Acquire(ctx, 0)
				if err != nil {
					return err
				}
				defer p.Release()
				wait.AddDuration(tock.Now(ctx).Sub(arrived))
				return tock.Sleep(ctx, service)
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		return sim.Metrics{
			"wait (min)":  wait.Stats().Mean / 60,
			"utilisation": busy.Mean(),
		}, nil
	}
	est, err := sim.Replicate(context.Background(), model, sim.Seeds(20))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(est)) {
		e := est[name]
		fmt.Printf("%s: %.2f ± %.2f over %d replications\n", name, e.Mean, e.HalfWidth, e.N)
	}
	// Output:
	// utilisation: 0.78 ± 0.04 over 20 replications
	// wait (min): 2.70 ± 0.59 over 20 replications
}

// Options are values: a slice of them shares one setup between runs. Here a
// working day, from Monday 09:00 for 8 hours, with a break every 3 hours.
func ExampleOption() {
	day := []sim.Option{
		sim.Start(time.Date(2024, time.March, 4, 9, 0, 0, 0, time.UTC)),
		sim.For(8 * time.Hour),
	}
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		for {
			if err := tock.Sleep(ctx, 3*time.Hour); err != nil {
				fmt.Println("closing at", tock.Now(ctx).Format("Mon 15:04"))
				return err
			}
			fmt.Println("break at", tock.Now(ctx).Format("Mon 15:04"))
		}
	}, day...)
	fmt.Println("Run:", err)
	// Output:
	// break at Mon 12:00
	// break at Mon 15:00
	// closing at Mon 17:00
	// Run: <nil>
}

// Two transfers lock two accounts in opposite orders. The FIFO schedule
// passes; Explore finds one that deadlocks. The *ScheduleError wraps the
// *DeadlockError (errors.As reaches it through Unwrap), and its Seed
// replays that schedule.
func ExampleScheduleError() {
	main := func(ctx context.Context) error {
		var alice, bob tock.Lock
		transfer := func(from, to *tock.Lock) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				if err := from.Lock(ctx); err != nil {
					return err
				}
				defer from.Unlock(ctx)
				if err := tock.Yield(ctx); err != nil { // an audit write between the locks
					return err
				}
				if err := to.Lock(ctx); err != nil {
					return err
				}
				to.Unlock(ctx)
				return nil
			}
		}
		g := tock.NewGroup(ctx)
		g.Go(transfer(&alice, &bob), tock.Name("alice->bob"))
		g.Go(func(ctx context.Context) error {
			if err := tock.Yield(ctx); err != nil { // starts a little later
				return err
			}
			return transfer(&bob, &alice)(ctx)
		}, tock.Name("bob->alice"))
		return g.Wait()
	}
	fmt.Println("FIFO:", sim.Run(context.Background(), main))

	err := sim.Explore(context.Background(), main, sim.Schedules(200))
	var se *sim.ScheduleError
	var d *sim.DeadlockError
	if errors.As(err, &se) && errors.As(err, &d) {
		fmt.Println("schedule", se.Schedule, "deadlocks; cycle:", d.Cycle)
		fmt.Println("seed:", se.Seed)
		replay := sim.Run(context.Background(), main, sim.Replay(se.Seed))
		fmt.Println("replay deadlocks too:", errors.As(replay, &d))
	}
	// Output:
	// FIFO: <nil>
	// schedule 4 deadlocks; cycle: [alice->bob bob->alice]
	// seed: tock1:AAEEAQ
	// replay deadlocks too: true
}
