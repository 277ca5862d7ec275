package bench

import (
	"context"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// BenchmarkSelectReady: a Select over two Queues, the second holding an
// item (a first pass finds the second ready; nothing is queued); per
// op, one Put and one Select. The peer is Go's select over two buffered
// channels and the ctx's Done, the second ready.
func BenchmarkSelectReady(b *testing.B) {
	ctxKinds(b, func(b *testing.B, ctx context.Context) {
		q1, q2 := tock.NewQueue[int](), tock.NewQueue[int]()
		for i := 0; b.Loop(); i++ {
			q2.Put(ctx, i)
			tock.Select(ctx, tock.OnGet(q1, nil), tock.OnGet(q2, nil))
		}
	})
	b.Run("chan-ctx", func(b *testing.B) {
		ctx := context.Background()
		c1, c2 := make(chan int, 1), make(chan int, 1)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c2 <- i
			select {
			case <-c1:
			case <-c2:
			case <-ctx.Done():
			}
		}
	})
}

// BenchmarkSimSelectWait: in a simulation, a task Selects over two empty
// Queues (both cases queue a waiter) and another task puts an item into
// the second; per op, one Select that waits, one Put and the two switches.
// The peer is the same hand-off through a plain Get on one Queue.
func BenchmarkSimSelectWait(b *testing.B) {
	run := func(b *testing.B, wait func(ctx context.Context, q1, q2 *tock.Queue[int]) error) {
		b.ReportAllocs()
		sim.Run(context.Background(), func(ctx context.Context) error {
			q1, q2 := tock.NewQueue[int](), tock.NewQueue[int]()
			done := false // one task runs at a time
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				defer func() { done = true }()
				for b.Loop() {
					if err := wait(ctx, q1, q2); err != nil {
						return err
					}
				}
				return nil
			})
			g.Go(func(ctx context.Context) error {
				for !done {
					if q2.Waiting() == 0 {
						tock.Yield(ctx)
						continue
					}
					q2.Put(ctx, 1)
				}
				return nil
			})
			return g.Wait()
		})
	}
	b.Run("tock", func(b *testing.B) {
		run(b, func(ctx context.Context, q1, q2 *tock.Queue[int]) error {
			_, err := tock.Select(ctx, tock.OnGet(q1, nil), tock.OnGet(q2, nil))
			return err
		})
	})
	// a customer who reneges: the item or a timeout (that is not reached)
	b.Run("tock-timeout", func(b *testing.B) {
		run(b, func(ctx context.Context, q1, q2 *tock.Queue[int]) error {
			_, err := tock.Select(ctx, tock.OnGet(q2, nil), tock.OnTimeout(time.Hour, nil))
			return err
		})
	})
	b.Run("get", func(b *testing.B) {
		run(b, func(ctx context.Context, q1, q2 *tock.Queue[int]) error {
			_, err := q2.Get(ctx)
			return err
		})
	})
}
