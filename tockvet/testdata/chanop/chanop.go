package chanop

import (
	"context"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

func task(g *tock.Group, ch chan int) {
	g.Go(func(ctx context.Context) error {
		ch <- 1       // want `channel send in tock task code blocks outside tock.*tock.Queue \(Put\)`
		v := <-ch     // want `channel receive in tock task code blocks outside tock.*tock.Queue \(Get\)`
		v, ok := <-ch // want `channel receive`
		_, _ = v, ok
		<-ctx.Done()   // want `<-ctx.Done\(\) in tock task code blocks outside tock.*tock.Sleep\(ctx, d\)`
		for range ch { // want `range over a channel in tock task code.*All\(ctx\)`
		}
		select { // want `select without default in tock task code blocks outside tock`
		case v := <-ch:
			_ = v
		case ch <- 2:
		case <-ctx.Done():
		}
		select { // want `select without default`
		case ch <- <-ch: // want `channel receive`
		}
		return nil
	})
}

func simTask() error {
	ch := make(chan time.Duration)
	return sim.Run(context.Background(), func(ctx context.Context) error {
		return tock.Sleep(ctx, <-ch) // want `channel receive`
	})
}

// Not reported: non-blocking operations, and code that is not a task's.
func fine(g *tock.Group, ch chan int, q *tock.Queue[int]) {
	g.Go(func(ctx context.Context) error {
		select {
		case v := <-ch:
			_ = v
		case ch <- 1:
		default:
		}
		_ = len(ch)
		_ = cap(ch)
		close(ch)
		done := make(chan struct{})
		go func() {
			<-ch // a raw goroutine's own wait: not the task's
			close(done)
		}()
		for v := range q.All(ctx) {
			_ = v
		}
		return nil
	})
	ch <- 1
	<-ch
	select {
	case <-ch:
	}
}
