package tock

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

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
	mu    sync.Mutex
	total int
	// held is every borrower holding a token, in no order (seq is the
	// order they got it in). Up to scanMax it is searched by a scan, which
	// allocates nothing; beyond, index maps each borrower to its place.
	held  []heldToken
	index map[any]int
	seq   uint64
	// waiting is the borrowers other than tasks blocked in Acquire, so
	// that a second wait for one is refused without a scan of the queue.
	// A task borrower counts its waits itself (Task.LimiterWaits): the
	// queue is scanned only while the task waits somewhere.
	waiting map[any]waitToken
	waits   uint64
	q       internal.Queue[any]
	mons    atomic.Pointer[Monitors] // see Watch (watch.go)
}

// scanMax is the number of holders searched by a scan rather than a map.
const scanMax = 8

type heldToken struct {
	b   any
	seq uint64
}

// waitToken is one blocked Acquire: id tells it from a later wait for the
// same borrower, ctx whether it still waits.
type waitToken struct {
	ctx context.Context
	id  uint64
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
	return &CapacityLimiter{total: total}
}

func checkTotal(op string, n int) {
	if n < 0 {
		panic("tock: " + op + ": the total " + strconv.Itoa(n) + " is negative")
	}
}

func defaultBorrower(op string, c internal.Call) any {
	if c.Task == nil {
		panic("tock: CapacityLimiter." + op + ": ctx carries no tock task to borrow for; use the For variant with a borrower of your own, or run the caller under tock.Run or a Group")
	}
	return c.Task
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
	if b != b {
		panic("tock: CapacityLimiter." + op + ": borrower " + fmt.Sprint(b) + " of type " + reflect.TypeOf(b).String() + " is not equal to itself (a NaN in it): it could never be found again to release its token")
	}
}

// Acquire borrows a token for the task in ctx (see AcquireFor). It panics if
// ctx carries no tock task.
func (l *CapacityLimiter) Acquire(ctx context.Context) error {
	panicIfNilCtx("CapacityLimiter.Acquire", ctx)
	c := internal.Decode(ctx)
	b := defaultBorrower("Acquire", c)
	if err := internal.Err(ctx); err != nil {
		return err
	}
	m := l.mons.Load()
	if m == nil {
		// The common case, flattened: an unwatched limiter with a token
		// free, nobody waiting (so neither does this task), and few
		// enough holders to be found by a scan (Release's fast path is
		// its mirror). Otherwise the long path, with l.mu still held.
		l.mu.Lock()
		if l.mons.Load() == nil {
			if len(l.held) < l.total && l.q.Len() == 0 &&
				(len(l.held) == 0 || l.findTask(c.Task) < 0) &&
				l.index == nil && len(l.held) < scanMax {
				l.seq++
				l.held = append(l.held, heldToken{b: b, seq: l.seq})
				l.mu.Unlock()
				c.RT.Checkpoint()
				return nil
			}
			return l.acquireLocked(ctx, c, "Acquire", b)
		}
		l.mu.Unlock() // watched meanwhile: the Wait tally may apply
		m = l.mons.Load()
	}
	if m == nil || m.Wait == nil {
		return l.acquireUntimed(ctx, c, "Acquire", b)
	}
	return l.acquireFor(ctx, c, "Acquire", b)
}

// AcquireFor borrows a token for borrower, blocking while none is free or
// others wait. It returns ctx's error, borrowing nothing, if ctx is done
// before a token is handed over (even if one is free); once handed over, it
// returns nil even if ctx is cancelled meanwhile. It panics if ctx is nil,
// if borrower is nil or not comparable (a []int, or a struct or array
// holding one) or not equal to itself (a NaN, or a value holding one), or
// if borrower already holds or awaits a token. A Release, ReleaseFor or
// SetTotal that frees a token synchronizes before the Acquire or AcquireFor
// that takes a token next returns.
func (l *CapacityLimiter) AcquireFor(ctx context.Context, borrower any) error {
	panicIfNilCtx("CapacityLimiter.AcquireFor", ctx)
	checkBorrower("AcquireFor", borrower)
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.acquireFor(ctx, internal.Decode(ctx), "AcquireFor", borrower)
}

func (l *CapacityLimiter) acquireFor(ctx context.Context, c internal.Call, op string, borrower any) error {
	if m := l.mons.Load(); m != nil && m.Wait != nil {
		return timed(m, ctx, func() error { return l.acquireUntimed(ctx, c, op, borrower) })
	}
	return l.acquireUntimed(ctx, c, op, borrower)
}

// acquireUntimed is acquireFor without the Wait tally.
func (l *CapacityLimiter) acquireUntimed(ctx context.Context, c internal.Call, op string, borrower any) error {
	l.mu.Lock()
	return l.acquireLocked(ctx, c, op, borrower)
}

