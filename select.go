package tock

import (
	"context"
	"sync"
	"time"

	"github.com/tockgo/tock/internal"
)

// SelectCase is one operation of a Select. Make it with OnReceive, OnSend,
// OnGet, OnSubscription, OnChannel (streams, Queue, Channel), OnEvent,
// OnLock, OnAcquire (Semaphore), OnBorrow, OnBorrowFor (CapacityLimiter),
// OnPermit (PriorityLimiter), OnContainerPut, OnContainerGet (Container),
// OnTracked, OnFlag (Tracked, Flag), OnTimeout or OnDeadline. A case is
// used by one Select at a time.
type SelectCase interface {
	// arm completes the case at once if it can (claiming the select for
	// case i), or queues its waiter. It returns armDone if it completed,
	// armDecided if another case already won, armWaiting otherwise.
	arm(s *selector, i int) armResult
	// disarm takes the case's waiter out of its queue, if it is there.
	disarm()
	// finish delivers the winning case's result (its callback) and returns
	// its error.
	finish() error
}

type armResult uint8

const (
	armWaiting armResult = iota
	armDone
	armDecided
)

type selector struct {
	ctx      context.Context
	rt       internal.Runtime
	claim    *internal.Claim
	parker   internal.Parker
	timer    int       // the earliest timeout case, or -1
	deadline time.Time // its instant
}

// enqueue readies w as case i of s and appends it to q.
func enqueue[T any](s *selector, q *internal.Queue[T], w *internal.Waiter[T], i int) {
	w.Ctx, w.Task = s.ctx, internal.TaskOf(s.ctx)
	w.Sel, w.SelIdx = s.claim, i
	w.ShareParker(&s.parker)
	q.Adopt(w)
}

// Select waits for the first of several operations to complete, runs it,
// and returns its index; the other operations take nothing: no item, unit,
// lock, token, amount or message is consumed by a case that did not win
// (and a Permit case that loses preempts nobody), and none is lost
// (a grant that races with the Select's cancellation wins, as for every
// blocking call). If several cases can complete at once, the first in
// argument order wins. The winning case's callback (if not nil) runs in the
// caller's task before Select returns. Select returns the winner's error
// too: a closed or ended stream is a case that completes with an error
// (ErrStreamClosed, ErrEndOfStream, ErrClosedResource, ErrBrokenResource),
// and its callback is not called.
//
// Select returns -1 and ctx's error if ctx is done when it is called or
// before a case completes. In a simulation, a Select that completes at
// once is a checkpoint (the tasks already runnable run first). A Select
// with no case panics.
//
// The operation of the winning case happens before Select returns, with
// the same guarantees as the operation's own call. Each waiting case is
// queued in its primitive's FIFO like a plain call (a Container, Lock,
// limiter or Semaphore case waits behind the calls already waiting), and
// counts in that primitive's Stats while it waits. A case that panics while
// it is armed (a Tracked condition, a borrower already waiting) leaves no
// case queued; the panic goes on out of Select.
func Select(ctx context.Context, cases ...SelectCase) (int, error) {
	if len(cases) == 0 {
		panic("tock: Select: no case given")
	}
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	s := &selector{ctx: ctx, rt: internal.RuntimeOf(ctx), claim: internal.NewClaim(), timer: -1}
	internal.CheckSelect(s.rt)
	internal.PrepareShared(s.rt, &s.parker)
	armed, immediate := armAll(s, cases)
	switch {
	case immediate:
	case s.claim.Decided():
		// A grant claimed a case armed earlier (on the real runtime, while
		// the later ones were armed): wait for its signal.
		s.parker.Drain()
	default:
		wctx := ctx
		if s.timer >= 0 {
			var cancel context.CancelFunc
			wctx, cancel = s.rt.WithDeadline(ctx, s.deadline)
			defer cancel()
		}
		if err := internal.ParkSelect(wctx, s.rt, &s.parker); err != nil {
			var won bool
			switch {
			case internal.Refused(err):
				won = s.claim.Cancel()
			case ctx.Err() == nil && s.timer >= 0:
				won = s.claim.TryClaim(s.timer) // the deadline passed
			default:
				won = s.claim.Cancel()
			}
			if !won {
				s.parker.Drain() // a grant claimed the Select first: it wins
			}
			if internal.Refused(err) {
				for _, c := range cases[:armed] {
					c.disarm()
				}
				internal.Raise(err, !won)
			}
		}
	}
	for _, c := range cases[:armed] {
		c.disarm()
	}
	w := s.claim.Winner()
	if w < 0 {
		return -1, ctx.Err()
	}
	if immediate {
		internal.Decode(ctx).RT.Checkpoint()
	}
	return w, cases[w].finish()
}

