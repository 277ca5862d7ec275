package tock

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/tockgo/tock/internal"
)

// pipe is the one buffer/wait-queue engine behind Queue, Channel (each
// subscription is a pipe) and the memory object streams. Items go FIFO; a
// waiting receiver is handed an item directly (it is never buffered while a
// receiver waits); a sender that cannot buffer its item blocks with the item
// in hand, and a receiver takes it from there. Every method expects mu held
// unless it says otherwise.
type pipe[T any] struct {
	mu       sync.Mutex
	buf      ring[T]
	max      int // Unbounded for no limit; 0 is a rendezvous
	overflow overflow
	recvq    internal.Queue[slot[T]]
	sendq    internal.Queue[slot[T]]
	ended    bool  // no more items will come
	endErr   error // what receivers get once ended and drained
	dropped  uint64
	less     func(a, b T) bool        // a priority Queue's order (store.go); nil: FIFO
	mons     atomic.Pointer[Monitors] // see Watch (watch.go)
}

// overflow is what a full pipe does with a new item.
type overflow uint8

const (
	overflowBlock      overflow = iota // the sender waits (streams)
	overflowDropOldest                 // the oldest buffered item is dropped
	overflowDropNewest                 // the new item is dropped
)

// slot is a waiter's hand-off: the item, and the error a close delivers.
type slot[T any] struct {
	v   T
	err error
	h   any // the handle the operation is blocked on
	// pred, if set, is a Queue.GetWhere receiver's condition (store.go)
	pred func(T) bool
}

// offer hands v to the oldest live receiver, or buffers it, or applies the
// overflow policy. It reports false if the sender would have to wait.
func (p *pipe[T]) offer(v T) bool {
	if w := p.popReceiver(v); w != nil {
		w.Val.v = v
		w.Grant()
		return true
	}
	if p.buf.n < p.max {
		p.bufPush(v)
		return true
	}
	switch p.overflow {
	case overflowDropOldest:
		if p.max > 0 {
			p.buf.replaceOldest(v)
		}
		p.dropped++
		return true
	case overflowDropNewest:
		p.dropped++
		return true
	}
	return false
}

// take removes the next item: from the buffer (then moving the oldest blocked
// sender's item into it, if that leaves room: an item given back may have
// filled it beyond its limit, see unget), or straight from a blocked sender.
func (p *pipe[T]) take() (v T, ok bool) {
	if p.buf.n > 0 {
		v = p.buf.pop()
		if p.buf.n < p.max {
			if w := p.sendq.PopLive(); w != nil {
				p.buf.push(w.Val.v)
				w.Grant()
			}
		}
		return v, true
	}
	if w := p.sendq.PopLive(); w != nil {
		v = w.Val.v
		w.Grant()
		return v, true
	}
	return v, false
}

// unget gives v back as the pipe's next item: a receiving Select case was
// handed v and then could not return it (a later case panicked, see
// Select). The oldest live receiver that accepts v gets it; else it goes to
// the front of the buffer (in a priority queue, before the items not less
// than it), beyond a stream's limit if need be (its senders wait until the
// buffer is below the limit again). A full subscription drops as its
// policy says, v being its oldest item: v under DropOldest, the newest
// buffered item under DropNewest. Called with mu held; a GetWhere
// condition or a priority order that panics here releases mu first, as in
// a Put.
func (p *pipe[T]) unget(v T) {
	if w := p.popReceiver(v); w != nil {
		w.Val.v = v
		w.Grant()
		return
	}
	if p.overflow != overflowBlock && p.buf.n >= p.max {
		p.dropped++
		if p.overflow == overflowDropOldest {
			return
		}
		// One out, one in: a watched level records no dip. Restored
		// also if a priority order panics below (then v is not in).
		lvl := p.buf.lvl
		p.buf.lvl = nil
		defer func() {
			p.buf.lvl = lvl
			lvl.resync(float64(p.buf.n))
		}()
		p.buf.popBack()
	}
	if p.less == nil {
		p.buf.pushFront(v)
		return
	}
	r := &p.buf
	j := sort.Search(r.n, func(i int) bool { return !p.callLess(r.at(i), v) })
	r.push(v)
	for k := r.n - 1; k > j; k-- {
		r.set(k, r.at(k-1))
	}
	r.set(j, v)
}

// received is the result of a receive's wait on a pipe's recvq, from
// internal.Block's (the receiving call blocks in its own frame, so that a
// woken receiver returns through no extra one, and hands Block's result to
// this): the item handed over, or the close's error, or the wait's own.
func received[T any](s slot[T], err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return s.v, s.err
}

// sent is the result of a send's wait on a pipe's sendq (see received):
// nil once the item was taken, or the close's error, or the wait's own.
func sent[T any](s slot[T], err error) error {
	if err == nil {
		err = s.err
	}
	return err
}

