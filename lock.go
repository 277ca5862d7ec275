package tock

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/tockgo/tock/internal"
)

// Lock is a mutual-exclusion lock owned by a task. It is re-entrant for its
// owner (each Lock must be matched by an Unlock), only its owner may unlock
// it, and waiters get it in FIFO order: Unlock hands the lock straight to the
// oldest waiter, so nobody barges in. The owner is the task in the ctx given
// to Lock; a ctx with no tock task (context.Background()) is an anonymous
// owner, which cannot re-enter and which any anonymous caller may unlock, as
// with sync.Mutex. The zero value is an unlocked Lock.
//
// In a simulation, taking a free lock does not yield (as in μSim).
type Lock struct {
	// state packs the owner's task ID (0: anonymous) with lockedBit and
	// waitersBit, so the uncontended Lock and Unlock are one atomic
	// operation each.
	state atomic.Uint64
	extra atomic.Int32             // re-entries beyond the first; only the owner changes it
	mons  atomic.Pointer[Monitors] // see Watch (watch.go); beside state: read on the fast paths
	mu    sync.Mutex               // guards q and the hand-off
	q     internal.Queue[struct{}]
	g     atomic.Uint64 // the goroutine that took it, in checked mode (TOCK_CHECK)
}

const (
	lockedBit  = 1
	waitersBit = 2 // tasks may be queued: Unlock takes the slow path
	ownerShift = 2
)

func ownerOf(s uint64) uint64 { return s >> ownerShift }

// LockStats is a snapshot of a Lock.
type LockStats struct {
	Locked  bool   // some task owns the lock
	Owner   uint64 // the owner's task ID (compare with TaskID); 0 if free or anonymous
	Depth   int    // how many times the owner holds it
	Waiting int    // tasks blocked in Lock
}

// Lock acquires the lock for the task in ctx, blocking while another task owns
// it. If ctx's task already owns it, the depth goes up by one and Lock returns
// at once. Lock returns ctx's error, without the lock, if ctx is done before
// the lock is handed to the caller (even if the lock is free); once handed
// over, Lock returns nil even if ctx is cancelled meanwhile. It panics if
// ctx is nil. An Unlock synchronizes before the Lock that takes the lock
// next returns.
func (l *Lock) Lock(ctx context.Context) error {
	panicIfNilCtx("Lock.Lock", ctx)
	if err := internal.Err(ctx); err != nil {
		return err
	}
	c := internal.Decode(ctx)
	id := c.ID()
	if m := l.mons.Load(); m != nil {
		// watched: no fast path, so that every change of owner is made
		// under l.mu (lockOwnedOrSlow, releaseLocked), where it is recorded
		return timed(m, ctx, func() error { return l.lockOwnedOrSlow(ctx, c, id) })
	}
	if l.state.CompareAndSwap(0, id<<ownerShift|lockedBit) {
		if internal.CheckedReal {
			l.g.Store(internal.CurGoid())
		}
		return nil
	}
	return l.lockOwnedOrSlow(ctx, c, id)
}

// lockOwnedOrSlow is Lock past its compare-and-swap: a re-entry by the
// owner, or the slow path (wait in the queue). It is one function, not two,
// so that a waiter woken with the lock returns through one frame fewer
// (see internal.Block).
func (l *Lock) lockOwnedOrSlow(ctx context.Context, c internal.Call, id uint64) error {
	if id != 0 && ownerOf(l.state.Load()) == id {
		if internal.CheckedReal {
			l.checkReentry("Lock")
		}
		l.extra.Add(1)
		return nil
	}
	l.mu.Lock()
	for {
		s := l.state.Load()
		if s == 0 {
			if l.state.CompareAndSwap(0, id<<ownerShift|lockedBit) {
				l.mons.Load().use(1)
				l.mu.Unlock()
				if internal.CheckedReal {
					l.g.Store(internal.CurGoid())
				}
				return nil
			}
			continue
		}
		// Mark the queue non-empty before joining it, so that the owner's
		// Unlock cannot free the lock without handing it over.
		if s&waitersBit != 0 || l.state.CompareAndSwap(s, s|waitersBit) {
			break
		}
	}
	if l.q.Res == nil {
		l.q.Res = (*lockHolding)(l) // for deadlock reports: held by its owner
	}
	_, err := internal.Block(ctx, c, &l.mu, &l.q, struct{}{}, "Lock.Lock")
	if err == nil && internal.CheckedReal {
		l.g.Store(internal.CurGoid())
	}
	return err
}

// checkReentry panics, in checked mode, if the calling goroutine is not the
// one that took the lock: the two share a task's ctx.
func (l *Lock) checkReentry(op string) {
	if l.g.Load() != internal.CurGoid() {
		panic("tock: Lock." + op + ": re-entered under the same task ctx by a goroutine other than the one that took the lock, so two goroutines would hold it (a raw go statement shares its task's identity); start the goroutine with Group.Go and use the ctx it passes to the function")
	}
}

