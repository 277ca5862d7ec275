package tock

import (
	"context"
	"iter"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tockgo/tock/internal"
)

// Channel is an unbuffered broadcast stream (μSim's Channel): Put delivers a
// message to every current subscriber, and drops it if there is none.
// Receive waits for the first message put after it started waiting; a
// Subscription buffers every message from the moment it was made, so nothing
// is missed between receives. Close ends the channel: subscriptions drain
// what they hold, then end. The zero value is an open channel with no
// subscriber.
//
// In a simulation, Put lets the tasks already runnable at this instant run
// first, as in μSim.
type Channel[T any] struct {
	mu     sync.Mutex
	subs   []*Subscription[T]
	closed bool
	mons   atomic.Pointer[Monitors] // see Watch (watch.go)
	// the watched Receives under way, by the Queue monitor each counted
	// itself in (with mu held), so that Watch attaching that monitor
	// again starts it from them
	counted map[*Monitor]int
}

// NewChannel returns an open channel with no subscriber.
func NewChannel[T any]() *Channel[T] { return &Channel[T]{} }

// Subscription is one subscriber's buffer on a Channel. By default it is
// unbounded; see MaxBuffer. Close it when done, or messages pile up. The
// buffer's memory follows what it holds: with n messages buffered it has at
// most max(8, 4n) slots, so a drained burst gives its memory back, and Close
// drops what is left at once. The zero Subscription is not usable: every
// method of one panics (make it with Channel.Subscribe).
type Subscription[T any] struct {
	ch *Channel[T]
	p  pipe[T]
}

// SubscriptionOption configures Channel.Subscribe.
type SubscriptionOption func(*subConfig)

type subConfig struct {
	max      int
	overflow overflow
}

// Overflow is what a bounded Subscription does with a message when its
// buffer is full.
type Overflow int

const (
	// DropOldest drops the oldest buffered message to make room: a slow
	// subscriber sees the most recent messages.
	DropOldest Overflow = iota
	// DropNewest drops the new message: a slow subscriber sees the oldest
	// messages it has not taken yet.
	DropNewest
)

// MaxBuffer bounds a subscription's buffer to n messages (n ≥ 1); when it is
// full, the policy decides which message is dropped. Put never waits for a
// slow subscriber. Stats().Dropped counts the drops. It panics if n < 1 or
// if policy is neither DropOldest nor DropNewest.
func MaxBuffer(n int, policy Overflow) SubscriptionOption {
	if n < 1 {
		panic("tock: MaxBuffer: a subscription buffer must hold at least 1 message, not " + strconv.Itoa(n))
	}
	var ov overflow
	switch policy {
	case DropOldest:
		ov = overflowDropOldest
	case DropNewest:
		ov = overflowDropNewest
	default:
		panic("tock: MaxBuffer: unknown Overflow policy " + strconv.Itoa(int(policy)) + "; use DropOldest or DropNewest")
	}
	return func(c *subConfig) { c.max, c.overflow = n, ov }
}

// SubscriptionStats is a snapshot of a Subscription.
type SubscriptionStats struct {
	Buffered int    // messages waiting to be received
	Dropped  uint64 // messages dropped because the buffer was full
}

// Put sends v to every current subscriber (it never blocks for a slow one),
// or drops it if there is none. It returns ctx's error if ctx is done, and
// ErrStreamClosed at once if the channel is closed. It panics if ctx is nil.
// A Put synchronizes before the Receive that gets its message returns.
func (c *Channel[T]) Put(ctx context.Context, v T) error {
	panicIfNilCtx("Channel.Put", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrStreamClosed
	}
	for _, s := range c.subs {
		s.p.mu.Lock()
		s.p.offer(v)
		s.p.mu.Unlock()
	}
	c.mu.Unlock()
	internal.RuntimeOf(ctx).Checkpoint()
	return nil
}

// Subscribe returns a subscription that receives every message put from now
// on, unbounded unless MaxBuffer is given. Subscribing to a closed channel
// returns an ended subscription. It panics if an option is nil.
func (c *Channel[T]) Subscribe(opts ...SubscriptionOption) *Subscription[T] {
	cfg := subConfig{max: Unbounded}
	for i, o := range opts {
		if o == nil {
			panic("tock: Channel.Subscribe: option " + strconv.Itoa(i) + " is nil")
		}
		o(&cfg)
	}
	s := &Subscription[T]{ch: c}
	s.p.max, s.p.overflow = cfg.max, cfg.overflow
	c.mu.Lock()
	if c.closed {
		s.p.end(ErrStreamClosed)
	} else {
		c.subs = append(c.subs, s)
	}
	c.mu.Unlock()
	return s
}

// Receive waits for the first message put after it was called and returns
// it; messages put while the caller is elsewhere are missed (use Subscribe to
// miss nothing). It returns ErrStreamClosed if the channel is closed (at once,
// or when it closes while waiting), and ctx's error if ctx is done first.
// It panics if ctx is nil.
func (c *Channel[T]) Receive(ctx context.Context) (T, error) {
	if m := c.mons.Load(); m != nil {
		return c.receiveWatched(m, ctx)
	}
	return c.receive(ctx)
}

