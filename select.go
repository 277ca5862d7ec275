package tock

import (
	"context"
	"fmt"
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
	// check panics if the case cannot be armed by s: the misuse that only
	// the Select's ctx or its other cases show (the constructors checked
	// the rest). Select checks every case before it arms any.
	check(s *selector)
	// arm completes the case at once if it can (claiming the select for
	// case i), or queues its waiter. It returns armDone if it completed,
	// armDecided if another case already won, armWaiting otherwise. While
	// s.polling (Select's first pass) it queues nothing: armWaiting then
	// means the case cannot complete now, and armUnpolled that it cannot
	// tell without being armed (the pass stops there). It
	// takes the primitive's mutex (released if it panics) and must not
	// panic once it has claimed the select: what can panic (a Tracked
	// condition, a misuse check) comes first.
	arm(s *selector, i int) armResult
	// disarm takes the case's waiter out of its queue, if it is there.
	disarm()
	// giveBack, called after disarm when a later case's arm panicked,
	// returns what a grant handed this case's waiter, if one did: the
	// Select that won it will not return.
	giveBack()
	// finish delivers the winning case's result (its callback) and returns
	// its error.
	finish() error
}

type armResult uint8

const (
	armWaiting armResult = iota
	armDone
	armDecided
	armUnpolled // polling: the case can only be armed (see SelectCase.arm)
)

type selector struct {
	ctx      context.Context
	rt       internal.Runtime
	task     *internal.Task  // the task in ctx (nil: anonymous), decoded once
	claim    *internal.Claim // &own
	own      internal.Claim
	parker   internal.Parker
	timer    int       // the earliest timeout case, or -1
	deadline time.Time // its instant
	// polling: the first pass, which looks for a case that completes at
	// once and queues none (see Select)
	polling bool
	borrows []*borrowCase
}

