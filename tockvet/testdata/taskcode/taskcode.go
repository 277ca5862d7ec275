// Package taskcode checks which functions count as task code.
package taskcode

import (
	"context"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// A named function passed as a task.
func named(ctx context.Context) error { // want named:"tockCtxFunc"
	time.Sleep(1) // want `time.Sleep`
	return nil
}

type worker struct{ ch chan int }

// A method value passed as a task.
func (w *worker) run(ctx context.Context) error { // want run:"tockCtxFunc"
	<-w.ch // want `channel receive`
	return nil
}

// A task function of the form Group.Start takes.
func starter(ctx context.Context, started func()) error { // want starter:"tockCtxFunc"
	started()
	time.Sleep(1) // want `time.Sleep`
	return nil
}

func start(ctx context.Context, w *worker) error { // want start:"tockCtxFunc"
	g := tock.NewGroup(ctx)
	g.Go(named)
	g.Go(w.run)
	g.Start(starter)
	return g.Wait()
}

// Context functions, across calls: deep passes ctx to middle, which passes
// it to tock; a context derived by a helper counts too.
func deep(ctx context.Context) error { // want deep:"tockCtxFunc"
	time.Sleep(1) // want `time.Sleep`
	return middle(ctx)
}

func middle(ctx context.Context) error { // want middle:"tockCtxFunc"
	time.Sleep(1) // want `time.Sleep`
	return tock.Yield(withTrace(ctx))
}

func withTrace(ctx context.Context) context.Context { return context.WithValue(ctx, key{}, 1) }

type key struct{}

// A literal bound to a variable is a context function when it passes its
// context to tock; a caller that passes its context to it is one too.
func viaVar(g *tock.Group) {
	step := func(ctx context.Context) error {
		time.Sleep(1) // want `time.Sleep`
		return tock.Yield(ctx)
	}
	g.Go(func(ctx context.Context) error { return step(ctx) })
	caller := func(ctx context.Context) {
		time.Sleep(1) // want `time.Sleep`
		_ = step(ctx)
	}
	_ = caller
	// A literal bound to a variable and passed as a task.
	ch := make(chan int)
	w := func(ctx context.Context) error {
		<-ch // want `channel receive`
		return nil
	}
	g.Go(w)
}

// Generic tock types count as tock.
func generic(ctx context.Context, s *tock.ReceiveStream[int]) { // want generic:"tockCtxFunc"
	time.Sleep(1) // want `time.Sleep`
	_, _ = s.Receive(ctx)
}

// Not task code: a function whose context does not reach tock, and one
// that passes its context only to an entry point (tock.Run, sim.Run), whose
// context is the caller's, not a task's.
func fetch(ctx context.Context) error {
	time.Sleep(1)
	return ctx.Err()
}

func entry(ctx context.Context, real bool) error {
	time.Sleep(1)
	main := func(ctx context.Context) error { return tock.Yield(ctx) }
	if real {
		return tock.Run(ctx, main)
	}
	return sim.Run(ctx, main)
}
