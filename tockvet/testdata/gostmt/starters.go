package gostmt

import (
	"context"
	"sync"

	"github.com/tockgo/tock"
	"golang.org/x/sync/errgroup"
)

// Functions that other APIs run on a goroutine of their own are go
// statements too.
func starters(g *tock.Group, q *tock.Queue[int]) {
	g.Go(func(ctx context.Context) error {
		var wg sync.WaitGroup
		wg.Go(func() { // want `the function passed to wg.Go runs on another goroutine and uses the task context ctx.*Group.Go`
			q.Put(ctx, 1)
		})
		eg, ectx := errgroup.WithContext(ctx)
		eg.Go(func() error { // want `the function passed to eg.Go runs on another goroutine and uses the task context ectx`
			_, err := q.Get(ectx)
			return err
		})
		eg.TryGo(func() error { // want `eg.TryGo`
			return tock.Yield(ctx)
		})
		stop := context.AfterFunc(ctx, func() { // want `the function passed to context.AfterFunc runs on another goroutine`
			q.Put(ctx, 2)
		})
		defer stop()
		// Not reported: functions that do not pass the task's context on.
		done := make(chan struct{})
		wg.Go(func() {
			<-done // the goroutine's own wait, not the task's
		})
		context.AfterFunc(ctx, func() { close(done) })
		eg.Go(func() error { return ectx.Err() })
		return eg.Wait() // want `errgroup.Group.Wait in tock task code: it blocks outside tock.*Group.Wait`
	})
}
