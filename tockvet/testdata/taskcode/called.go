package taskcode

import (
	"context"
	"time"

	"github.com/tockgo/tock"
)

// A function that task code passes its context to is task code, though the
// context never reaches tock (and it gets no fact: passing a context to it
// does not make the caller a context function).
func consume(ctx context.Context, ch <-chan int) error {
	for {
		select { // want `select without default`
		case v := <-ch:
			pause(ctx, v)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Called with a task context by consume, itself task code only because a
// task calls it.
func pause(ctx context.Context, n int) {
	time.Sleep(time.Duration(n)) // want `time.Sleep`
}

func startConsumer(g *tock.Group, ch <-chan int) {
	g.Go(func(ctx context.Context) error { return consume(ctx, ch) })
}

// Not task code: called only from code that is not task code, or with a
// context that is not a task's.
func notCalled(ctx context.Context) { time.Sleep(1) }

func other(ctx context.Context) { time.Sleep(1) }

func callers(g *tock.Group) {
	notCalled(context.Background())
	g.Go(func(ctx context.Context) error {
		other(context.Background())
		return nil
	})
}
