package tock

import (
	"context"
	"iter"

	"github.com/tockgo/tock/internal"
)

// Queue is an unbounded FIFO stream (μSim's Queue): each item goes to exactly
// one consumer, and consumers are served in the order they started waiting.
// After Close, Put fails, and consumers still get the buffered items, then
// ErrStreamClosed. The zero value is an empty, open queue.
//
// The buffer's memory follows what it holds: with n items buffered it has at
// most max(8, 4n) slots, so a queue drained after a burst gives the burst's
// memory back (1M items put and then taken leave 8 slots).
//
// In a simulation, Put (and Get on a non-empty queue) let the tasks already
// runnable at this instant run first, as in μSim.
type Queue[T any] struct {
	p pipe[T]
}

// NewQueue returns an empty, open queue.
func NewQueue[T any]() *Queue[T] {
	q := &Queue[T]{}
	q.p.max = Unbounded
	return q
}

// Put appends v, handing it straight to the oldest waiting consumer if there
// is one. It never blocks for room. It returns ctx's error if ctx is done, and
// ErrStreamClosed at once if the queue is closed. It panics if ctx is nil.
// A Put synchronizes before the Get that takes its item returns.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	panicIfNilCtx("Queue.Put", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	q.p.mu.Lock()
	if q.p.ended {
		q.p.mu.Unlock()
		return ErrStreamClosed
	}
	q.p.max = Unbounded // a queue never blocks a Put: also for the zero value
	q.p.offer(v)
	q.p.mu.Unlock()
	internal.RuntimeOf(ctx).Checkpoint()
	return nil
}

// Get removes and returns the oldest item, blocking while the queue is empty.
// It returns ErrStreamClosed once the queue is closed and drained, and ctx's
// error if ctx is done first; an item handed to the caller before it noticed
// its cancellation is returned, never lost. It panics if ctx is nil.
func (q *Queue[T]) Get(ctx context.Context) (T, error) { return q.get(ctx, false) }

// get is Get, which is inlined: a consumer woken with an item returns
// through two frames fewer above its park (see SendStream.send). timing:
// getWatched's call, which the monitors time already.
func (q *Queue[T]) get(ctx context.Context, timing bool) (T, error) {
	if !timing {
		if m := q.p.mons.Load(); m != nil {
			return q.getWatched(m, ctx)
		}
	}
	panicIfNilCtx("Queue.Get", ctx)
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	c := internal.DecodeRT(ctx)
	q.p.mu.Lock()
	nonEmpty := q.p.buf.n > 0
	q.p.mu.Unlock()
	if nonEmpty {
		if c.RT.Checkpoint() && ctx.Err() != nil {
			return zero, ctx.Err()
		}
	}
	q.p.mu.Lock()
	if v, done, err := q.p.poll(); done { // ended: ErrStreamClosed, what Close ends it with
		return v, err
	}
	return received(internal.Block(ctx, c, &q.p.mu, &q.p.recvq, slot[T]{}, "Queue.Get"))
}

// All ranges over the items until the queue is closed and drained, or ctx is
// done. It panics at once if ctx is nil.
func (q *Queue[T]) All(ctx context.Context) iter.Seq[T] {
	panicIfNilCtx("Queue.All", ctx)
	return func(yield func(T) bool) {
		rangeUntilErr(func() (T, error) { return q.Get(ctx) }, yield)
	}
}

// Close closes the queue: Put fails from now on, and consumers waiting on an
// empty queue get ErrStreamClosed. Close is idempotent and never blocks. It
// synchronizes before the return of every call that fails because of it.
func (q *Queue[T]) Close() {
	q.p.mu.Lock()
	q.p.end(ErrStreamClosed)
	q.p.mu.Unlock()
}

// Closed reports whether Close has been called.
func (q *Queue[T]) Closed() bool {
	q.p.mu.Lock()
	defer q.p.mu.Unlock()
	return q.p.ended
}

// Len is the number of buffered items.
func (q *Queue[T]) Len() int {
	q.p.mu.Lock()
	defer q.p.mu.Unlock()
	return q.p.buf.n
}

// Waiting is the number of consumers blocked in Get.
func (q *Queue[T]) Waiting() int {
	q.p.mu.Lock()
	defer q.p.mu.Unlock()
	return q.p.recvq.Len()
}

// getWatched is Get timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (q *Queue[T]) getWatched(m *Monitors, ctx context.Context) (T, error) {
	return timedV(m, ctx, func() (T, error) { return q.get(ctx, true) })
}
