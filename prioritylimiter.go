package tock

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tockgo/tock/internal"
)

// ErrPreempted is the cause (context.Cause) of a Permit's context cancelled
// because a more urgent Acquire took its token from a Preemptive
// PriorityLimiter. Match it with errors.Is(context.Cause(permit.Context()),
// ErrPreempted).
var ErrPreempted = errors.New("tock: preempted by a more urgent holder")

// errReleased is the cause of a Permit's context once it was released.
var errReleased = errors.New("tock: the permit was released")

// PriorityLimiter hands out a fixed number of tokens by priority: the
// waiter with the lowest priority value is served first, FIFO among equal
// priorities (SimPy's PriorityResource). Made with the Preemptive option, it
// also lets an Acquire take the token of a holder with a strictly higher
// priority value (SimPy's PreemptiveResource): that holder's Permit context
// is cancelled with cause ErrPreempted, and the token passes to the
// preemptor at once.
//
// Acquire returns a *Permit: its Context, derived from the ctx given to
// Acquire, is what the holder should do its work with, so that a preemption
// interrupts that work; Release returns the token. In a simulation, an
// Acquire that does not wait is a checkpoint. Make one with
// NewPriorityLimiter.
type PriorityLimiter struct {
	mu         sync.Mutex
	total      int
	preemptive bool
	seq        uint64
	holders    []*Permit
	levels     []*prioLevel // ascending priority
	waiting    int
	mons       atomic.Pointer[Monitors] // see Watch (watch.go)
}

type prioLevel struct {
	prio int
	q    internal.Queue[*Permit]
}

// PriorityLimiterOption configures NewPriorityLimiter.
type PriorityLimiterOption func(*PriorityLimiter)

// Preemptive makes an Acquire preempt the holder with the highest priority
// value (the most recent among equals) when every token is held and that
// value is strictly higher than the Acquire's.
func Preemptive() PriorityLimiterOption { return func(l *PriorityLimiter) { l.preemptive = true } }

