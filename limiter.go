package tock

import (
	"container/list"
	"context"
	"reflect"
	"strconv"
	"sync"

	"github.com/tockgo/tock/internal"
)

// CapacityLimiter limits how many borrowers hold one of its tokens at once.
// Each borrower holds at most one token; the default borrower is the task in
// ctx, and AcquireFor/ReleaseFor take any comparable value instead. Waiters
// are served FIFO: a released token (or new capacity from SetTotal) goes
// straight to the oldest waiter. Make one with NewCapacityLimiter.
//
// In a simulation, an uncontended Acquire is a checkpoint, as in AnyIO.
type CapacityLimiter struct {
	mu        sync.Mutex
	total     int
	borrowers map[any]*list.Element
	order     list.List // borrowers, in the order they got their token
	q         internal.Queue[any]
}

// CapacityLimiterStats is a snapshot of a CapacityLimiter.
type CapacityLimiterStats struct {
	Borrowed  int   // tokens held
	Total     int   // the total (Unlimited for no limit)
	Borrowers []any // who holds a token, in the order they got it
	Waiting   int   // borrowers blocked in Acquire
}

// NewCapacityLimiter returns a limiter with total tokens (Unlimited for no
// limit; 0 lets nobody in until SetTotal). It panics if total is negative.
func NewCapacityLimiter(total int) *CapacityLimiter {
	checkTotal("NewCapacityLimiter", total)
	return &CapacityLimiter{total: total, borrowers: map[any]*list.Element{}}
}

func checkTotal(op string, n int) {
	if n < 0 {
		panic("tock: " + op + ": the total " + strconv.Itoa(n) + " is negative")
	}
}

func defaultBorrower(op string, ctx context.Context) any {
	t := internal.TaskOf(ctx)
	if t == nil {
		panic("tock: CapacityLimiter." + op + ": ctx carries no tock task to borrow for; use the For variant with a borrower of your own, or run the caller under tock.Run or a Group")
	}
	return t
}

// checkBorrower panics, before any lock is taken, if b cannot be a
// borrower: nil, or not comparable (a map key would panic on it). A task,
// the default borrower, and strings and ints skip the reflection.
func checkBorrower(op string, b any) {
	switch b.(type) {
	case *internal.Task, string, int, uint64:
		return
	case nil:
		panic("tock: CapacityLimiter." + op + ": nil borrower; a borrower is a comparable value that identifies who holds the token")
	}
	if !reflect.ValueOf(b).Comparable() {
		panic("tock: CapacityLimiter." + op + ": borrower of type " + reflect.TypeOf(b).String() + " is not comparable; a borrower must be usable as a map key (==)")
	}
}

// Acquire borrows a token for the task in ctx (see AcquireFor). It panics if
// ctx carries no tock task.
func (l *CapacityLimiter) Acquire(ctx context.Context) error {
	panicIfNilCtx("CapacityLimiter.Acquire", ctx)
	return l.acquireFor(ctx, "Acquire", defaultBorrower("Acquire", ctx))
}

// AcquireFor borrows a token for borrower, blocking while none is free or
// others wait. It returns ctx's error, borrowing nothing, if ctx is done
// before a token is handed over (even if one is free); once handed over, it
// returns nil even if ctx is cancelled meanwhile. It panics if ctx is nil,
// if borrower is nil or not comparable (a []int, or a struct or array
// holding one), or if borrower already holds or awaits a token.
func (l *CapacityLimiter) AcquireFor(ctx context.Context, borrower any) error {
	panicIfNilCtx("CapacityLimiter.AcquireFor", ctx)
	checkBorrower("AcquireFor", borrower)
	return l.acquireFor(ctx, "AcquireFor", borrower)
}

func (l *CapacityLimiter) acquireFor(ctx context.Context, op string, borrower any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	l.checkNotHolding(op, borrower)
	if l.q.FrontLive() == nil && len(l.borrowers) < l.total {
		l.add(borrower)
		l.mu.Unlock()
		internal.Checkpoint(ctx)
		return nil
	}
	l.q.Res = (*limiterHolding)(l) // for deadlock reports: held by its borrowers
	_, err := internal.Block(ctx, &l.mu, &l.q, borrower, "CapacityLimiter.Acquire")
	return err
}

