package gostmt

import (
	"context"

	"github.com/tockgo/tock"
)

func use(ctx context.Context) { _ = tock.Yield(ctx) } // want use:"tockCtxFunc"

func task(g *tock.Group, q *tock.Queue[int]) {
	g.Go(func(ctx context.Context) error {
		go func() { // want `go statement uses the task context ctx: the goroutine is not a task.*Group.Go`
			q.Put(ctx, 1)
		}()
		go use(ctx) // want `go statement uses the task context ctx`
		child, cancel := tock.WithTimeout(ctx, 5)
		defer cancel()
		go use(child) // want `go statement uses the task context child`
		return nil
	})
}

// Not reported: goroutines that do not carry the task's context (calling
// its methods, such as Done, does not pass it on), and go statements outside
// task code.
func fine(g *tock.Group, done chan struct{}) {
	g.Go(func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			close(done)
		}()
		go func(ctx context.Context) { // a context of the goroutine's own
			_ = ctx
		}(context.Background())
		return tock.Yield(ctx)
	})
	ctx := context.Background()
	go use(ctx)
}
