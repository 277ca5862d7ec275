// Package adv: passing adversarial cases not covered by the other testdata
// (import forms, method expressions, embedding, generics, odd control flow).
package adv

import (
	"context"
	stdctx "context"
	"iter"
	"sync"
	. "time"
	tm "time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

type S struct{ *tock.Group }

type W[T any] struct{ ch chan T }

// A method of a generic type, passed as a task through an instance.
func (w *W[T]) run(ctx context.Context) error { // want run:"tockCtxFunc"
	Sleep(1) // want `time.Sleep`
	<-w.ch   // want `channel receive`
	return nil
}

// A Lock through a type parameter constrained by sync.Locker.
func lockIt[L sync.Locker](ctx context.Context, l L) error { // want lockIt:"tockCtxFunc parks"
	l.Lock() // want `sync.Locker.Lock`
	err := tock.Yield(ctx)
	l.Unlock()
	return err
}

// A helper called from a task starts a goroutine with the task's ctx.
func spawn(ctx context.Context) { // want spawn:"tockCtxFunc"
	go func() { _ = tock.Yield(ctx) }() // want `go statement uses the task context ctx`
}

// Not task code: an iterator over a channel, an init and a main that start
// goroutines before any simulation.
func seq(ch chan int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for v := range ch {
			if !yield(v) {
				return
			}
		}
	}
}

func init() {
	go func() {}()
}

func main() {
	ctx := context.Background()
	ch := make(chan int, 1)
	go func() { ch <- 1 }()
	<-ch
	_ = sim.Run(ctx, func(ctx context.Context) error { return tock.Sleep(ctx, 1) })
}

func tasks(s S, mu *sync.Mutex, wg *sync.WaitGroup, ch chan int, outer context.Context) { // want tasks:"tockCtxFunc"
	(*tock.Group).Go(s.Group, func(ctx context.Context) error {
		Now()      // want `time.Now`
		tm.Tick(1) // want `time.Tick`
		return nil
	})
	s.Go(func(ctx context.Context) error {
		defer wg.Wait()        // want `sync.WaitGroup.Wait`
		(*sync.Mutex).Lock(mu) // want `sync.Mutex.Lock`
		_ = tock.Yield(ctx)
		mu.Unlock()
		spawn(ctx)
		_ = tock.Sleep(stdctx.TODO(), 1)  // want `context.TODO\(\) passed to tock`
		_, _ = stdctx.WithTimeout(ctx, 1) // want `context.WithTimeout on a task context`
		<-tm.After(1)                     // want `channel receive` `time.After`
	outer:
		for i := 0; i < 3; i++ {
			for j := range 3 {
				if j == 1 {
					continue outer
				}
				if j == 2 {
					goto done
				}
			}
		}
	done:
		for v := range seq(ch) {
			_ = v
			Sleep(1) // want `time.Sleep`
		}
		var x any = 1
		switch x.(type) {
		case int:
		}
		var l tock.Locker
		lk := l.Lock
		_, _ = lk, x
		select {
		default:
		}
		select {} // want `select without default`
	})
	s.Go(func(context.Context) error {
		return tock.Yield(outer) // want `task function uses outer, a context from outside it.*its own ctx parameter`
	})
	var w W[int]
	s.Go(w.run)
	s.Go(func(ctx context.Context) error { return lockIt(ctx, mu) })
}

func generic[T any](g *tock.Group, v T) {
	g.Go(func(ctx context.Context) error {
		switch any(v).(type) {
		case int:
			Sleep(1) // want `time.Sleep`
		}
		return nil
	})
}