// acquireLocked is acquireUntimed with l.mu held; it returns with l.mu
// released.
func (l *CapacityLimiter) acquireLocked(ctx context.Context, c internal.Call, op string, borrower any) error {
	if len(l.held) != 0 || !l.notWaiting(borrower) {
		l.checkNotHolding(op, borrower)
	}
	if len(l.held) < l.total && (l.q.Len() == 0 || l.q.FrontLive() == nil) {
		l.add(borrower)
		l.mu.Unlock()
		c.RT.Checkpoint()
		return nil
	}
	return l.acquireSlow(ctx, c, borrower)
}

// notWaiting reports, without a look-up, that borrower awaits no token: a
// task that waits on no limiter, or any borrower while none but tasks
// wait. l.mu is held.
func (l *CapacityLimiter) notWaiting(borrower any) bool {
	if t, ok := borrower.(*internal.Task); ok {
		return t.LimiterWaits.Load() == 0
	}
	return len(l.waiting) == 0
}

// acquireSlow waits for a token, with l.mu held; it returns with l.mu
// released. The borrower is recorded as waiting until it is granted or
// gives up (also when the wait panics).
func (l *CapacityLimiter) acquireSlow(ctx context.Context, c internal.Call, borrower any) error {
	l.q.Res = (*limiterHolding)(l) // for deadlock reports: held by its borrowers
	if t, ok := borrower.(*internal.Task); ok {
		t.LimiterWaits.Add(1)
		defer t.LimiterWaits.Add(-1) // out of the queue by then
		_, err := internal.Block(ctx, c, &l.mu, &l.q, borrower, "CapacityLimiter.Acquire")
		return err
	}
	if l.waiting == nil {
		l.waiting = map[any]waitToken{}
	}
	l.waits++
	id := l.waits
	l.waiting[borrower] = waitToken{ctx: ctx, id: id}
	granted := false
	defer func() {
		if !granted {
			l.mu.Lock()
			if w, ok := l.waiting[borrower]; ok && w.id == id {
				delete(l.waiting, borrower)
			}
			l.mu.Unlock()
		}
	}()
	_, err := internal.Block(ctx, c, &l.mu, &l.q, borrower, "CapacityLimiter.Acquire")
	granted = err == nil
	return err
}

// TryAcquire borrows a token for the task in ctx if one is free and nobody
// waits, and reports whether it did (see TryAcquireFor). It panics if ctx
// is nil or carries no tock task.
func (l *CapacityLimiter) TryAcquire(ctx context.Context) bool {
	panicIfNilCtx("CapacityLimiter.TryAcquire", ctx)
	return l.tryAcquireFor("TryAcquire", defaultBorrower("TryAcquire", internal.Decode(ctx)))
}

// TryAcquireFor borrows a token for borrower if one is free and nobody waits,
// and reports whether it did. It panics on a borrower AcquireFor refuses,
// and if it already holds or awaits a token. A Release, ReleaseFor or
// SetTotal that frees a token synchronizes before the TryAcquire or
// TryAcquireFor that takes a token next returns.
func (l *CapacityLimiter) TryAcquireFor(borrower any) bool {
	checkBorrower("TryAcquireFor", borrower)
	return l.tryAcquireFor("TryAcquireFor", borrower)
}

func (l *CapacityLimiter) tryAcquireFor(op string, borrower any) bool {
	l.mu.Lock()
	l.checkNotHolding(op, borrower)
	ok := len(l.held) < l.total && l.q.FrontLive() == nil
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
	t := defaultBorrower("Release", internal.Decode(ctx)).(*internal.Task)
	l.mu.Lock()
	i := l.findTask(t)
	if last := len(l.held) - 1; i == last && i >= 0 && l.index == nil && l.q.Len() == 0 && l.mons.Load() == nil {
		// Acquire's fast path mirrored: the newest holder, no index, no
		// waiter to grant, no monitor.
		l.held[i].b = nil
		l.held = l.held[:i]
		l.mu.Unlock()
		return
	}
	l.release("Release", i)
}

// ReleaseFor returns borrower's token; it goes to the oldest waiter if the
// limiter has spare capacity. It panics if borrower holds no token, and on
// a borrower AcquireFor refuses. It synchronizes before the call that takes
// a token next returns (see AcquireFor).
func (l *CapacityLimiter) ReleaseFor(borrower any) {
	checkBorrower("ReleaseFor", borrower)
	l.releaseFor("ReleaseFor", borrower)
}

func (l *CapacityLimiter) releaseFor(op string, borrower any) {
	l.mu.Lock()
	l.release(op, l.find(borrower))
}

// release gives back the token of held[i] and unlocks l.mu, which the
// caller holds; i < 0 (the borrower holds no token) panics, naming op,
// once l.mu is released.
func (l *CapacityLimiter) release(op string, i int) {
	if i < 0 {
		l.mu.Unlock()
		panic("tock: CapacityLimiter." + op + ": this borrower holds none of the limiter's tokens")
	}
	l.remove(i)
	var w *internal.Waiter[any]
	if l.q.Len() > 0 {
		w = l.grantOne()
	}
	l.mu.Unlock()
	if w != nil {
		w.Wake() // after l.mu: measured faster (see internal.Waiter.Hand)
	}
}