// TryLock acquires the lock if it is free (or re-enters it if ctx's task owns
// it) without blocking, and reports whether it did. It ignores ctx's
// cancellation. It panics if ctx is nil. An Unlock synchronizes before the
// TryLock that takes the lock next returns.
func (l *Lock) TryLock(ctx context.Context) bool {
	panicIfNilCtx("Lock.TryLock", ctx)
	id := internal.Decode(ctx).ID()
	if l.mons.Load() != nil {
		return l.tryLockWatched(id)
	}
	if l.state.CompareAndSwap(0, id<<ownerShift|lockedBit) {
		if internal.CheckedReal {
			l.g.Store(internal.CurGoid())
		}
		return true
	}
	if id != 0 && ownerOf(l.state.Load()) == id {
		if internal.CheckedReal {
			l.checkReentry("TryLock")
		}
		l.extra.Add(1)
		return true
	}
	return false
}

// Unlock releases one level of the lock held by ctx's task. When the depth
// reaches zero, the lock goes to the oldest waiter whose context is not done,
// or becomes free. Unlock panics if ctx is nil, if the lock is not locked,
// or if ctx's task is not its owner.
func (l *Lock) Unlock(ctx context.Context) {
	panicIfNilCtx("Lock.Unlock", ctx)
	id := internal.Decode(ctx).ID()
	held := id<<ownerShift | lockedBit
	if l.extra.Load() == 0 && l.mons.Load() == nil && l.state.CompareAndSwap(held, 0) {
		return
	}
	s := l.state.Load()
	if s&lockedBit == 0 {
		panic("tock: Lock.Unlock: the lock is not locked")
	}
	if ownerOf(s) != id {
		panic("tock: Lock.Unlock: only the owner may unlock; called by " + internal.TaskLabel(ctx, id) + ", owned by " + internal.TaskLabel(ctx, ownerOf(s)))
	}
	if e := l.extra.Load(); e > 0 {
		l.extra.Store(e - 1)
		return
	}
	l.release()
}

// release frees the lock or hands it to the oldest live waiter. The caller
// owns the lock at depth one. The waiter is woken after l.mu is released
// (see internal.Waiter.Hand): a contended Lock measured faster so.
func (l *Lock) release() {
	l.mu.Lock()
	w := l.handOffLocked()
	l.mu.Unlock()
	if w != nil {
		w.Wake()
	}
}

// releaseLocked is release with l.mu held, which it does not release: the
// waiter it hands the lock to is woken under l.mu.
func (l *Lock) releaseLocked() {
	if w := l.handOffLocked(); w != nil {
		w.Wake()
	}
}

// handOffLocked, with l.mu held, hands the lock to the oldest live waiter
// and returns it, not yet woken (the caller wakes it), or frees the lock
// and returns nil.
func (l *Lock) handOffLocked() *internal.Waiter[struct{}] {
	if w := l.q.PopLive(); w != nil {
		s := w.Task.IDOrZero()<<ownerShift | lockedBit
		if l.q.Len() > 0 {
			s |= waitersBit
		}
		l.state.Store(s)
		w.Hand()
		return w
	}
	l.state.Store(0)
	l.mons.Load().use(0)
	return nil
}

// Available reports whether ctx's task could take the lock without waiting:
// it is free, or ctx's task owns it. It panics if ctx is nil.
func (l *Lock) Available(ctx context.Context) bool {
	panicIfNilCtx("Lock.Available", ctx)
	id := internal.Decode(ctx).ID()
	s := l.state.Load()
	return s == 0 || (id != 0 && s&lockedBit != 0 && ownerOf(s) == id)
}

// Locked reports whether some task owns the lock (including a waiter it was
// just handed to).
func (l *Lock) Locked() bool { return l.state.Load()&lockedBit != 0 }

// Stats returns a snapshot of the lock.
func (l *Lock) Stats() LockStats {
	l.mu.Lock()
	waiting := l.q.Len()
	l.mu.Unlock()
	s := l.state.Load()
	st := LockStats{Locked: s&lockedBit != 0, Waiting: waiting}
	if st.Locked {
		st.Owner = ownerOf(s)
		st.Depth = int(l.extra.Load()) + 1
	}
	return st
}

// releaseAllLocked releases the lock completely, with l.mu held, and
// returns its re-entry count, for Condition.Wait. The caller owns the lock.
func (l *Lock) releaseAllLocked() int32 {
	e := l.extra.Load()
	l.extra.Store(0)
	l.releaseLocked()
	return e
}

// queueNotified appends w, a waiter taken from a Condition's queue, to the
// lock's wait queue, with l.mu held, while the caller owns the lock: Unlock
// will hand the lock to w in its turn (Condition's notify). w's Ctx must be
// nil: a notified waiter no longer gives up on cancellation.
func (l *Lock) queueNotified(w *internal.Waiter[struct{}]) {
	l.q.Res = (*lockHolding)(l) // for deadlock reports: held by its owner
	l.q.Adopt(w)
	l.state.Or(waitersBit)
}

// ownedBy reports whether task id owns the lock.
func (l *Lock) ownedBy(id uint64) bool {
	s := l.state.Load()
	return s&lockedBit != 0 && ownerOf(s) == id
}