// armAll arms cases in order until one completes or the Select is
// decided, and returns how many it armed and whether one completed at once.
// If an arm panics (a Tracked condition, a misused borrower), the cases
// armed before it leave their queues and the Select is decided for nobody
// before the panic goes on: nothing stays queued. (A grant that claimed an
// earlier case in between is then lost with the panic.)
func armAll(s *selector, cases []SelectCase) (armed int, immediate bool) {
	ok := false
	defer func() {
		if !ok {
			// A case before the panicking one that a grant claimed sent the
			// parker a signal: drain it. The panicking case may have claimed
			// itself before it panicked; nobody signalled that.
			if !s.claim.Cancel() && !immediate && s.claim.Winner() != armed {
				s.parker.Drain()
			}
			for _, c := range cases[:armed] {
				c.disarm()
			}
		}
	}()
	for i, c := range cases {
		r := c.arm(s, i)
		armed = i + 1
		if r == armDone {
			immediate = true
		}
		if r != armWaiting {
			break
		}
	}
	ok = true
	return armed, immediate
}

// call runs a case's callback if there is one.
func call[T any](f func(T), v T) {
	if f != nil {
		f(v)
	}
}

// ---- streams, Queue, Subscription: receiving from a pipe ----

type recvCase[T any] struct {
	p      *pipe[T]
	h      any                       // the ReceiveStream, or nil
	closed func() bool               // the handle is closed (ErrClosedResource)
	w      *internal.Waiter[slot[T]] // queued while waiting
	v      T
	err    error
	f      func(T)
	done   func() // after the Select, e.g. a Channel's temporary subscription is closed
}

// OnReceive is a Select case that receives from r, as r.Receive does; f
// gets the item.
func OnReceive[T any](r *ReceiveStream[T], f func(v T)) SelectCase {
	return &recvCase[T]{p: &r.st.p, h: r, closed: func() bool { return r.closed }, f: f}
}

// OnGet is a Select case that gets from q, as q.Get does; f gets the item.
func OnGet[T any](q *Queue[T], f func(v T)) SelectCase {
	return &recvCase[T]{p: &q.p, f: f}
}

// OnSubscription is a Select case that receives from s, as s.Receive
// does; f gets the message.
func OnSubscription[T any](s *Subscription[T], f func(v T)) SelectCase {
	return &recvCase[T]{p: &s.p, f: f}
}

// OnChannel is a Select case that receives the next message put on c
// while the Select waits, as c.Receive does; f gets the message.
func OnChannel[T any](c *Channel[T], f func(v T)) SelectCase {
	sub := c.Subscribe(MaxBuffer(1, DropNewest))
	return &recvCase[T]{p: &sub.p, f: f, done: sub.Close}
}

