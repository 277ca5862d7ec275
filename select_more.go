package tock

import (
	"context"

	"github.com/tockgo/tock/internal"
)

// ---- Container ----

type containerCase struct {
	c      *Container
	amount float64
	put    bool
	w      *internal.Waiter[float64]
	f      func()
}

// OnContainerPut is a Select case that adds amount to c, as c.Put does
// (FIFO: it waits behind the Puts already waiting); f (if not nil) runs
// once the amount is added. A Put case that loses adds nothing. It panics,
// as Put does, if amount is negative, NaN, infinite or above c's capacity,
// and if c is nil or was not made with NewContainer.
func OnContainerPut(c *Container, amount float64, f func()) SelectCase {
	if c == nil {
		panic("tock: Container.OnContainerPut: nil *Container; make it with NewContainer")
	}
	c.checkAmount("OnContainerPut", amount)
	return &containerCase{c: c, amount: amount, put: true, f: f}
}

// OnContainerGet is a Select case that takes amount from c, as c.Get does
// (FIFO: it waits behind the Gets already waiting); f (if not nil) runs
// once the amount is taken. A Get case that loses takes nothing. It panics
// as OnContainerPut does.
func OnContainerGet(c *Container, amount float64, f func()) SelectCase {
	if c == nil {
		panic("tock: Container.OnContainerGet: nil *Container; make it with NewContainer")
	}
	c.checkAmount("OnContainerGet", amount)
	return &containerCase{c: c, amount: amount, f: f}
}

func (k *containerCase) queue() *internal.Queue[float64] {
	if k.put {
		return &k.c.puts
	}
	return &k.c.gets
}

func (k *containerCase) check(*selector) {}

func (k *containerCase) arm(s *selector, i int) armResult {
	k.w = nil // a case may be used again
	c, q := k.c, k.queue()
	c.mu.Lock()
	defer c.mu.Unlock()
	if q.FrontLive() == nil && c.fits(k.amount, k.put) {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		c.apply(s.ctx, k.amount, k.put)
		c.dispatch(s.ctx)
		return armDone
	}
	if s.claim.Decided() {
		return armDecided
	}
	if s.polling {
		return armWaiting
	}
	k.w = new(internal.Waiter[float64])
	k.w.Val = k.amount
	enqueue(s, q, k.w, i)
	return armWaiting
}

func (k *containerCase) disarm() {
	if k.w == nil {
		return
	}
	c := k.c
	c.mu.Lock()
	if k.w.Queued() {
		k.queue().Remove(k.w)
		// A case that left may have held back the ones behind it.
		c.dispatch(nil)
	}
	c.mu.Unlock()
}

// giveBack returns a Get's amount to the level (serving the waiters it now
// fits). Puts let in since the grant may have used the room the Get made:
// the level then exceeds the capacity until Gets take it (Puts wait
// meanwhile), rather than lose the amount. A Put's amount stays: the level
// holds it, and Gets may have taken it already.
func (k *containerCase) giveBack() {
	if k.w == nil || k.put {
		return
	}
	c := k.c
	c.mu.Lock()
	if k.w.Granted {
		c.apply(nil, k.amount, true)
		c.dispatch(nil)
	}
	c.mu.Unlock()
}

func (k *containerCase) finish() error {
	if k.f != nil {
		k.f()
	}
	return nil
}

// ---- Tracked, Flag ----

type trackedCase[T any] struct {
	t    *Tracked[T]
	pred func(T) bool
	w    *internal.Waiter[trackedWait[T]]
	v    T
	f    func(T)
}

// OnTracked is a Select case that completes when pred holds for t's value,
// as t.WaitUntil does (woken by the change that makes pred true); f (if
// not nil) gets the value that satisfied pred. It takes nothing from t. It
// panics if t or pred is nil. pred runs under t's internal lock: in the
// Select (once as the Select looks for a case that completes at once,
// and again when it queues its cases if none does) and in each Set or
// Update while the case waits (see Tracked.Set); if it
// panics in the Select, the panic propagates out of Select, which leaves
// no case queued and takes nothing (see Select).
func OnTracked[T any](t *Tracked[T], pred func(T) bool, f func(v T)) SelectCase {
	if t == nil {
		panic("tock: Tracked.OnTracked: nil *Tracked")
	}
	if pred == nil {
		panic("tock: Tracked.OnTracked: the condition is nil")
	}
	return &trackedCase[T]{t: t, pred: pred, f: f}
}