// NewPriorityLimiter returns a limiter with total tokens. It panics if total
// is not positive.
func NewPriorityLimiter(total int, opts ...PriorityLimiterOption) *PriorityLimiter {
	if total <= 0 {
		panic("tock: NewPriorityLimiter: the total " + strconv.Itoa(total) + " is not positive")
	}
	l := &PriorityLimiter{total: total}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Permit is one token of a PriorityLimiter, held from Acquire until Release
// or a preemption.
type Permit struct {
	l         *PriorityLimiter
	prio      int
	seq       uint64
	ctx       context.Context
	cancel    context.CancelCauseFunc
	held      bool
	preempted bool
	released  bool
}

// Context is the holder's context: derived from the ctx given to Acquire,
// cancelled with cause ErrPreempted when the token is preempted, and
// cancelled once the permit is released.
func (p *Permit) Context() context.Context { return p.ctx }

// Priority is the priority the permit was acquired with.
func (p *Permit) Priority() int { return p.prio }

// Preempted reports whether the token was taken by a preemption. It panics
// on a nil or zero Permit.
func (p *Permit) Preempted() bool {
	p.check("Preempted")
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	return p.preempted
}

// Release returns the token: to the most urgent waiter (lowest priority
// value, oldest among equals), or to the limiter. It never blocks, and
// cancels the permit's context. After a preemption it does nothing (the
// token already went to the preemptor). It panics if called twice, and on
// a nil or zero Permit. A Release that returns the token synchronizes
// before the Acquire (or TryAcquire) that takes a token next returns.
func (p *Permit) Release() {
	p.check("Release")
	l := p.l
	l.mu.Lock()
	if p.released {
		l.mu.Unlock()
		panic("tock: Permit.Release: the permit was already released")
	}
	p.released = true
	if p.preempted {
		l.mu.Unlock()
		return
	}
	l.removeHolder(p)
	l.dispatch()
	l.mu.Unlock()
	p.cancel(errReleased)
}

// check panics on a nil or zero Permit (one not returned by an Acquire).
func (p *Permit) check(op string) {
	if p == nil {
		panic("tock: Permit." + op + ": nil *Permit")
	}
	if p.l == nil {
		panic("tock: Permit." + op + ": the zero Permit is not usable; a Permit comes from PriorityLimiter.Acquire")
	}
}

// Acquire takes a token with the given priority (lower is more urgent),
// blocking while none is free and no holder can be preempted. It returns
// ctx's error, taking nothing, if ctx is done before a token is handed over
// (even if one is free); once handed over, it returns the permit even if ctx
// is cancelled meanwhile. The permit's context derives from ctx: to bound
// only the wait (a caller who gives up), use AcquireTimeout rather than a
// ctx with a timeout, which would also end the holder's work. A Release
// synchronizes before the Acquire that takes a token next returns; a
// preemption does not wait for the preempted holder, whose work is not
// ordered before Acquire's return. It panics if ctx is nil or l is a zero
// PriorityLimiter (not made with NewPriorityLimiter).
func (l *PriorityLimiter) Acquire(ctx context.Context, priority int) (*Permit, error) {
	panicIfNilCtx("PriorityLimiter.Acquire", ctx)
	l.checkMade("Acquire")
	if m := l.mons.Load(); m != nil {
		return l.acquireWatched(m, ctx, priority)
	}
	return l.acquire(ctx, ctx, priority)
}

// AcquireTimeout is Acquire waiting at most d (on ctx's clock): it returns
// context.DeadlineExceeded, taking nothing, if no token was handed over by
// then. The permit's context derives from ctx, not from the timeout. It
// panics as Acquire does.
func (l *PriorityLimiter) AcquireTimeout(ctx context.Context, priority int, d time.Duration) (*Permit, error) {
	panicIfNilCtx("PriorityLimiter.AcquireTimeout", ctx)
	l.checkMade("AcquireTimeout")
	wctx, cancel := WithTimeout(ctx, d)
	defer cancel()
	var p *Permit
	var err error
	if m := l.mons.Load(); m != nil {
		p, err = timedV(m, ctx, func() (*Permit, error) { return l.acquire(ctx, wctx, priority) })
	} else {
		p, err = l.acquire(ctx, wctx, priority)
	}
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return p, err
}

// checkMade panics if l is a zero PriorityLimiter: it has no tokens and
// nothing can give it any, so an Acquire would wait forever. Its total is
// set once, by NewPriorityLimiter, before l is shared: read without l.mu.
func (l *PriorityLimiter) checkMade(op string) {
	if l.total == 0 {
		panic("tock: PriorityLimiter." + op + ": the PriorityLimiter was not made with NewPriorityLimiter (a zero one has no tokens)")
	}
}

func (l *PriorityLimiter) acquire(ctx, wctx context.Context, priority int) (*Permit, error) {
	if err := wctx.Err(); err != nil {
		return nil, err
	}
	p := l.newPermit(ctx, priority)
	call := internal.DecodeRT(wctx) // before the mutex: a misuse check may panic
	l.mu.Lock()
	if l.take(p) {
		return p, nil
	}
	if victim := l.victim(priority); victim != nil {
		l.preempt(victim, p)
		l.mu.Unlock()
		victim.cancel(ErrPreempted)
		call.RT.Checkpoint()
		return p, nil
	}
	lvl := l.level(priority)
	l.waiting++
	l.recordQueue()
	// The wait is counted out, and an empty level dropped, also if the
	// park panics (a refused caller, a ctx of the user's own type, a
	// simulation unwinding the task); a permit not handed out is cancelled.
	granted := false
	defer func() {
		l.mu.Lock()
		l.waiting--
		l.recordQueue()
		l.prune(priority)
		l.mu.Unlock()
		if !granted {
			p.cancel(context.Canceled)
		}
	}()
	_, err := internal.Block(wctx, call, &l.mu, &lvl.q, p, "PriorityLimiter.Acquire")
	if err != nil {
		p.cancel(err)
		return nil, err
	}
	granted = true
	return p, nil
}

// TryAcquire takes a token with the given priority if one is free and
// nobody waits (or, if the limiter is Preemptive, if a holder can be
// preempted), and reports whether it did. It panics as Acquire does on a
// zero PriorityLimiter, and if ctx is nil. It ignores ctx's cancellation;
// the permit's context derives from ctx. A Release synchronizes before the
// TryAcquire that takes a token next returns.
func (l *PriorityLimiter) TryAcquire(ctx context.Context, priority int) (*Permit, bool) {
	panicIfNilCtx("PriorityLimiter.TryAcquire", ctx)
	l.checkMade("TryAcquire")
	p := l.newPermit(ctx, priority)
	l.mu.Lock()
	if l.free() {
		l.addHolder(p)
		l.mu.Unlock()
		return p, true
	}
	if victim := l.victim(priority); victim != nil {
		l.preempt(victim, p)
		l.mu.Unlock()
		victim.cancel(ErrPreempted)
		return p, true
	}
	l.mu.Unlock()
	p.cancel(ErrWouldBlock)
	return nil, false
}

func (l *PriorityLimiter) newPermit(ctx context.Context, priority int) *Permit {
	// The standard library's context, so that context.Cause reports
	// ErrPreempted; it works in a simulation as every derived context does.
	pctx, cancel := context.WithCancelCause(ctx)
	return &Permit{l: l, prio: priority, ctx: pctx, cancel: cancel}
}

// take gives p a free token if nobody waits; on success it unlocks l.mu and
// checkpoints.
func (l *PriorityLimiter) take(p *Permit) bool {
	if !l.free() {
		return false
	}
	l.addHolder(p)
	l.mu.Unlock()
	internal.RuntimeOf(p.ctx).Checkpoint()
	return true
}

// free reports whether a token is free and no live task waits.
func (l *PriorityLimiter) free() bool {
	if len(l.holders) >= l.total {
		return false
	}
	for _, lvl := range l.levels {
		if lvl.q.FrontLive() != nil {
			return false
		}
	}
	return true
}

// victim is the holder a preemption by priority would take the token from,
// or nil.
func (l *PriorityLimiter) victim(priority int) *Permit {
	if !l.preemptive || len(l.holders) < l.total {
		return nil
	}
	var v *Permit
	for _, h := range l.holders {
		if v == nil || h.prio > v.prio || (h.prio == v.prio && h.seq > v.seq) {
			v = h
		}
	}
	if v != nil && v.prio > priority {
		return v
	}
	return nil
}

func (l *PriorityLimiter) preempt(victim, p *Permit) {
	victim.preempted = true
	l.removeHolder(victim)
	l.addHolder(p)
}

func (l *PriorityLimiter) addHolder(p *Permit) {
	l.seq++
	p.seq = l.seq
	p.held = true
	l.holders = append(l.holders, p)
	l.mons.Load().use(len(l.holders))
}

func (l *PriorityLimiter) removeHolder(p *Permit) {
	for i, h := range l.holders {
		if h == p {
			l.holders = append(l.holders[:i], l.holders[i+1:]...)
			break
		}
	}
	p.held = false
	l.mons.Load().use(len(l.holders))
}

// level returns the wait queue of priority, creating it in order.
func (l *PriorityLimiter) level(priority int) *prioLevel {
	i := sort.Search(len(l.levels), func(i int) bool { return l.levels[i].prio >= priority })
	if i < len(l.levels) && l.levels[i].prio == priority {
		return l.levels[i]
	}
	lvl := &prioLevel{prio: priority}
	l.levels = append(l.levels, nil)
	copy(l.levels[i+1:], l.levels[i:])
	l.levels[i] = lvl
	return lvl
}

// prune drops priority's wait queue if nobody waits in it, so that an idle
// limiter keeps no queue of a priority once waited on. With l.mu held.
func (l *PriorityLimiter) prune(priority int) {
	i := sort.Search(len(l.levels), func(i int) bool { return l.levels[i].prio >= priority })
	if i < len(l.levels) && l.levels[i].prio == priority && l.levels[i].q.Len() == 0 {
		copy(l.levels[i:], l.levels[i+1:])
		l.levels[len(l.levels)-1] = nil
		l.levels = l.levels[:len(l.levels)-1]
	}
}

// dispatch hands free tokens to the most urgent live waiters.
func (l *PriorityLimiter) dispatch() {
	for _, lvl := range l.levels {
		for len(l.holders) < l.total {
			w := lvl.q.PopLive()
			if w == nil {
				break
			}
			l.addHolder(w.Val)
			w.Grant()
		}
	}
}

func (l *PriorityLimiter) recordQueue() {
	l.mons.Load().queue(l.waiting)
}

// MonitorUse makes m follow the number of tokens held (call it before the
// limiter is used; nil detaches): Watch with only Use changed.
func (l *PriorityLimiter) MonitorUse(m *Monitor) {
	w := l.watching()
	w.Use = m
	l.Watch(&w)
}

// MonitorQueue makes m follow the number of tasks waiting in Acquire (call
// it before the limiter is used; nil detaches): Watch with only Queue
// changed.
func (l *PriorityLimiter) MonitorQueue(m *Monitor) {
	w := l.watching()
	w.Queue = m
	l.Watch(&w)
}

func (l *PriorityLimiter) watching() Monitors {
	if m := l.mons.Load(); m != nil {
		return *m
	}
	return Monitors{}
}

// PriorityLimiterStats is a snapshot of a PriorityLimiter.
type PriorityLimiterStats struct {
	Total   int
	InUse   int // tokens held
	Waiting int // tasks blocked in Acquire
}

// Stats returns a snapshot of the limiter.
func (l *PriorityLimiter) Stats() PriorityLimiterStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return PriorityLimiterStats{Total: l.total, InUse: len(l.holders), Waiting: l.waiting}
}

// acquireWatched is Acquire timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (l *PriorityLimiter) acquireWatched(m *Monitors, ctx context.Context, priority int) (*Permit, error) {
	return timedV(m, ctx, func() (*Permit, error) { return l.acquire(ctx, ctx, priority) })
}
