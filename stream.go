package tock

import (
	"context"
	"iter"
	"strconv"

	"github.com/tockgo/tock/internal"
)

// NewStream returns the two ends of a memory object stream (AnyIO's memory
// object streams): items sent on a SendStream are received, FIFO, by exactly
// one receiver on a ReceiveStream. maxBuffer is how many items may wait in the
// stream: 0 makes every Send a rendezvous with a Receive, Unbounded removes
// the limit. Clone either end to give each task its own handle, and close
// every handle when done: when the last SendStream is closed, receivers drain
// the buffer and then get ErrEndOfStream; when the last ReceiveStream is
// closed, senders get ErrBrokenResource and the items left in the buffer
// are dropped at once (StreamStats.Discarded counts them). The buffer's
// memory follows what it holds: with n items buffered it has at most
// max(8, 4n) slots, so a drained burst gives its memory back. NewStream
// panics if maxBuffer is negative.
//
// The zero SendStream and ReceiveStream are not usable: every method of one
// panics (make streams with NewStream).
//
// In a simulation, Send and Receive are checkpoints, as in AnyIO: the tasks
// already runnable at this instant run first.
func NewStream[T any](maxBuffer int) (*SendStream[T], *ReceiveStream[T]) {
	if maxBuffer < 0 {
		panic("tock: NewStream: the buffer size " + strconv.Itoa(maxBuffer) + " is negative")
	}
	st := &streamState[T]{openSend: 1, openRecv: 1}
	st.p.max = maxBuffer
	return &SendStream[T]{st: st}, &ReceiveStream[T]{st: st}
}

type streamState[T any] struct {
	p                  pipe[T] // p.mu guards everything here and the handles' closed flags
	openSend, openRecv int
	discarded          uint64 // items dropped when the last receive handle closed
}

// SendStream is the sending end of a memory object stream. A handle may be
// used by several tasks; Clone gives each its own.
type SendStream[T any] struct {
	st     *streamState[T]
	closed bool
}

// ReceiveStream is the receiving end of a memory object stream. With several
// receive handles, each item still goes to exactly one receiver.
type ReceiveStream[T any] struct {
	st     *streamState[T]
	closed bool
}

// StreamStats is a snapshot of a memory object stream, the same from either
// end.
type StreamStats struct {
	BufferUsed         int // items in the buffer
	MaxBuffer          int // the buffer size (Unbounded for no limit)
	OpenSendStreams    int // send handles not closed
	OpenReceiveStreams int // receive handles not closed
	WaitingSend        int // tasks blocked in Send
	WaitingReceive     int // tasks blocked in Receive
	// Discarded counts the items that were still buffered when the last
	// receive handle was closed: they were dropped then, never delivered.
	Discarded uint64
}

func (st *streamState[T]) stats() StreamStats {
	st.p.mu.Lock()
	defer st.p.mu.Unlock()
	return StreamStats{
		BufferUsed: st.p.buf.n, MaxBuffer: st.p.max,
		OpenSendStreams: st.openSend, OpenReceiveStreams: st.openRecv,
		WaitingSend: st.p.sendq.Len(), WaitingReceive: st.p.recvq.Len(),
		Discarded: st.discarded,
	}
}

// state is s's stream; it panics, naming op, for a zero (or nil) handle.
func (s *SendStream[T]) state(op string) *streamState[T] {
	if s == nil || s.st == nil {
		panic("tock: SendStream." + op + ": zero or nil SendStream; make streams with NewStream")
	}
	return s.st
}

// state is r's stream; it panics, naming op, for a zero (or nil) handle.
func (r *ReceiveStream[T]) state(op string) *streamState[T] {
	if r == nil || r.st == nil {
		panic("tock: ReceiveStream." + op + ": zero or nil ReceiveStream; make streams with NewStream")
	}
	return r.st
}

// trySend is TrySend with mu held: it reports whether the item went in.
func (s *SendStream[T]) trySend(v T) (bool, error) {
	switch {
	case s.closed:
		return false, ErrClosedResource
	case s.st.openRecv == 0:
		return false, ErrBrokenResource
	}
	return s.st.p.offer(v), nil
}