// OnFlag is a Select case that completes when fl is set, as fl.Wait does;
// f (if not nil) runs then. It panics if fl is nil.
func OnFlag(fl *Flag, f func()) SelectCase {
	if fl == nil {
		panic("tock: Flag.OnFlag: nil *Flag")
	}
	var g func(bool)
	if f != nil {
		g = func(bool) { f() }
	}
	return &trackedCase[bool]{t: &fl.t, pred: isTrue, f: g}
}

func (k *trackedCase[T]) check(*selector) {}

func (k *trackedCase[T]) arm(s *selector, i int) armResult {
	k.w = nil // a case may be used again
	t := k.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if k.pred(t.v) {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		k.v = t.v
		return armDone
	}
	if s.claim.Decided() {
		return armDecided
	}
	if s.polling {
		return armWaiting
	}
	k.w = new(internal.Waiter[trackedWait[T]])
	k.w.Val.pred = k.pred
	enqueue(s, &t.q, k.w, i)
	return armWaiting
}

func (k *trackedCase[T]) disarm() {
	if k.w == nil {
		return
	}
	k.t.mu.Lock()
	if k.w.Queued() {
		k.t.q.Remove(k.w)
	}
	k.t.mu.Unlock()
}

// giveBack does nothing: a Tracked case takes nothing.
func (k *trackedCase[T]) giveBack() {}

func (k *trackedCase[T]) finish() error {
	if k.w != nil && k.w.Granted {
		k.v = k.w.Val.v
	}
	call(k.f, k.v)
	return nil
}

// ---- PriorityLimiter ----

type permitCase struct {
	l      *PriorityLimiter
	prio   int
	p      *Permit
	w      *internal.Waiter[*Permit]
	victim *Permit
	won    bool // the permit was handed over at once
	f      func(*Permit)
}

// OnPermit is a Select case that acquires a token of l with the given
// priority, as l.Acquire does (served by priority, FIFO among equals; on a
// Preemptive limiter it may preempt a holder); f gets the *Permit, which the
// caller must Release. A case that loses takes no token and preempts
// nobody. The permit's context derives from the Select's ctx. It panics if
// l is nil or a zero PriorityLimiter (not made with NewPriorityLimiter).
func OnPermit(l *PriorityLimiter, priority int, f func(p *Permit)) SelectCase {
	if l == nil {
		panic("tock: PriorityLimiter.OnPermit: nil *PriorityLimiter; make it with NewPriorityLimiter")
	}
	l.checkMade("OnPermit")
	return &permitCase{l: l, prio: priority, f: f}
}

func (k *permitCase) check(*selector) {}

func (k *permitCase) arm(s *selector, i int) armResult {
	k.w, k.victim, k.won, k.p = nil, nil, false, nil // a case may be used again
	if s.polling {
		// Its permit is made before the limiter's lock is taken, and
		// one that a case that waits or loses made is cancelled by its
		// disarm: this case is armed, or it is not looked at.
		return armUnpolled
	}
	l := k.l
	k.p = l.newPermit(s.ctx, k.prio)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.free() {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		l.addHolder(k.p)
		k.won = true
		return armDone
	}
	if v := l.victim(k.prio); v != nil {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		l.preempt(v, k.p)
		k.victim, k.won = v, true
		return armDone
	}
	if s.claim.Decided() {
		return armDecided
	}
	lvl := l.level(k.prio)
	l.waiting++
	l.recordQueue()
	k.w = new(internal.Waiter[*Permit])
	k.w.Val = k.p
	enqueue(s, &lvl.q, k.w, i)
	return armWaiting
}

func (k *permitCase) disarm() {
	l := k.l
	granted := k.won
	if k.w != nil {
		l.mu.Lock()
		if k.w.Queued() {
			l.level(k.prio).q.Remove(k.w)
		}
		l.prune(k.prio)
		l.waiting--
		l.recordQueue()
		granted = k.w.Granted
		l.mu.Unlock()
	}
	if k.victim != nil {
		k.victim.cancel(ErrPreempted)
	}
	if !granted && k.p != nil {
		k.p.cancel(context.Canceled) // a permit never handed out
	}
}

// giveBack releases a permit a Release handed the case (to the next
// waiter).
func (k *permitCase) giveBack() {
	if k.w == nil {
		return
	}
	k.l.mu.Lock()
	granted := k.w.Granted
	k.l.mu.Unlock()
	if granted {
		k.p.Release()
	}
}

func (k *permitCase) finish() error {
	if k.f != nil {
		k.f(k.p)
	}
	return nil
}

// ---- CapacityLimiter ----

type borrowCase struct {
	l        *CapacityLimiter
	borrower any // nil: the task in the Select's ctx
	op       string
	b        any
	id       uint64
	task     *internal.Task // the borrower, a task, whose LimiterWaits counts this wait
	w        *internal.Waiter[any]
	f        func()
}

