package outerctx

import (
	"context"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

func task(g *tock.Group, l *tock.Lock) {
	g.Go(func(ctx context.Context) error {
		inner := tock.NewGroup(ctx)
		inner.Go(func(task context.Context) error {
			return l.Lock(ctx) // want `task function uses ctx, a context from outside it: it acts as another task.*use its own parameter task`
		})
		inner.Start(func(c context.Context, started func()) error {
			started()
			return tock.Sleep(ctx, 1) // want `task function uses ctx`
		})
		inner.Go(func(_ context.Context) error {
			// No fix: the task's own parameter has no name.
			return tock.Sleep(ctx, 1) // want `task function uses ctx, .*use its own ctx parameter`
		})
		inner.Go(func(task context.Context) error {
			{
				task := 0
				_ = task
				// No fix: task is not the context here.
				return tock.Sleep(ctx, 1) // want `task function uses ctx`
			}
		})
		return inner.Wait()
	})
}

// A simulation's main uses the caller's context instead of its own.
func simMain(ctx context.Context) error { // want simMain:"tockCtxFunc"
	return sim.Run(ctx, func(sctx context.Context) error {
		return tock.Sleep(ctx, 1) // want `task function uses ctx`
	})
}

// Not reported: the task's own context, calls of an outer context's methods,
// an assignment to an outer variable, and nested tasks using their own.
func fine(g *tock.Group, parent context.Context) {
	var leaked context.Context
	g.Go(func(ctx context.Context) error {
		if parent.Err() != nil {
			return parent.Err()
		}
		leaked = ctx
		inner := tock.NewGroup(ctx)
		inner.Go(func(ctx context.Context) error { return tock.Yield(ctx) })
		helper := func(ctx context.Context) error { return tock.Yield(ctx) }
		_ = helper(ctx)
		return inner.Wait()
	})
	_ = leaked
}