// Send sends v: straight to the oldest waiting receiver, or into the buffer,
// or it blocks until a receiver takes it. It returns ctx's error, having sent
// nothing, if ctx is done first (a blocked sender's item is withdrawn); once
// a receiver took v, Send returns nil even if ctx is cancelled meanwhile. It
// returns ErrClosedResource if this handle is (or gets) closed, and
// ErrBrokenResource if every receiver is (or gets) closed. It panics if ctx
// is nil or s is a zero SendStream. A Send synchronizes before the Receive
// that gets its item returns.
func (s *SendStream[T]) Send(ctx context.Context, v T) error { return s.send(ctx, v, false) }

// send is Send, which is inlined: a blocked sender is woken two frames
// fewer above its park (see internal.Block). timing: sendWatched's call,
// which the monitors time already.
func (s *SendStream[T]) send(ctx context.Context, v T, timing bool) error {
	p := &s.state("Send").p // a zero handle panics first, as it always did
	panicIfNilCtx("SendStream.Send", ctx)
	if !timing {
		if m := p.mons.Load(); m != nil {
			return s.sendWatched(m, ctx, v)
		}
	}
	c, err := checkpoint(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if ok, err := s.trySend(v); ok || err != nil {
		p.mu.Unlock()
		return err
	}
	// blocks until v is handed over or buffered: a cancelled sender
	// withdraws its item; a close delivers its error instead
	return sent(internal.Block(ctx, c, &p.mu, &p.sendq, slot[T]{v: v, h: s}, "SendStream.Send"))
}

// TrySend sends v if it can do so without blocking; otherwise it returns
// ErrWouldBlock. It ignores cancellation and returns ErrClosedResource or
// ErrBrokenResource as Send does. It synchronizes as Send does, and a
// Receive that made room for its item synchronizes before it returns.
func (s *SendStream[T]) TrySend(v T) error {
	st := s.state("TrySend")
	st.p.mu.Lock()
	defer st.p.mu.Unlock()
	ok, err := s.trySend(v)
	if !ok && err == nil {
		return ErrWouldBlock
	}
	return err
}

// Clone returns a new send handle on the same stream; the stream ends only
// when every send handle is closed. It panics if this handle is closed.
func (s *SendStream[T]) Clone() *SendStream[T] {
	st := s.state("Clone")
	st.p.mu.Lock()
	defer st.p.mu.Unlock()
	if s.closed {
		panic("tock: SendStream.Clone: the handle is closed")
	}
	s.st.openSend++
	return &SendStream[T]{st: s.st}
}

// Close closes this handle: operations blocked on it return
// ErrClosedResource (their items are withdrawn), and later ones too. Closing
// the last send handle ends the stream: receivers drain the buffer, then get
// ErrEndOfStream. Close is idempotent and never blocks. It synchronizes
// before the return of every call that fails because of it.
func (s *SendStream[T]) Close() {
	p := &s.state("Close").p
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.st.openSend--
	failHandle(&p.sendq, s, ErrClosedResource)
	if s.st.openSend == 0 {
		p.end(ErrEndOfStream)
	}
}

// Stats returns a snapshot of the stream.
func (s *SendStream[T]) Stats() StreamStats { return s.state("Stats").stats() }

// tryReceive is TryReceive with mu held.
func (r *ReceiveStream[T]) tryReceive() (v T, ok bool, err error) {
	if r.closed {
		return v, false, ErrClosedResource
	}
	if v, ok = r.st.p.take(); ok {
		return v, true, nil
	}
	if r.st.p.ended {
		return v, false, ErrEndOfStream
	}
	return v, false, nil
}

// Receive returns the next item, blocking until one is sent. It returns
// ErrEndOfStream once every send handle is closed and the buffer is drained,
// ErrClosedResource if this handle is (or gets) closed, and ctx's error if ctx
// is done first, having taken nothing; an item handed to the caller before it
// noticed its cancellation is returned, never lost. It panics if ctx is nil
// or r is a zero ReceiveStream. A Receive synchronizes before the return of
// a blocked Send whose item it takes or makes room for.
func (r *ReceiveStream[T]) Receive(ctx context.Context) (T, error) { return r.receive(ctx, false) }

// receive is Receive, which is inlined (see send).
func (r *ReceiveStream[T]) receive(ctx context.Context, timing bool) (T, error) {
	p := &r.state("Receive").p // a zero handle panics first, as it always did
	panicIfNilCtx("ReceiveStream.Receive", ctx)
	if !timing {
		if m := p.mons.Load(); m != nil {
			return r.receiveWatched(m, ctx)
		}
	}
	c, err := checkpoint(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	p.mu.Lock()
	if v, ok, err := r.tryReceive(); ok || err != nil {
		p.mu.Unlock()
		return v, err
	}
	// blocks until an item is handed over or a close ends the wait
	return received(internal.Block(ctx, c, &p.mu, &p.recvq, slot[T]{h: r}, "ReceiveStream.Receive"))
}

// TryReceive returns the next item if there is one without blocking;
// otherwise ErrWouldBlock (or ErrEndOfStream, ErrClosedResource as Receive).
// It ignores cancellation. It synchronizes as Receive does, and the Send of
// its item synchronizes before it returns.
func (r *ReceiveStream[T]) TryReceive() (T, error) {
	st := r.state("TryReceive")
	st.p.mu.Lock()
	defer st.p.mu.Unlock()
	v, ok, err := r.tryReceive()
	if !ok && err == nil {
		err = ErrWouldBlock
	}
	return v, err
}

// All ranges over the items until the stream ends, this handle is closed, or
// ctx is done. It panics at once if ctx is nil or r is a zero ReceiveStream.
func (r *ReceiveStream[T]) All(ctx context.Context) iter.Seq[T] {
	panicIfNilCtx("ReceiveStream.All", ctx)
	r.state("All")
	return func(yield func(T) bool) {
		rangeUntilErr(func() (T, error) { return r.Receive(ctx) }, yield)
	}
}

// Clone returns a new receive handle on the same stream. It panics if this
// handle is closed.
func (r *ReceiveStream[T]) Clone() *ReceiveStream[T] {
	st := r.state("Clone")
	st.p.mu.Lock()
	defer st.p.mu.Unlock()
	if r.closed {
		panic("tock: ReceiveStream.Clone: the handle is closed")
	}
	r.st.openRecv++
	return &ReceiveStream[T]{st: r.st}
}

// Close closes this handle: receives blocked on it return ErrClosedResource,
// and later ones too. Closing the last receive handle makes every blocked and
// later Send fail with ErrBrokenResource; items left in the buffer are
// dropped at once, with their memory, and counted in StreamStats.Discarded.
// Close is idempotent and never blocks. It synchronizes before the return
// of every call that fails because of it.
func (r *ReceiveStream[T]) Close() {
	p := &r.state("Close").p
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	r.st.openRecv--
	failHandle(&p.recvq, r, ErrClosedResource)
	if r.st.openRecv == 0 {
		failAll(&p.sendq, ErrBrokenResource)
		r.st.discarded += uint64(p.buf.n)
		p.buf.clear()
	}
}

// Stats returns a snapshot of the stream.
func (r *ReceiveStream[T]) Stats() StreamStats { return r.state("Stats").stats() }

// checkpoint is AnyIO's checkpoint: ctx's error if done; in a simulation,
// let the runnable tasks run first, then check ctx again. It returns ctx
// decoded, for the rest of the call.
func checkpoint(ctx context.Context) (internal.Call, error) {
	if err := ctx.Err(); err != nil {
		return internal.Call{}, err
	}
	c := internal.DecodeRT(ctx)
	if c.RT.Checkpoint() {
		return c, ctx.Err()
	}
	return c, nil
}

// sendWatched is Send timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (s *SendStream[T]) sendWatched(m *Monitors, ctx context.Context, v T) error {
	return timed(m, ctx, func() error { return s.send(ctx, v, true) })
}

// receiveWatched is Receive timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (r *ReceiveStream[T]) receiveWatched(m *Monitors, ctx context.Context) (T, error) {
	return timedV(m, ctx, func() (T, error) { return r.receive(ctx, true) })
}