// poll is a receive that does not wait: done, it returns the next item, or
// the end error once the pipe is ended and drained, and releases mu; not
// done, the caller must wait (recv) and mu stays held. Called with mu held.
// (Callers call internal.Block themselves, so that a wait has no extra
// frame.)
func (p *pipe[T]) poll() (v T, done bool, err error) {
	if v, ok := p.take(); ok {
		p.mu.Unlock()
		return v, true, nil
	}
	if p.ended {
		p.mu.Unlock()
		return v, true, p.endErr
	}
	return v, false, nil
}

// end marks the pipe ended: receivers drain the buffer, then get err; the
// waiting receivers (the buffer is empty if any wait) get err now.
func (p *pipe[T]) end(err error) {
	if p.ended {
		return
	}
	p.ended, p.endErr = true, err
	failAll(&p.recvq, err)
}

// failAll wakes every live waiter of q with err.
func failAll[T any](q *internal.Queue[slot[T]], err error) {
	for w := q.PopLive(); w != nil; w = q.PopLive() {
		w.Val.err = err
		w.Grant()
	}
}

// failHandle wakes the waiters blocked on handle h with err (a sender's item
// is withdrawn).
func failHandle[T any](q *internal.Queue[slot[T]], h any, err error) {
	for w := q.Front(); w != nil; {
		next := w.Next()
		if w.Val.h == h {
			q.Remove(w)
			if w.Claim() { // a Select case another case won is passed over
				w.Val.err = err
				w.Grant()
			}
		}
		w = next
	}
}

// ringMin is the smallest capacity a ring keeps once it has grown: a
// drained buffer shrinks back to it.
const ringMin = 8

// ring is a FIFO ring buffer that grows (doubling) when full and shrinks
// (halving) when a pop leaves it a quarter full, down to ringMin: holding n
// items, it never has more than max(ringMin, 4n) slots, so a burst that is
// drained gives its memory back. The capacity is a power of two. The cost
// stays O(1) amortized: after a resize, the ring must gain or lose a
// quarter of its capacity before the next one.
type ring[T any] struct {
	b       []T
	head, n int
	lvl     *Monitor // follows n, if the pipe is watched
}

func (r *ring[T]) push(v T) {
	if r.n == len(r.b) {
		r.resize(max(2*len(r.b), ringMin))
	}
	r.b[(r.head+r.n)&(len(r.b)-1)] = v
	r.n++
	if r.lvl != nil {
		r.lvl.record(float64(r.n), nil)
	}
}

// pushFront puts v before the oldest item.
func (r *ring[T]) pushFront(v T) {
	if r.n == len(r.b) {
		r.resize(max(2*len(r.b), ringMin))
	}
	r.head = (r.head - 1) & (len(r.b) - 1)
	r.b[r.head] = v
	r.n++
	if r.lvl != nil {
		r.lvl.record(float64(r.n), nil)
	}
}

// replaceOldest drops the oldest item and appends v, in one step: the
// number of items does not change, so a watched level records nothing.
// The ring is not empty.
func (r *ring[T]) replaceOldest(v T) {
	mask := len(r.b) - 1
	if r.n < len(r.b) {
		var zero T
		r.b[(r.head+r.n)&mask] = v
		r.b[r.head] = zero
	} else {
		r.b[r.head] = v // full: the oldest slot becomes the newest
	}
	r.head = (r.head + 1) & mask
}

// popBack drops the newest item; the ring is not empty.
func (r *ring[T]) popBack() {
	var zero T
	r.n--
	r.b[(r.head+r.n)&(len(r.b)-1)] = zero
	if r.lvl != nil {
		r.lvl.record(float64(r.n), nil)
	}
}

func (r *ring[T]) pop() T {
	var zero T
	v := r.b[r.head]
	r.b[r.head] = zero
	r.head = (r.head + 1) & (len(r.b) - 1)
	r.n--
	if r.lvl != nil {
		r.lvl.record(float64(r.n), nil)
	}
	r.shrink()
	return v
}

// shrink halves the buffer once a quarter of it or less is used.
func (r *ring[T]) shrink() {
	if len(r.b) > ringMin && r.n <= len(r.b)/4 {
		r.resize(len(r.b) / 2)
	}
}

// resize moves the items to a new buffer of size slots (a power of two, at
// least r.n).
func (r *ring[T]) resize(size int) {
	nb := make([]T, size)
	if r.n > 0 {
		// the items are r.b[head:] then r.b[:head], up to n of them
		k := copy(nb, r.b[r.head:min(r.head+r.n, len(r.b))])
		copy(nb[k:], r.b[:r.n-k])
	}
	r.b, r.head = nb, 0
}

// clear drops every item and the buffer's memory.
func (r *ring[T]) clear() {
	*r = ring[T]{lvl: r.lvl}
	if r.lvl != nil {
		r.lvl.record(0, nil)
	}
}

// rangeUntilErr adapts a blocking receive to a range-over-func iterator that
// ends at the first error (end of stream, close, or ctx done).
func rangeUntilErr[T any](recv func() (T, error), yield func(T) bool) {
	for {
		v, err := recv()
		if err != nil || !yield(v) {
			return
		}
	}
}
