package bgctx

import (
	"context"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

func task(g *tock.Group, l *tock.Lock, q *tock.Queue[int]) {
	g.Go(func(ctx context.Context) error {
		if err := l.Lock(context.Background()); err != nil { // want `context.Background\(\) passed to tock inside a task carries no task.*pass the task's ctx`
			return err
		}
		defer l.Unlock(ctx)
		_, err := q.Get(context.TODO())              // want `context.TODO\(\) passed to tock`
		_ = tock.Sleep(context.Background(), 1)      // want `context.Background\(\) passed to tock`
		inner := tock.NewGroup(context.Background()) // want `context.Background\(\) passed to tock`
		_ = inner
		_ = use(context.Background(), l) // want `context.Background\(\) passed to tock`
		return err
	})
}

// use is a context function: a context passed to it reaches tock.
func use(ctx context.Context, l *tock.Lock) error { // want use:"tockCtxFunc"
	return l.Lock(ctx)
}

// Not reported: a new simulation or real-runtime run started from a fresh
// context, and tock calls outside task code.
func fine(g *tock.Group, l *tock.Lock) {
	g.Go(func(ctx context.Context) error {
		return sim.Run(context.Background(), func(ctx context.Context) error { return nil })
	})
	g.Go(func(ctx context.Context) error {
		// Questions about a context: a task-less one is a fair question.
		_ = tock.TaskID(context.Background())
		_ = tock.Simulated(context.Background())
		return nil
	})
	_ = l.Lock(context.Background())
	_ = tock.Run(context.Background(), func(ctx context.Context) error { return nil })
}