// TryAcquire borrows a token for the task in ctx if one is free and nobody
// waits, and reports whether it did. It panics if ctx is nil or carries no
// tock task.
func (l *CapacityLimiter) TryAcquire(ctx context.Context) bool {
	panicIfNilCtx("CapacityLimiter.TryAcquire", ctx)
	return l.tryAcquireFor("TryAcquire", defaultBorrower("TryAcquire", ctx))
}

// TryAcquireFor borrows a token for borrower if one is free and nobody waits,
// and reports whether it did. It panics if borrower is nil or not comparable,
// or if it already holds or awaits a token.
func (l *CapacityLimiter) TryAcquireFor(borrower any) bool {
	checkBorrower("TryAcquireFor", borrower)
	return l.tryAcquireFor("TryAcquireFor", borrower)
}

func (l *CapacityLimiter) tryAcquireFor(op string, borrower any) bool {
	l.mu.Lock()
	l.checkNotHolding(op, borrower)
	ok := l.q.FrontLive() == nil && len(l.borrowers) < l.total
	if ok {
		l.add(borrower)
	}
	l.mu.Unlock()
	return ok
}

// Release returns the token of the task in ctx (see ReleaseFor). It panics
// if ctx is nil or carries no tock task.
func (l *CapacityLimiter) Release(ctx context.Context) {
	panicIfNilCtx("CapacityLimiter.Release", ctx)
	l.releaseFor("Release", defaultBorrower("Release", ctx))
}

// ReleaseFor returns borrower's token; it goes to the oldest waiter if the
// limiter has spare capacity. It panics if borrower holds no token, or is
// nil or not comparable.
func (l *CapacityLimiter) ReleaseFor(borrower any) {
	checkBorrower("ReleaseFor", borrower)
	l.releaseFor("ReleaseFor", borrower)
}

func (l *CapacityLimiter) releaseFor(op string, borrower any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.borrowers[borrower]
	if !ok {
		panic("tock: CapacityLimiter." + op + ": this borrower holds none of the limiter's tokens")
	}
	delete(l.borrowers, borrower)
	l.order.Remove(e)
	l.grant()
}

// SetTotal changes the total. Raising it hands the spare capacity to waiters
// at once, oldest first, and never grants more than the total; lowering it
// evicts nobody (Available may go negative until tokens come back). It panics
// if n is negative.
func (l *CapacityLimiter) SetTotal(n int) {
	checkTotal("CapacityLimiter.SetTotal", n)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total = n
	l.grant()
}

// grant hands tokens to waiters while there is spare capacity.
func (l *CapacityLimiter) grant() {
	for len(l.borrowers) < l.total {
		w := l.q.PopLive()
		if w == nil {
			return
		}
		l.add(w.Val)
		w.Grant()
	}
}

func (l *CapacityLimiter) add(b any) {
	if l.borrowers == nil {
		l.borrowers = map[any]*list.Element{}
	}
	l.borrowers[b] = l.order.PushBack(b)
}

// checkNotHolding panics (after unlocking l.mu, which the caller holds) if b
// holds or awaits a token.
func (l *CapacityLimiter) checkNotHolding(op string, b any) {
	if _, ok := l.borrowers[b]; ok {
		l.mu.Unlock()
		panic("tock: CapacityLimiter." + op + ": this borrower already holds one of the limiter's tokens")
	}
	for w := l.q.Front(); w != nil; w = w.Next() {
		if w.Val == b && w.Ctx.Err() == nil {
			l.mu.Unlock()
			panic("tock: CapacityLimiter." + op + ": this borrower is already waiting for a token")
		}
	}
}

// Total is the current total.
func (l *CapacityLimiter) Total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Borrowed is the number of tokens held.
func (l *CapacityLimiter) Borrowed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.borrowers)
}

// Available is Total minus Borrowed; negative after lowering the total below
// what is borrowed.
func (l *CapacityLimiter) Available() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total - len(l.borrowers)
}

// Stats returns a snapshot of the limiter.
func (l *CapacityLimiter) Stats() CapacityLimiterStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := CapacityLimiterStats{Borrowed: len(l.borrowers), Total: l.total, Waiting: l.q.Len()}
	for e := l.order.Front(); e != nil; e = e.Next() {
		s.Borrowers = append(s.Borrowers, borrowerName(e.Value))
	}
	return s
}

// borrowerName shows a task borrower by its name.
func borrowerName(b any) any {
	if t, ok := b.(*internal.Task); ok {
		return t.Name()
	}
	return b
}
