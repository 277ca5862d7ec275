package tock

import (
	"context"
	"sync"

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
	mu     sync.Mutex
	locked bool
	owner  *internal.Task
	depth  int
	q      internal.Queue[struct{}]
}

// LockStats is a snapshot of a Lock.
type LockStats struct {
	Locked  bool   // someone owns the lock
	Owner   string // the owning task's name; "" if free or anonymous
	Depth   int    // how many times the owner holds it
	Waiting int    // tasks blocked in Lock
}

// Lock acquires the lock for the task in ctx, blocking while another task owns
// it. If ctx's task already owns it, the depth goes up by one and Lock returns
// at once. Lock returns ctx's error, without the lock, if ctx is done before
// the lock is handed to the caller (even if the lock is free); once handed
// over, Lock returns nil even if ctx is cancelled meanwhile.
func (l *Lock) Lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := internal.TaskOf(ctx)
	l.mu.Lock()
	if !l.locked {
		l.locked, l.owner, l.depth = true, t, 1
		l.mu.Unlock()
		return nil
	}
	if t != nil && l.owner == t {
		l.depth++
		l.mu.Unlock()
		return nil
	}
	rt := internal.RuntimeOf(ctx)
	w := new(internal.Waiter[struct{}])
	l.q.Enqueue(ctx, rt, w)
	return internal.Wait(ctx, rt, &l.mu, &l.q, w, "Lock.Lock")
}

// TryLock acquires the lock if it is free (or re-enters it if ctx's task owns
// it) without blocking, and reports whether it did. It ignores ctx's
// cancellation.
func (l *Lock) TryLock(ctx context.Context) bool {
	t := internal.TaskOf(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !l.locked:
		l.locked, l.owner, l.depth = true, t, 1
		return true
	case t != nil && l.owner == t:
		l.depth++
		return true
	}
	return false
}

// Unlock releases one level of the lock held by ctx's task. When the depth
// reaches zero, the lock goes to the oldest waiter whose context is not done,
// or becomes free. Unlock panics if the lock is not locked or if ctx's task
// is not its owner.
func (l *Lock) Unlock(ctx context.Context) {
	t := internal.TaskOf(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.checkOwner("Unlock", t)
	l.depth--
	if l.depth == 0 {
		l.handOff()
	}
}

func (l *Lock) checkOwner(op string, t *internal.Task) {
	if !l.locked {
		panic("tock: Lock." + op + ": the lock is not locked")
	}
	if l.owner != t {
		panic("tock: Lock." + op + ": only the owner may unlock; called by " + t.String() + ", owned by " + l.owner.String())
	}
}

// handOff gives the free lock to the oldest live waiter. Call with l.mu held.
func (l *Lock) handOff() {
	if w := l.q.PopLive(); w != nil {
		l.owner, l.depth = w.Task, 1
		w.Grant()
		return
	}
	l.locked, l.owner = false, nil
}

// Available reports whether ctx's task could take the lock without waiting:
// it is free, or ctx's task owns it.
func (l *Lock) Available(ctx context.Context) bool {
	t := internal.TaskOf(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.locked || (t != nil && l.owner == t)
}

// Locked reports whether some task owns the lock (including a waiter it was
// just handed to).
func (l *Lock) Locked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked
}

// Stats returns a snapshot of the lock.
func (l *Lock) Stats() LockStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := LockStats{Locked: l.locked, Depth: l.depth, Waiting: l.q.Len()}
	if l.owner != nil {
		s.Owner = l.owner.Name
	}
	return s
}

// releaseAll releases the lock completely for ctx's task and returns the
// depth it had, for Condition.Wait. It panics if ctx's task is not the owner.
func (l *Lock) releaseAll(op string, t *internal.Task) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.locked || l.owner != t {
		panic("tock: Condition." + op + ": the caller does not hold the condition's lock")
	}
	d := l.depth
	l.depth = 0
	l.handOff()
	return d
}

// relock takes the lock back at depth d, ignoring cancellation.
func (l *Lock) relock(ctx context.Context, d int) {
	l.Lock(context.WithoutCancel(ctx))
	l.mu.Lock()
	l.depth = d
	l.mu.Unlock()
}

// ownedBy reports whether t owns the lock.
func (l *Lock) ownedBy(t *internal.Task) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked && l.owner == t
}