// SetTotal changes the total. Raising it hands the spare capacity to waiters
// at once, oldest first, and never grants more than the total; lowering it
// evicts nobody (Available may go negative until tokens come back). It panics
// if n is negative. A raise synchronizes before the return of every call
// that takes the capacity it adds.
func (l *CapacityLimiter) SetTotal(n int) {
	checkTotal("CapacityLimiter.SetTotal", n)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total = n
	l.grant()
}

// grant hands tokens to waiters while there is spare capacity.
func (l *CapacityLimiter) grant() {
	for len(l.held) < l.total && l.q.Len() > 0 {
		w := l.grantOne()
		if w == nil {
			return
		}
		w.Wake()
	}
}

// grantOne hands a token to the oldest live waiter if there is spare
// capacity, and returns it, not yet woken (the caller wakes it, see
// internal.Waiter.Hand); or nil.
func (l *CapacityLimiter) grantOne() *internal.Waiter[any] {
	if len(l.held) >= l.total {
		return nil
	}
	w := l.q.PopLive()
	if w == nil {
		return nil
	}
	if _, ok := w.Val.(*internal.Task); !ok {
		// its entry: a later wait for it would have been refused
		delete(l.waiting, w.Val)
	}
	l.add(w.Val)
	w.Hand()
	return w
}

// find returns b's place in held, or -1.
func (l *CapacityLimiter) find(b any) int {
	if t, ok := b.(*internal.Task); ok {
		return l.findTask(t)
	}
	if l.index != nil {
		if i, ok := l.index[b]; ok {
			return i
		}
		return -1
	}
	for i := range l.held {
		if l.held[i].b == b {
			return i
		}
	}
	return -1
}

// findTask is find for a task, the default borrower: compared as a
// pointer, without the interface comparison's call.
func (l *CapacityLimiter) findTask(t *internal.Task) int {
	if l.index != nil {
		if i, ok := l.index[t]; ok {
			return i
		}
		return -1
	}
	for i := range l.held {
		if h, ok := l.held[i].b.(*internal.Task); ok && h == t {
			return i
		}
	}
	return -1
}

func (l *CapacityLimiter) add(b any) {
	l.seq++
	l.held = append(l.held, heldToken{b: b, seq: l.seq})
	if m := l.mons.Load(); m != nil {
		m.use(len(l.held))
	}
	switch {
	case l.index != nil:
		l.index[b] = len(l.held) - 1
	case len(l.held) > scanMax:
		l.index = make(map[any]int, 2*len(l.held))
		for i, h := range l.held {
			l.index[h.b] = i
		}
	}
}

// remove drops held[i], moving the last holder into its place.
func (l *CapacityLimiter) remove(i int) {
	h := l.held
	last := len(h) - 1
	b := h[i].b
	if i != last {
		h[i] = h[last]
	}
	h[last].b = nil // no longer kept alive by the array
	l.held = h[:last]
	if m := l.mons.Load(); m != nil {
		m.use(last)
	}
	if l.index != nil {
		delete(l.index, b)
		if i != last {
			l.index[l.held[i].b] = i
		}
	}
}

// holders is every borrower holding a token, in the order they got it.
func (l *CapacityLimiter) holders() []any {
	h := slices.Clone(l.held)
	slices.SortFunc(h, func(a, b heldToken) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]any, len(h))
	for i := range h {
		out[i] = h[i].b
	}
	return out
}

// checkNotHolding panics (after unlocking l.mu, which the caller holds) if b
// holds or awaits a token.
func (l *CapacityLimiter) checkNotHolding(op string, b any) {
	if l.find(b) >= 0 {
		l.mu.Unlock()
		panic("tock: CapacityLimiter." + op + ": this borrower already holds one of the limiter's tokens")
	}
	var waits bool
	if t, ok := b.(*internal.Task); ok {
		waits = t.LimiterWaits.Load() != 0 && l.queued(b)
	} else if len(l.waiting) > 0 {
		w, ok := l.waiting[b]
		waits = ok && internal.CtxLive(w.ctx)
	}
	if waits {
		l.mu.Unlock()
		panic("tock: CapacityLimiter." + op + ": this borrower is already waiting for a token")
	}
}

// queued reports whether b has a waiter in l's queue that can still be
// served; l.mu is held.
func (l *CapacityLimiter) queued(b any) bool {
	for w := l.q.Front(); w != nil; w = w.Next() {
		if w.Val == b && w.Live() {
			return true
		}
	}
	return false
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
	return len(l.held)
}

// Available is Total minus Borrowed; negative after lowering the total below
// what is borrowed.
func (l *CapacityLimiter) Available() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total - len(l.held)
}

// Stats returns a snapshot of the limiter.
func (l *CapacityLimiter) Stats() CapacityLimiterStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := CapacityLimiterStats{Borrowed: len(l.held), Total: l.total, Waiting: l.q.Len()}
	for _, b := range l.holders() {
		s.Borrowers = append(s.Borrowers, borrowerName(b))
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
