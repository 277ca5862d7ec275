package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/tockgo/tock"
)

// The three kinds of ctx users pass to tock's blocking calls, as rows of
// every real-runtime case: "tock-bg" is context.Background() (an anonymous
// task), "tock-task" is the ctx of a task from tock.Run, and "tock-derived"
// is a task's ctx under three context.WithValue and one context.WithCancel
// (request data and a cancel, the way services derive it).

type benchKey int

// derive wraps a task's ctx the way a service does.
func derive(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, benchKey(1), "request-id")
	ctx = context.WithValue(ctx, benchKey(2), "user")
	ctx = context.WithValue(ctx, benchKey(3), 3)
	return context.WithCancel(ctx)
}

// ctxKinds runs fn as the rows tock-bg, tock-task and tock-derived of b.
func ctxKinds(b *testing.B, fn func(b *testing.B, ctx context.Context)) {
	b.Run("tock-bg", func(b *testing.B) { b.ReportAllocs(); fn(b, context.Background()) })
	b.Run("tock-task", func(b *testing.B) {
		b.ReportAllocs()
		tock.Run(context.Background(), func(ctx context.Context) error { fn(b, ctx); return nil })
	})
	b.Run("tock-derived", func(b *testing.B) {
		b.ReportAllocs()
		tock.Run(context.Background(), func(ctx context.Context) error {
			d, cancel := derive(ctx)
			defer cancel()
			fn(b, d)
			return nil
		})
	})
}

// ctxKindsParallel runs fn on n goroutines, b.N calls in all, as the three
// rows: under tock-task and tock-derived each goroutine is a task of its own
// (Group.Go), under tock-bg all are anonymous.
func ctxKindsParallel(b *testing.B, n int, fn func(ctx context.Context)) {
	b.Run("tock-bg", func(b *testing.B) {
		b.ReportAllocs()
		parallel(b, n, func() { fn(context.Background()) })
	})
	ctxKindsParallelNoBg(b, n, fn)
}

func noWrap(ctx context.Context) (context.Context, context.CancelFunc) { return ctx, func() {} }

// runTasks runs fn in n tasks of a tock.Run, b.N calls in all, each task
// with its ctx wrapped by wrap; the clock starts once every task is ready.
func runTasks(b *testing.B, n int, wrap func(context.Context) (context.Context, context.CancelFunc), fn func(ctx context.Context)) {
	b.ReportAllocs()
	tock.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		var ready sync.WaitGroup
		ready.Add(n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			k := share(b.N, n, i)
			g.Go(func(ctx context.Context) error {
				ctx, cancel := wrap(ctx)
				defer cancel()
				ready.Done()
				<-start //tockvet:ignore benchmark set-up on the real runtime: a start barrier
				for j := 0; j < k; j++ {
					fn(ctx)
				}
				return nil
			})
		}
		ready.Wait() //tockvet:ignore benchmark set-up on the real runtime: waits for the goroutines to be ready
		b.ResetTimer()
		close(start)
		return g.Wait()
	})
}

// ctxChanLock is the ctx-aware lock Go programs write by hand: a channel
// of one, with a select on ctx.Done. Waiters are served by the Go runtime's
// channel queue, FIFO.
type ctxChanLock chan struct{}

func (c ctxChanLock) Lock(ctx context.Context) error {
	select {
	case c <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c ctxChanLock) Unlock() { <-c }

// mutexValueFloor is what any ctx-decoding lock pays at least: a sync.Mutex,
// the ctx's Err, and one lookup of a key through ctx for each of Lock and
// Unlock (the owner of a task-owned lock is in ctx). tock's Lock with a
// derived ctx is compared with it (row "floor-derived").
var floorKey = new(int)

func mutexValueFloor(m *sync.Mutex, ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	_ = ctx.Value(floorKey)
	m.Lock()
	_ = ctx.Value(floorKey)
	m.Unlock()
}

// ctxKindsParallelNoBg is ctxKindsParallel without the tock-bg row (for
// calls that need a task in ctx).
func ctxKindsParallelNoBg(b *testing.B, n int, fn func(ctx context.Context)) {
	b.Run("tock-task", func(b *testing.B) { runTasks(b, n, noWrap, fn) })
	b.Run("tock-derived", func(b *testing.B) { runTasks(b, n, derive, fn) })
}