func (c *recvCase[T]) arm(s *selector, i int) armResult {
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	immediate := func(v T, err error) armResult {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		c.v, c.err = v, err
		return armDone
	}
	switch {
	case c.closed != nil && c.closed():
		return immediate(c.v, ErrClosedResource)
	case p.buf.n > 0:
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		c.v, _ = p.take()
		return armDone
	}
	// A blocked sender (a rendezvous stream): claim it and us together.
	for w := p.sendq.Front(); w != nil; {
		next := w.Next()
		if w.Sel == s.claim || (w.Ctx != nil && w.Ctx.Err() != nil) {
			w = next
			continue
		}
		mine, theirs := internal.ClaimPair(s.claim, i, w.Sel, w.SelIdx)
		if !mine {
			return armDecided
		}
		p.sendq.Remove(w)
		if theirs {
			c.v = w.Val.v
			w.Grant()
			return armDone
		}
		w = next
	}
	if p.ended {
		return immediate(c.v, p.endErr)
	}
	if s.claim.Decided() {
		return armDecided
	}
	c.w = new(internal.Waiter[slot[T]])
	c.w.Val.h = c.h
	enqueue(s, &p.recvq, c.w, i)
	return armWaiting
}

func (c *recvCase[T]) disarm() {
	if c.w != nil {
		c.p.mu.Lock()
		if c.w.Queued() {
			c.p.recvq.Remove(c.w)
		}
		c.p.mu.Unlock()
	}
	if c.done != nil {
		c.done()
	}
}

func (c *recvCase[T]) finish() error {
	if c.w != nil && c.w.Granted {
		c.v, c.err = c.w.Val.v, c.w.Val.err
	}
	if c.err != nil {
		return c.err
	}
	call(c.f, c.v)
	return nil
}

// ---- sending on a stream ----

type sendCase[T any] struct {
	s   *SendStream[T]
	v   T
	w   *internal.Waiter[slot[T]]
	err error
	f   func()
}

// OnSend is a Select case that sends v on s, as s.Send does; f (if not
// nil) runs once v is sent. A Send case that loses withdraws v.
func OnSend[T any](s *SendStream[T], v T, f func()) SelectCase {
	return &sendCase[T]{s: s, v: v, f: f}
}

func (c *sendCase[T]) arm(s *selector, i int) armResult {
	p := &c.s.st.p
	p.mu.Lock()
	defer p.mu.Unlock()
	fail := func(err error) armResult {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		c.err = err
		return armDone
	}
	switch {
	case c.s.closed:
		return fail(ErrClosedResource)
	case c.s.st.openRecv == 0:
		return fail(ErrBrokenResource)
	}
	// A waiting receiver: claim it and us together.
	for w := p.recvq.Front(); w != nil; {
		next := w.Next()
		if w.Sel == s.claim || (w.Ctx != nil && w.Ctx.Err() != nil) {
			w = next
			continue
		}
		mine, theirs := internal.ClaimPair(s.claim, i, w.Sel, w.SelIdx)
		if !mine {
			return armDecided
		}
		p.recvq.Remove(w)
		if theirs {
			w.Val.v = c.v
			w.Grant()
			return armDone
		}
		w = next
	}
	if p.buf.n < p.max {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		p.bufPush(c.v)
		return armDone
	}
	if s.claim.Decided() {
		return armDecided
	}
	c.w = new(internal.Waiter[slot[T]])
	c.w.Val = slot[T]{v: c.v, h: c.s}
	enqueue(s, &p.sendq, c.w, i)
	return armWaiting
}

func (c *sendCase[T]) disarm() {
	if c.w == nil {
		return
	}
	p := &c.s.st.p
	p.mu.Lock()
	if c.w.Queued() {
		p.sendq.Remove(c.w)
	}
	p.mu.Unlock()
}

func (c *sendCase[T]) finish() error {
	if c.w != nil && c.w.Granted {
		c.err = c.w.Val.err
	}
	if c.err != nil {
		return c.err
	}
	if c.f != nil {
		c.f()
	}
	return nil
}

// ---- Event, Lock, Semaphore ----

type unitCase struct {
	mu   *sync.Mutex // the primitive's
	q    *internal.Queue[struct{}]
	take func(ctx context.Context) bool // with mu held: take the unit if it is free now
	undo func()                         // give back what take took
	pre  func()                         // with mu held, before queueing
	w    *internal.Waiter[struct{}]
	f    func()
}

// OnEvent is a Select case that completes once e is set (taking nothing
// from it); f (if not nil) runs then.
func OnEvent(e *Event, f func()) SelectCase {
	return &unitCase{mu: &e.mu, q: &e.q, f: f, take: func(context.Context) bool { return e.set }}
}

