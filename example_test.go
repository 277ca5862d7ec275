package tock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

func ExampleLock() {
	// Two tellers update one balance; the Lock is handed over FIFO, and is
	// re-entrant for its owner (deposit calls audit, which locks again).
	sim.Run(context.Background(), func(ctx context.Context) error {
		var mu tock.Lock
		balance := 100
		audit := func(ctx context.Context) {
			mu.Lock(ctx) // the owner re-enters
			defer mu.Unlock(ctx)
			fmt.Printf("audit at +%v: balance %d\n", tock.Now(ctx).Sub(sim.DefaultStart), balance)
		}
		deposit := func(ctx context.Context, amount int) error {
			if err := mu.Lock(ctx); err != nil {
				return err
			}
			defer mu.Unlock(ctx)
			tock.Sleep(ctx, time.Second) // slow bookkeeping, lock held
			balance += amount
			audit(ctx)
			return nil
		}
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return deposit(ctx, 50) })
		g.Go(func(ctx context.Context) error { return deposit(ctx, -30) })
		return g.Wait()
	})
	// Output:
	// audit at +1s: balance 150
	// audit at +2s: balance 120
}

func ExampleGroup() {
	// The first failure cancels the other tasks; Wait reports the failure,
	// not the cancellations it caused.
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, 2*time.Second)
			return errors.New("disk full")
		})
		g.Go(func(ctx context.Context) error {
			err := tock.Sleep(ctx, time.Hour)
			fmt.Printf("the long task stops at +%v: %v\n", tock.Now(ctx).Sub(sim.DefaultStart), err)
			return err
		})
		return g.Wait()
	})
	fmt.Println("Wait:", err)
	// Output:
	// the long task stops at +2s: context canceled
	// Wait: disk full
}