// enqueue readies w as case i of s and appends it to q.
func enqueue[T any](s *selector, q *internal.Queue[T], w *internal.Waiter[T], i int) {
	w.Ctx, w.Task = s.ctx, s.task
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
// before a case completes, and -1 and the error a blocking call with ctx
// would return if its wait fails otherwise (in a simulation,
// sim.ErrWallClockDeadline for a ctx with a deadline of the wall clock). In a simulation, a Select that completes at
// once is a checkpoint (the tasks already runnable run first).
//
// Select first looks at the cases in order without queueing any, and the
// first that can complete does (a Select that does not wait costs no
// waiter); only if none can are they queued, in order, the first to
// complete meanwhile winning. The operation of the winning case happens
// before Select returns, with the same guarantees as the operation's own
// call. Each waiting case is
// queued in its primitive's FIFO like a plain call (a Container, Lock,
// limiter or Semaphore case waits behind the calls already waiting), and
// counts in that primitive's Stats while it waits.
//
// Panics. A bad case panics before any case is armed: where it is made (a
// nil or zero primitive, a bad amount, a nil condition or borrower: see
// each OnX), or when Select starts, for what needs the Select's ctx or its
// other cases (an OnBorrow whose ctx carries no tock task, a borrower that
// already holds or awaits a token of the limiter, or that two cases
// borrow for). Select panics if ctx is nil, if no case is given or if a
// case is nil. What can still panic while the cases are looked at or
// armed is a Tracked condition (user code), or a borrower that another
// goroutine made a holder or waiter after the check. Then no case stays
// queued, and a case that a grant
// won meanwhile (on the real runtime, another goroutine's; in a
// simulation, one made from the condition itself) gives back what the
// grant handed it before the panic goes on out of Select: a unit,
// lock, token or permit is released (to the next waiter), a Get's amount
// goes back to the Container's level (which Puts let in meanwhile may
// then have filled above its capacity, until Gets take it), and an item
// goes back to the front of its Queue, stream or Subscription (in a
// priority Queue, in its order; into a full Subscription as its policy
// drops: as the oldest item); the callback does not run. What a grant took
// from a case stays delivered: a Send case's value went to a receiver, a
// Put case's amount is in the Container. An OnChannel case's message goes
// with its temporary subscription (every other subscriber got its own).
func Select(ctx context.Context, cases ...SelectCase) (int, error) {
	panicIfNilCtx("Select", ctx)
	if len(cases) == 0 {
		panic("tock: Select: no case given")
	}
	call := internal.Decode(ctx) // before any mutex: a misuse check may panic
	s := &selector{ctx: ctx, rt: call.RT, task: call.Task, timer: -1}
	s.own.Init()
	s.claim = &s.own
	defer endAll(cases) // also the cases not armed: the Select returned or panicked first
	for i, c := range cases {
		if c == nil {
			panic(fmt.Sprintf("tock: Select: case %d is nil", i))
		}
		c.check(s)
	}
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	internal.CheckSelect(s.rt)
	// The first pass looks for a case that completes at once, in order,
	// queueing none: a Select that does not wait makes no waiter, no
	// signal and no second round of the cases' locks (Go's select polls
	// its cases first too). Only if none does are the cases armed.
	s.polling = true
	armed, immediate := armAll(s, cases)
	s.polling = false
	if !immediate {
		s.timer = -1
		internal.PrepareShared(s.rt, &s.parker)
		armed, immediate = armAll(s, cases)
	}
	var refused error // a park's refusal, raised once the cases are disarmed
	var parkErr error // the park's error, if it failed for a reason of its own
	grantWon := false
	switch {
	case immediate:
	case s.claim.Decided():
		// A grant claimed a case armed earlier (on the real runtime, while
		// the later ones were armed): wait for its signal.
		s.parker.Drain()
	default:
		var err error
		if s.timer >= 0 {
			err = internal.ParkSelectUntil(ctx, s.rt, &s.parker, s.deadline)
		} else {
			err = internal.ParkSelect(ctx, s.rt, &s.parker)
		}
		if err != nil {
			var won bool
			switch {
			case internal.Refused(err):
				won = s.claim.Cancel()
			case internal.ParkTimedOut(err):
				won = s.claim.TryClaim(s.timer) // the deadline passed
			default:
				// ctx is done, or the park failed for a reason of its own
				// (in a simulation, a deadline of the wall clock on ctx)
				won = s.claim.Cancel()
				parkErr = err
			}
			if !won {
				s.parker.Drain() // a grant claimed the Select first: it wins
			}
			if internal.Refused(err) {
				refused, grantWon = err, !won
			}
		}
	}
	// Every case leaves its queue once (a case's disarm is not repeatable:
	// a Permit case counts its wait out), then a refusal is raised, unless
	// it abandons a task whose grant won (it returns what it won; its next
	// blocking call unwinds it).
	for _, c := range cases[:armed] {
		c.disarm()
	}
	if refused != nil {
		internal.Raise(refused, grantWon)
	}
	w := s.claim.Winner()
	if w < 0 {
		if err := ctx.Err(); err != nil || parkErr == nil {
			return -1, err
		}
		return -1, parkErr
	}
	if immediate {
		s.rt.Checkpoint()
	}
	return w, cases[w].finish()
}

// armAll arms cases in order until one completes or the Select is
// decided, and returns how many it armed and whether one completed at once.
// While s.polling it only looks (no case queues; it stops at a case that
// cannot be looked at, see SelectCase.arm).
// If an arm panics (a Tracked condition, a borrower misused meanwhile), the
// Select is decided for nobody, the cases armed before it leave their
// queues, and one that a grant won in between gives back what it got,
// before the panic goes on: nothing stays queued, nothing is lost.
func armAll(s *selector, cases []SelectCase) (armed int, immediate bool) {
	ok := false
	defer func() {
		if ok {
			return
		}
		// armed is the panicking case's index; an arm that completes
		// (immediate) ends the arming, so none panics after it.
		granted := false
		if !s.claim.Cancel() {
			// A case before the panicking one that a grant claimed sent the
			// parker a signal: drain it (its grant is complete then). The
			// panicking case may have claimed itself before it panicked (no
			// arm of this package does); nobody signalled that.
			if w := s.claim.Winner(); w >= 0 && w < armed {
				s.parker.Drain()
				granted = true
			}
		}
		for _, c := range cases[:armed] {
			c.disarm()
		}
		if granted {
			cases[s.claim.Winner()].giveBack()
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
	ended  bool   // done was called
}

// end calls the case's done once: at its disarm, or, for a case the
// Select never armed (it returned or panicked first), when Select returns.
func (c *recvCase[T]) end() {
	if c.done != nil && !c.ended {
		c.ended = true
		c.done()
	}
}

// ender is a case that holds something until its Select returns, armed or
// not (OnChannel's temporary subscription).
type ender interface{ end() }

// endAll ends the cases that hold something (see ender), armed or not.
func endAll(cases []SelectCase) {
	for _, c := range cases {
		if e, ok := c.(ender); ok {
			e.end()
		}
	}
}

// OnReceive is a Select case that receives from r, as r.Receive does; f
// gets the item. It panics if r is nil or a zero ReceiveStream.
func OnReceive[T any](r *ReceiveStream[T], f func(v T)) SelectCase {
	st := r.state("OnReceive")
	return &recvCase[T]{p: &st.p, h: r, closed: func() bool { return r.closed }, f: f}
}

// OnGet is a Select case that gets from q, as q.Get does; f gets the item.
// It panics if q is nil.
func OnGet[T any](q *Queue[T], f func(v T)) SelectCase {
	if q == nil {
		panic("tock: Queue.OnGet: nil *Queue; make it with NewQueue")
	}
	return &recvCase[T]{p: &q.p, f: f}
}

// OnSubscription is a Select case that receives from s, as s.Receive
// does; f gets the message. It panics if s is nil or a zero Subscription.
func OnSubscription[T any](s *Subscription[T], f func(v T)) SelectCase {
	s.check("OnSubscription")
	return &recvCase[T]{p: &s.p, f: f}
}

// OnChannel is a Select case that receives the next message put on c
// while the Select waits, as c.Receive does; f gets the message. It
// subscribes to c when it is made (a message put before the Select starts
// is received too) and unsubscribes when the Select that uses it returns:
// it serves one Select (another gets ErrStreamClosed). It panics if c is
// nil.
func OnChannel[T any](c *Channel[T], f func(v T)) SelectCase {
	if c == nil {
		panic("tock: Channel.OnChannel: nil *Channel; make it with NewChannel")
	}
	sub := c.Subscribe(MaxBuffer(1, DropNewest))
	return &recvCase[T]{p: &sub.p, f: f, done: sub.Close}
}

func (c *recvCase[T]) check(*selector) {}

func (c *recvCase[T]) arm(s *selector, i int) armResult {
	c.w, c.err = nil, nil // a case may be used again
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
		if w.Sel == s.claim || !internal.CtxLive(w.Ctx) {
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
	if s.polling {
		return armWaiting
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
	c.end()
}

// giveBack puts the item a grant handed the case back as its pipe's next
// item. An OnChannel case's temporary subscription, closed by disarm,
// takes its message with it.
func (c *recvCase[T]) giveBack() {
	if c.w == nil || c.done != nil {
		return
	}
	p := c.p
	p.mu.Lock()
	if c.w.Granted && c.w.Val.err == nil {
		p.unget(c.w.Val.v) // releases mu if user code in it panics
	}
	p.mu.Unlock()
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
// nil) runs once v is sent. A Send case that loses withdraws v. It panics
// if s is nil or a zero SendStream.
func OnSend[T any](s *SendStream[T], v T, f func()) SelectCase {
	s.state("OnSend")
	return &sendCase[T]{s: s, v: v, f: f}
}

func (c *sendCase[T]) check(*selector) {}

func (c *sendCase[T]) arm(s *selector, i int) armResult {
	c.w, c.err = nil, nil // a case may be used again
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
		if w.Sel == s.claim || !internal.CtxLive(w.Ctx) {
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
	if s.polling {
		return armWaiting
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

// giveBack does nothing: a receiver that took the value has it (the value
// was sent).
func (c *sendCase[T]) giveBack() {}

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
	take func(s *selector) bool // with mu held: take the unit if it is free now
	undo func()                 // with mu held: give back what take took
	back func()                 // without mu: give back a unit a grant handed the waiter
	won  func()                 // if set, in the caller's goroutine when the case won, before f
	pre  func() bool            // with mu held, before queueing; false: the unit came free meanwhile, take again
	w    *internal.Waiter[struct{}]
	f    func()
}

// OnEvent is a Select case that completes once e is set (taking nothing
// from it); f (if not nil) runs then. It panics if e is nil.
func OnEvent(e *Event, f func()) SelectCase {
	if e == nil {
		panic("tock: Event.OnEvent: nil *Event")
	}
	return &unitCase{mu: &e.mu, q: &e.q, f: f, take: func(*selector) bool { return e.set }}
}

// OnAcquire is a Select case that acquires a unit of sem, as sem.Acquire
// does (FIFO: it waits behind the tasks already waiting); f (if not nil)
// runs once it holds the unit. The caller must Release it. It panics if sem
// is nil.
func OnAcquire(sem *Semaphore, f func()) SelectCase {
	if sem == nil {
		panic("tock: Semaphore.OnAcquire: nil *Semaphore")
	}
	return &unitCase{mu: &sem.mu, q: &sem.q, f: f,
		take: func(*selector) bool {
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
		back: sem.Release,
	}
}

// OnLock is a Select case that locks l for the task in the Select's ctx,
// as l.Lock does (re-entering it if that task owns it); f (if not nil) runs
// once the task owns it. The caller must Unlock it. It panics if l is nil.
func OnLock(l *Lock, f func()) SelectCase {
	if l == nil {
		panic("tock: Lock.OnLock: nil *Lock")
	}
	reentered := false
	return &unitCase{mu: &l.mu, q: &l.q, f: f,
		take: func(s *selector) bool {
			id := s.task.IDOrZero()
			reentered = false
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
					if internal.CheckedReal {
						l.checkReentry("OnLock") // before the Select is claimed: armAll unwinds it
					}
					l.extra.Add(1)
					reentered = true
					return true
				}
				return false
			}
		},
		won: func() { // taken or handed over: this goroutine took the lock, as Lock records
			if internal.CheckedReal && !reentered {
				l.g.Store(internal.CurGoid())
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
		back: l.release, // handed over by a release: the task owns it once
		// Mark the queue non-empty, as Lock.lockOwnedOrSlow does. The owner's Unlock
		// takes no mutex while nobody is marked waiting, so the lock may
		// have come free since take looked: then take it instead (marking
		// a free lock would queue the waiter behind nobody, for good).
		pre: func() bool {
			for {
				st := l.state.Load()
				if st == 0 {
					return false
				}
				if st&waitersBit != 0 || l.state.CompareAndSwap(st, st|waitersBit) {
					return true
				}
			}
		},
	}
}

func (c *unitCase) check(*selector) {}

func (c *unitCase) arm(s *selector, i int) armResult {
	c.w = nil // a case may be used again
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.take(s) {
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
		if s.polling {
			return armWaiting // pre marks the primitive for a waiter
		}
		if c.pre == nil || c.pre() {
			break
		}
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

func (c *unitCase) giveBack() {
	if c.w == nil || c.back == nil {
		return
	}
	c.mu.Lock()
	granted := c.w.Granted
	c.mu.Unlock()
	if granted {
		c.back()
	}
}

func (c *unitCase) finish() error {
	if c.won != nil {
		c.won()
	}
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
	if s.polling && !c.abs && c.d > 0 {
		return armWaiting // not due: no clock reading
	}
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

func (c *timeoutCase) check(*selector) {}

func (c *timeoutCase) disarm() {}

func (c *timeoutCase) giveBack() {}

func (c *timeoutCase) finish() error {
	if c.f != nil {
		c.f()
	}
	return nil
}
