package bench

import (
	"context"
	"testing"

	"github.com/tockgo/tock"
)

// BenchmarkSelectReady: a Select over two Queues, the second holding an
// item (the first case is armed, then the second completes at once); per
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