// receiveWatched is Receive counted in m.Queue and timed into m.Wait.
func (c *Channel[T]) receiveWatched(m *Monitors, ctx context.Context) (T, error) {
	panicIfNilCtx("Channel.Receive", ctx)
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err // it never waited: not counted
	}
	q := m.Queue
	c.countIn(q, 1)
	defer c.countIn(q, -1)
	return timedV(m, ctx, func() (T, error) { return c.receive(ctx) })
}

// countIn adds d to q, a Queue monitor, for a watched Receive, and
// records it in c.counted (q may be nil).
func (c *Channel[T]) countIn(q *Monitor, d int) {
	if q == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counted == nil {
		c.counted = map[*Monitor]int{}
	}
	if c.counted[q] += d; c.counted[q] == 0 {
		delete(c.counted, q)
	}
	q.add(float64(d))
}

func (c *Channel[T]) receive(ctx context.Context) (T, error) {
	panicIfNilCtx("Channel.Receive", ctx)
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	s := c.Subscribe(MaxBuffer(1, DropNewest))
	defer s.Close()
	return s.Receive(ctx)
}

// All ranges over the messages put from its first iteration on, until the
// channel is closed (and what was buffered is drained) or ctx is done.
// Leaving the loop early unsubscribes. It panics at once if ctx is nil.
func (c *Channel[T]) All(ctx context.Context) iter.Seq[T] {
	panicIfNilCtx("Channel.All", ctx)
	return func(yield func(T) bool) {
		s := c.Subscribe()
		defer s.Close()
		rangeUntilErr(func() (T, error) { return s.Receive(ctx) }, yield)
	}
}

// Close closes the channel: Put and Receive fail with ErrStreamClosed, and
// each subscription ends once drained. Close is idempotent and never blocks.
// It synchronizes before the return of every call that fails because of it.
func (c *Channel[T]) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	for _, s := range c.subs {
		s.p.mu.Lock()
		s.p.end(ErrStreamClosed)
		s.p.mu.Unlock()
	}
	c.subs = nil
}

// Closed reports whether Close has been called.
func (c *Channel[T]) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Subscribers is the number of current subscriptions.
func (c *Channel[T]) Subscribers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.subs)
}

// Receive returns the oldest buffered message, blocking while there is none.
// It returns ErrStreamClosed once the channel is closed and the buffer
// drained (or the subscription closed), and ctx's error if ctx is done first;
// a message handed over before the caller noticed its cancellation is
// returned, never lost. It panics if ctx is nil or s is a zero
// Subscription.
func (s *Subscription[T]) Receive(ctx context.Context) (T, error) { return s.receive(ctx, false) }

// watched is the subscription's monitors, or nil (also for a zero
// Subscription: receive panics for it).
func (s *Subscription[T]) watched() *Monitors {
	if s == nil {
		return nil
	}
	return s.p.mons.Load()
}

// receive is Receive, which is inlined: a subscriber woken with a message
// returns through two frames fewer above its park (see SendStream.send).
// timing: receiveWatched's call, which the monitors time already.
func (s *Subscription[T]) receive(ctx context.Context, timing bool) (T, error) {
	if !timing {
		if m := s.watched(); m != nil {
			return s.receiveWatched(m, ctx)
		}
	}
	panicIfNilCtx("Subscription.Receive", ctx)
	s.check("Receive")
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	c := internal.DecodeRT(ctx) // before the mutex: a misuse check may panic
	s.p.mu.Lock()
	if v, done, err := s.p.poll(); done {
		return v, err
	}
	return received(internal.Block(ctx, c, &s.p.mu, &s.p.recvq, slot[T]{}, "Subscription.Receive"))
}

// All ranges over the subscription's messages until it ends or ctx is done.
// It panics at once if ctx is nil or s is a zero Subscription.
func (s *Subscription[T]) All(ctx context.Context) iter.Seq[T] {
	panicIfNilCtx("Subscription.All", ctx)
	s.check("All")
	return func(yield func(T) bool) {
		rangeUntilErr(func() (T, error) { return s.Receive(ctx) }, yield)
	}
}

// Close unsubscribes: no more messages arrive, the buffered ones are
// discarded at once, with their memory, and a Receive waiting on it gets
// ErrStreamClosed. Idempotent; it never blocks, and synchronizes before the
// return of every Receive that fails because of it.
func (s *Subscription[T]) Close() {
	s.check("Close")
	c := s.ch
	c.mu.Lock()
	if i := slices.Index(c.subs, s); i >= 0 {
		c.subs = slices.Delete(c.subs, i, i+1)
	}
	c.mu.Unlock()
	s.p.mu.Lock()
	s.p.buf.clear()
	s.p.end(ErrStreamClosed)
	s.p.mu.Unlock()
}

// Stats returns a snapshot of the subscription.
func (s *Subscription[T]) Stats() SubscriptionStats {
	s.check("Stats")
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return SubscriptionStats{Buffered: s.p.buf.n, Dropped: s.p.dropped}
}

// check panics, naming op, for a zero (or nil) Subscription.
func (s *Subscription[T]) check(op string) {
	if s == nil || s.ch == nil {
		panic("tock: Subscription." + op + ": zero or nil Subscription; make it with Channel.Subscribe")
	}
}

// receiveWatched is Receive timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (s *Subscription[T]) receiveWatched(m *Monitors, ctx context.Context) (T, error) {
	return timedV(m, ctx, func() (T, error) { return s.receive(ctx, true) })
}
