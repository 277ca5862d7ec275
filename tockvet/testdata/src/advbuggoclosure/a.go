// A closure bound to a variable that captures the task's ctx, started with
// go or errgroup's Go: the goroutine carries the task's context.
package advbuggoclosure

import (
	"context"

	"github.com/tockgo/tock"
	"golang.org/x/sync/errgroup"
)

func tasks(g *tock.Group) {
	g.Go(func(ctx context.Context) error {
		h := func() { _ = tock.Yield(ctx) }
		go h() // want `go statement uses the task context ctx`
		var eg errgroup.Group
		ef := func() error { return tock.Yield(ctx) }
		eg.Go(ef) // want `runs on another goroutine and uses the task context ctx`
		return nil
	})
}