// OnAcquire is a Select case that acquires a unit of sem, as sem.Acquire
// does (FIFO: it waits behind the tasks already waiting); f (if not nil)
// runs once it holds the unit. The caller must Release it.
func OnAcquire(sem *Semaphore, f func()) SelectCase {
	return &unitCase{mu: &sem.mu, q: &sem.q, f: f,
		take: func(context.Context) bool {
			if sem.value > 0 && sem.q.FrontLive() == nil {
				sem.value--
				sem.mons.Load().level(float64(sem.value))
				return true
			}
			return false
		},
		undo: func() { // nobody waits: take checked it
			sem.value++
			sem.mons.Load().level(float64(sem.value))
		},
	}
}

// OnLock is a Select case that locks l for the task in the Select's ctx,
// as l.Lock does (re-entering it if that task owns it); f (if not nil) runs
// once the task owns it. The caller must Unlock it.
func OnLock(l *Lock, f func()) SelectCase {
	reentered := false
	return &unitCase{mu: &l.mu, q: &l.q, f: f,
		take: func(ctx context.Context) bool {
			id := internal.TaskID(ctx)
			for {
				st := l.state.Load()
				if st == 0 {
					if l.state.CompareAndSwap(0, id<<ownerShift|lockedBit) {
						reentered = false
						l.mons.Load().use(1)
						return true
					}
					continue
				}
				if id != 0 && ownerOf(st) == id {
					l.extra.Add(1)
					reentered = true
					return true
				}
				return false
			}
		},
		undo: func() {
			if reentered {
				l.extra.Add(-1)
			} else {
				l.state.Store(0) // it was free, so nobody waits
				l.mons.Load().use(0)
			}
		},
		pre: func() { // mark the queue non-empty, as lockSlow does
			for {
				st := l.state.Load()
				if st&waitersBit != 0 || l.state.CompareAndSwap(st, st|waitersBit) {
					return
				}
			}
		},
	}
}

func (c *unitCase) arm(s *selector, i int) armResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.take(s.ctx) {
		if !s.claim.TryClaim(i) {
			if c.undo != nil {
				c.undo()
			}
			return armDecided
		}
		return armDone
	}
	if s.claim.Decided() {
		return armDecided
	}
	if c.pre != nil {
		c.pre()
	}
	c.w = new(internal.Waiter[struct{}])
	enqueue(s, c.q, c.w, i)
	return armWaiting
}

func (c *unitCase) disarm() {
	if c.w == nil {
		return
	}
	c.mu.Lock()
	if c.w.Queued() {
		c.q.Remove(c.w)
	}
	c.mu.Unlock()
}

func (c *unitCase) finish() error {
	if c.f != nil {
		c.f()
	}
	return nil
}

// ---- time ----

type timeoutCase struct {
	d   time.Duration
	at  time.Time
	abs bool
	f   func()
}

// OnTimeout is a Select case that completes d after the Select starts, on
// the clock of its ctx; f (if not nil) runs then. A d that is not positive
// completes at once.
func OnTimeout(d time.Duration, f func()) SelectCase { return &timeoutCase{d: d, f: f} }

// OnDeadline is a Select case that completes when the clock of its ctx
// reaches t; f (if not nil) runs then.
func OnDeadline(t time.Time, f func()) SelectCase { return &timeoutCase{at: t, abs: true, f: f} }

func (c *timeoutCase) arm(s *selector, i int) armResult {
	now := s.rt.Now()
	at := c.at
	if !c.abs {
		at = now.Add(c.d)
	}
	if !at.After(now) {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		return armDone
	}
	if s.timer < 0 || at.Before(s.deadline) {
		s.timer, s.deadline = i, at
	}
	return armWaiting
}

func (c *timeoutCase) disarm() {}

func (c *timeoutCase) finish() error {
	if c.f != nil {
		c.f()
	}
	return nil
}
