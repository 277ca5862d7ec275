package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

func metronome(period time.Duration, sound string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		for {
			if err := tock.Sleep(ctx, period); err != nil {
				return err
			}
			fmt.Printf("%s@%v\n", sound, tock.Now(ctx).Sub(sim.DefaultStart).Seconds())
		}
	}
}

func main() {
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(metronome(time.Second, "tick"))
		g.Go(metronome(2*time.Second, "TOCK"))
		return g.Wait()
	}, sim.For(5*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