// OnBorrow is a Select case that borrows a token of l for the task in the
// Select's ctx, as l.Acquire does (FIFO); f (if not nil) runs once the task
// holds it. The caller must Release it. A case that loses borrows nothing.
// It panics if l is nil. The Select panics before it arms any case, as
// Acquire does, if its ctx carries no tock task or the task already holds
// or awaits a token of l, or if another of its cases borrows from l for
// the task too.
func OnBorrow(l *CapacityLimiter, f func()) SelectCase {
	if l == nil {
		panic("tock: CapacityLimiter.OnBorrow: nil *CapacityLimiter; make it with NewCapacityLimiter")
	}
	return &borrowCase{l: l, op: "OnBorrow", f: f}
}

// OnBorrowFor is OnBorrow for borrower, as l.AcquireFor does; the caller
// must ReleaseFor it. It panics if l is nil, and on a borrower AcquireFor
// refuses (nil, not comparable, not equal to itself); the Select panics before it arms any case if borrower
// already holds or awaits a token of l, or another of its cases borrows
// from l for borrower too.
func OnBorrowFor(l *CapacityLimiter, borrower any, f func()) SelectCase {
	if l == nil {
		panic("tock: CapacityLimiter.OnBorrowFor: nil *CapacityLimiter; make it with NewCapacityLimiter")
	}
	checkBorrower("OnBorrowFor", borrower)
	return &borrowCase{l: l, borrower: borrower, op: "OnBorrowFor", f: f}
}

// check resolves the borrower and refuses one that holds or awaits a token
// of l, or that an earlier case of the Select borrows from l for.
func (k *borrowCase) check(s *selector) {
	l := k.l
	k.b = k.borrower
	if k.b == nil {
		k.b = defaultBorrower(k.op, internal.Call{RT: s.rt, Task: s.task})
	}
	for _, o := range s.borrows {
		if o.l == l && o.b == k.b {
			panic("tock: CapacityLimiter." + k.op + ": this borrower is already waiting for a token (two cases of one Select borrow for it)")
		}
	}
	s.borrows = append(s.borrows, k)
	l.mu.Lock()
	l.checkNotHolding(k.op, k.b) // unlocks l.mu if it panics
	l.mu.Unlock()
}

func (k *borrowCase) arm(s *selector, i int) armResult {
	k.w, k.task = nil, nil // a case may be used again
	l := k.l
	l.mu.Lock()
	// Checked by check already; another goroutine may have borrowed for the
	// borrower since (see Select).
	l.checkNotHolding(k.op, k.b) // unlocks l.mu if it panics
	defer l.mu.Unlock()
	if len(l.held) < l.total && l.q.FrontLive() == nil {
		if !s.claim.TryClaim(i) {
			return armDecided
		}
		l.add(k.b)
		return armDone
	}
	if s.claim.Decided() {
		return armDecided
	}
	if s.polling {
		return armWaiting
	}
	if t, ok := k.b.(*internal.Task); ok {
		// As acquireSlow: a task counts its waits, and a second wait for it
		// (another goroutine with its ctx) finds this one in the queue.
		t.LimiterWaits.Add(1)
		k.task = t
	} else {
		if l.waiting == nil {
			l.waiting = map[any]waitToken{}
		}
		l.waits++
		k.id = l.waits
		l.waiting[k.b] = waitToken{ctx: s.ctx, id: k.id}
	}
	l.q.Res = (*limiterHolding)(l)
	k.w = new(internal.Waiter[any])
	k.w.Val = k.b
	enqueue(s, &l.q, k.w, i)
	return armWaiting
}

func (k *borrowCase) disarm() {
	if k.w == nil {
		return
	}
	l := k.l
	l.mu.Lock()
	if k.w.Queued() {
		l.q.Remove(k.w)
	}
	if k.task != nil {
		k.task.LimiterWaits.Add(-1) // once: disarm may be called again
		k.task = nil
	} else if w, ok := l.waiting[k.b]; ok && w.id == k.id {
		delete(l.waiting, k.b)
	}
	l.mu.Unlock()
}

// giveBack returns a token a grant handed the case (to the next waiter).
func (k *borrowCase) giveBack() {
	if k.w == nil {
		return
	}
	l := k.l
	l.mu.Lock()
	if k.w.Granted {
		if i := l.find(k.b); i >= 0 { // still its: nobody released it for it
			l.remove(i)
			l.grant()
		}
	}
	l.mu.Unlock()
}

func (k *borrowCase) finish() error {
	if k.f != nil {
		k.f()
	}
	return nil
}
