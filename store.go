package tock

import (
	"context"
	"sort"

	"github.com/tockgo/tock/internal"
)

// This file holds the Queue's store options (SimPy's FilterStore and
// PriorityStore) on the Queue's own engine: Queue.GetWhere and
// NewPriorityQueue.

// NewPriorityQueue returns an empty, open Queue that hands out its items
// in the order of less (SimPy's PriorityStore): Get returns the least
// buffered item, the oldest among equals (less(a, b) false both ways).
// A Put while consumers wait still hands the item straight to the oldest
// one. less runs inside Put and GetWhere under the queue's internal lock:
// it must be quick and must not call the queue; if it panics, the panic
// propagates out of that call and the item is not queued. A Put is O(n) in
// the number of buffered items. It panics if less is nil.
func NewPriorityQueue[T any](less func(a, b T) bool) *Queue[T] {
	if less == nil {
		panic("tock: NewPriorityQueue: the order is nil")
	}
	q := NewQueue[T]()
	q.p.less = less
	return q
}

// GetWhere removes and returns the first item for which pred holds (SimPy's
// FilterStore): the oldest such item (the least, in a priority queue),
// blocking until a Put brings one. Consumers are served in the order they
// started waiting among those whose condition accepts the item, so a
// GetWhere that rejects an item does not hold back a Get behind it. It
// returns ErrStreamClosed once the queue is closed and no buffered item
// matches, and ctx's error if ctx is done first (when it is called, too); an
// item handed over before the caller noticed its cancellation is returned,
// never lost. pred runs inside GetWhere and then in each Put until it
// accepts an item, under the queue's internal lock: it must be quick and
// must not call the queue; if it panics, the panic propagates out of that
// call (a Put's item is then not queued). GetWhere panics if pred is nil.
// As with Get, a non-blocking GetWhere is a checkpoint. It panics if ctx
// is nil. A Put synchronizes before the GetWhere that takes its item
// returns.
func (q *Queue[T]) GetWhere(ctx context.Context, pred func(T) bool) (T, error) {
	panicIfNilCtx("Queue.GetWhere", ctx)
	if m := q.p.mons.Load(); m != nil {
		return q.getWhereWatched(m, ctx, pred)
	}
	return q.getWhere(ctx, pred)
}

func (q *Queue[T]) getWhere(ctx context.Context, pred func(T) bool) (T, error) {
	var zero T
	if pred == nil {
		panic("tock: Queue.GetWhere: the condition is nil")
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	p := &q.p
	call := internal.DecodeRT(ctx) // before the mutex: a misuse check may panic
	p.mu.Lock()
	if p.find(pred) >= 0 {
		p.mu.Unlock()
		if call.RT.Checkpoint() && ctx.Err() != nil {
			return zero, ctx.Err()
		}
		p.mu.Lock()
	}
	if i := p.find(pred); i >= 0 {
		v := p.buf.removeAt(i)
		p.mu.Unlock()
		return v, nil
	}
	if p.ended {
		p.mu.Unlock()
		return zero, p.endErr
	}
	s, err := internal.Block(ctx, call, &p.mu, &p.recvq, slot[T]{pred: pred}, "Queue.GetWhere")
	if err != nil {
		return zero, err
	}
	return s.v, s.err
}

// popReceiver removes and returns the oldest live receiver that accepts v
// (every plain receiver does; a GetWhere receiver if its condition holds),
// dropping the cancelled ones it passes, or nil. Without GetWhere
// receivers it is the wait queue's PopLive.
func (p *pipe[T]) popReceiver(v T) *internal.Waiter[slot[T]] {
	for w := p.recvq.Front(); w != nil; {
		next := w.Next()
		switch {
		case !internal.CtxLive(w.Ctx):
			p.recvq.Remove(w) // cancelled first: it returns its error
		case w.Val.pred == nil || p.call(w.Val.pred, v):
			p.recvq.Remove(w)
			if w.Claim() { // a Select case another case won is passed over
				return w
			}
		}
		w = next
	}
	return nil
}

// bufPush buffers v: at the back, or in a priority queue after every item
// not greater than v.
func (p *pipe[T]) bufPush(v T) {
	if p.less == nil {
		p.buf.push(v)
		return
	}
	r := &p.buf
	j := sort.Search(r.n, func(i int) bool { return p.callLess(v, r.at(i)) })
	r.push(v)
	for k := r.n - 1; k > j; k-- {
		r.set(k, r.at(k-1))
	}
	r.set(j, v)
}

// find returns the index of the first buffered item pred accepts, or -1.
func (p *pipe[T]) find(pred func(T) bool) int {
	for i := 0; i < p.buf.n; i++ {
		if p.call(pred, p.buf.at(i)) {
			return i
		}
	}
	return -1
}

// call runs a user condition with p.mu held; if it panics, p.mu is
// released before the panic goes on (its callers never hold mu in a
// deferred unlock).
func (p *pipe[T]) call(pred func(T) bool, v T) bool {
	done := false
	defer p.unlockUnless(&done)
	ok := pred(v)
	done = true
	return ok
}

// callLess is call for the priority order.
func (p *pipe[T]) callLess(a, b T) bool {
	done := false
	defer p.unlockUnless(&done)
	ok := p.less(a, b)
	done = true
	return ok
}

func (p *pipe[T]) unlockUnless(done *bool) {
	if !*done {
		p.mu.Unlock()
	}
}

func (r *ring[T]) at(i int) T     { return r.b[(r.head+i)%len(r.b)] }
func (r *ring[T]) set(i int, v T) { r.b[(r.head+i)%len(r.b)] = v }

// removeAt removes and returns the i-th item, keeping the others in order:
// it moves the items on the shorter side of i (a GetWhere that takes the
// oldest item costs what a Get does), and gives memory back as pop does.
func (r *ring[T]) removeAt(i int) T {
	v := r.at(i)
	var zero T
	if i < r.n/2 {
		for k := i; k > 0; k-- {
			r.set(k, r.at(k-1))
		}
		r.set(0, zero)
		r.head = (r.head + 1) & (len(r.b) - 1)
	} else {
		for k := i; k < r.n-1; k++ {
			r.set(k, r.at(k+1))
		}
		r.set(r.n-1, zero)
	}
	r.n--
	if r.lvl != nil {
		r.lvl.record(float64(r.n), nil)
	}
	r.shrink()
	return v
}

// getWhereWatched is GetWhere timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (q *Queue[T]) getWhereWatched(m *Monitors, ctx context.Context, pred func(T) bool) (T, error) {
	return timedV(m, ctx, func() (T, error) { return q.getWhere(ctx, pred) })
}
