package internal

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Claim is the one decision of a Select: which of its cases, each a waiter
// in some primitive's queue, is served. A granter claims a waiter's Select
// (PopLive does it) before it hands the waiter anything, and passes the
// waiter over if another case already won; the Select claims itself when a
// case can complete at once, or when its wait is cancelled (so a grant and
// a cancellation cannot both happen: the wake-up wins, nothing is lost).
// A Claim's mutex is a leaf lock: it is taken under primitives' locks, two
// at a time only by ClaimPair, in the order of their ids.
type Claim struct {
	mu     sync.Mutex
	winner int // 0: open; i+1: case i won; -1: nobody (cancelled)
	id     uint64
}

var claimIDs atomic.Uint64

// NewClaim returns an open claim.
func NewClaim() *Claim {
	c := new(Claim)
	c.Init()
	return c
}

// Init readies a zero Claim (one inside its Select's own state, which
// then needs no allocation of its own) as an open claim.
func (c *Claim) Init() { c.id = claimIDs.Add(1) }

// TryClaim decides the claim for case idx if it is still open.
func (c *Claim) TryClaim(idx int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.winner != 0 {
		return false
	}
	c.winner = idx + 1
	return true
}

// Cancel decides the claim for nobody if it is still open.
func (c *Claim) Cancel() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.winner != 0 {
		return false
	}
	c.winner = -1
	return true
}

// Decided reports whether the claim is decided.
func (c *Claim) Decided() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.winner != 0
}

// Winner is the case that won, or -1 (open or cancelled).
func (c *Claim) Winner() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.winner > 0 {
		return c.winner - 1
	}
	return -1
}

// ClaimPair decides a for case ai and b for case bi together, or neither:
// a rendezvous between two Selects (a Send case meeting a Receive case). b
// may be nil (the partner is a plain waiter). It reports whether a was
// open, and whether b was (true if nil); both are decided only if both were.
// a and b must differ.
func ClaimPair(a *Claim, ai int, b *Claim, bi int) (aOpen, bOpen bool) {
	if b == nil {
		return a.TryClaim(ai), true
	}
	first, second := a, b
	if b.id < a.id {
		first, second = b, a
	}
	first.mu.Lock()
	second.mu.Lock()
	aOpen, bOpen = a.winner == 0, b.winner == 0
	if aOpen && bOpen {
		a.winner, b.winner = ai+1, bi+1
	}
	second.mu.Unlock()
	first.mu.Unlock()
	return aOpen, bOpen
}

// Claim claims w's Select for w's case, if w is a case of one; it reports
// false if another case of that Select already won (pass w over).
func (w *Waiter[T]) Claim() bool { return w.Sel == nil || w.Sel.TryClaim(w.SelIdx) }

// Live reports whether w can still be served: its context is not done and,
// if it is a case of a Select, no case has won yet.
func (w *Waiter[T]) Live() bool {
	return CtxLive(w.Ctx) && (w.Sel == nil || !w.Sel.Decided())
}

// PrepareShared readies p, the one parker of a Select, for ctx's runtime;
// the Select copies it into each of its waiters (ShareParker), so that the
// one grant its claim allows wakes it through p.
// CheckSelect has refused the caller already, so Prepare does not.
func PrepareShared(rt Runtime, p *Parker) { rt.Prepare(p, "Select") }

// ShareParker makes w wake through p (see PrepareShared).
func (w *Waiter[T]) ShareParker(p *Parker) { w.Parker = *p }

// CheckSelect panics if a Select may not block with rt here (a task-less
// ctx inside a simulated task); call it before any case is armed.
func CheckSelect(rt Runtime) {
	if rt == Real && realBlockMisuse() {
		panic(realBlockMessage("Select"))
	}
}

// ParkSelect parks a Select on its shared parker p until a grant wakes it
// (nil) or ctx is done (ctx's error). It may return a refusal (the caller
// may not park, or the simulation abandons it): see Refused and Raise.
func ParkSelect(ctx context.Context, rt Runtime, p *Parker) error {
	return rt.Park(ctx, p, "Select")
}

// ParkSelectUntil is ParkSelect that also ends once rt's clock reaches d
// (see Runtime.ParkUntil and ParkTimedOut).
func ParkSelectUntil(ctx context.Context, rt Runtime, p *Parker, d time.Time) error {
	return rt.ParkUntil(ctx, p, "Select", d)
}

// errParkTimedOut is ParkUntil's error once its deadline passed.
var errParkTimedOut = errors.New("tock: the park's deadline passed")

// ParkTimedOut reports whether err is ParkUntil's for a deadline that
// passed.
func ParkTimedOut(err error) bool { return err == errParkTimedOut }

// Refused reports whether err is a park's refusal, or a panic it recovered
// from a method of its ctx (see Raise).
func Refused(err error) bool {
	switch err.(type) {
	case *refusal, *ctxPanic:
		return true
	}
	return false
}

// Raise panics with a park's refusal err once the Select holds no queued
// waiter and no lock, unless a grant won first and the refusal only
// unwinds an abandoned task (the grant wins; the next blocking call
// unwinds it).
//
// A *ctxPanic (a method of the Select's ctx panicked in its park) is
// raised unless a grant won first (the grant wins, as over a cancellation).
func Raise(err error, granted bool) {
	if p, ok := err.(*ctxPanic); ok && !granted {
		panic(p.v)
	}
	if r, ok := err.(*refusal); ok && !(granted && r == errAbort) {
		r.raise()
	}
}

// RaiseCtxPanic panics with the value a park recovered from a method of
// its ctx if err is such a park's error (see Runtime.Park), and does
// nothing otherwise.
func RaiseCtxPanic(err error) {
	if p, ok := err.(*ctxPanic); ok {
		panic(p.v)
	}
}

// Drain consumes the signal of a grant that won a Select's claim while its
// wait was being cancelled (the wake-up wins).
func (p *Parker) Drain() { p.drain() }
