package tock

import (
	"context"
	"strconv"
	"sync/atomic"

	"github.com/tockgo/tock/internal"
)

// Condition is a condition variable over a Lock: tasks holding the lock wait
// for a notification, releasing the lock while they wait. Several Conditions
// may share one Lock. The owner checks look at the lock's real owner, however
// it was acquired. The zero value is a Condition over a Lock of its own,
// ready to use.
//
// Notified waiters re-acquire the lock in the order they started waiting, on
// both runtimes: a notification moves the waiter into the lock's FIFO queue
// at once (the notifier holds the lock), so each Unlock hands the lock to the
// next notified waiter in turn, after any task already queued for the lock.
type Condition struct {
	lp atomic.Pointer[Lock] // nil until first use, for the zero value
	q  internal.Queue[struct{}]
	// q is guarded by the lock's own internal mutex: a notification moves
	// waiters from q to the lock's queue in one step.
	mons atomic.Pointer[Monitors] // see Watch (watch.go)
}

// ConditionStats is a snapshot of a Condition.
type ConditionStats struct {
	Waiting int       // tasks waiting for a notification (notified ones no longer count)
	Lock    LockStats // the underlying lock (its Waiting includes notified tasks not yet holding it)
}

// NewCondition returns a condition over l, or over a new Lock if l is nil.
func NewCondition(l *Lock) *Condition {
	c := &Condition{}
	if l != nil {
		c.lp.Store(l)
	}
	return c
}

// lock is the underlying lock, made at first use for a zero Condition.
func (c *Condition) lock() *Lock {
	if l := c.lp.Load(); l != nil {
		return l
	}
	c.lp.CompareAndSwap(nil, new(Lock))
	return c.lp.Load()
}

// Lock acquires the underlying lock (see Lock.Lock).
func (c *Condition) Lock(ctx context.Context) error {
	panicIfNilCtx("Condition.Lock", ctx)
	return c.lock().Lock(ctx)
}

// Unlock releases the underlying lock (see Lock.Unlock).
func (c *Condition) Unlock(ctx context.Context) {
	panicIfNilCtx("Condition.Unlock", ctx)
	c.lock().Unlock(ctx)
}

// Wait releases the lock (completely, whatever its depth), blocks until
// notified or ctx is done, then re-acquires the lock at the same depth before
// returning, also when ctx is done (re-acquiring ignores cancellation). It
// returns ctx's error if ctx is done before a notification reaches the caller;
// if ctx is already done when Wait is called, it returns at once without
// releasing the lock. A notification handed to the caller before it noticed
// its cancellation makes Wait return nil. Notified waiters get the lock back
// in the order they called Wait. Wait panics if ctx is nil or if ctx's task
// does not hold the lock. A Notify synchronizes before the return of the
// Wait it wakes.
func (c *Condition) Wait(ctx context.Context) error {
	if m := c.mons.Load(); m != nil {
		return c.waitWatched(m, ctx)
	}
	return c.wait(ctx)
}

func (c *Condition) wait(ctx context.Context) error {
	panicIfNilCtx("Condition.Wait", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	l := c.lock()
	call := internal.Decode(ctx)
	if !l.ownedBy(call.ID()) {
		panic("tock: Condition.Wait: the caller does not hold the condition's lock")
	}
	rt := call.RT
	w := new(internal.Waiter[struct{}])
	w.Ctx, w.Task = ctx, call.Task
	if err := rt.Prepare(&w.Parker, "Condition.Wait"); err != nil {
		internal.Unwound(err) // refused: raised before any mutex is taken
	}
	l.mu.Lock()
	c.q.Adopt(w)
	depth := l.releaseAllLocked()
	l.mu.Unlock()
	ok := false
	defer func() {
		if !ok {
			c.abandon(l, w) // the task is being unwound while it waits
		}
	}()
	err := rt.Park(ctx, &w.Parker, "Condition.Wait")
	// a method of ctx panicked in the park: raised, and the deferred
	// abandon takes w out of its queue (or passes on the lock it was
	// handed)
	internal.RaiseCtxPanic(err)
	if err != nil {
		l.mu.Lock()
		switch {
		case w.Granted:
			// notified, and then handed the lock: the wake-up wins
			l.mu.Unlock()
			err = nil
		case w.Ctx == nil:
			// notified (moved to the lock's queue, uncancellable), not yet
			// handed the lock: the notification wins; wait for the lock
			l.mu.Unlock()
			err = nil
			rt.Park(context.WithoutCancel(ctx), &w.Parker, "Condition.Wait")
			l.mu.Lock()
			granted := w.Granted
			if !granted {
				// Only a grant ends an uncancellable park: this one was
				// refused (a task being unwound, or no task of ctx's
				// simulation). Leave the queue, then let the lock's own
				// wait refuse the caller again, with no mutex held.
				l.q.Remove(w)
			}
			l.mu.Unlock()
			if !granted {
				l.Lock(context.WithoutCancel(ctx))
			}
		default:
			// cancelled before any notification reached it: it takes none
			c.q.Remove(w)
			l.mu.Unlock()
			l.Lock(context.WithoutCancel(ctx))
		}
	}
	l.extra.Store(depth)
	ok = true
	return err
}

// abandon takes w out of whichever queue holds it, for a Wait that unwinds
// by panic; a lock it was handed goes on to the next waiter.
func (c *Condition) abandon(l *Lock, w *internal.Waiter[struct{}]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case w.Granted:
		if l.ownedBy(w.Task.IDOrZero()) {
			l.extra.Store(0)
			l.releaseLocked()
		}
	case w.Ctx == nil:
		l.q.Remove(w)
	default:
		c.q.Remove(w)
	}
}

// WaitFor waits until pred returns true, calling it with the lock held: first
// at once (returning nil without waiting, even if ctx is done, if it already
// holds), then after each notification. It returns ctx's error if ctx is done
// first; the lock is held when it returns, and when a panic in pred unwinds
// it. It panics if ctx or pred is nil, or if ctx's task does not hold the
// lock.
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) error {
	panicIfNilCtx("Condition.WaitFor", ctx)
	if pred == nil {
		panic("tock: Condition.WaitFor: nil predicate")
	}
	if !c.lock().ownedBy(internal.Decode(ctx).ID()) {
		panic("tock: Condition.WaitFor: the caller does not hold the condition's lock")
	}
	for !pred() {
		if err := c.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Notify wakes up to n waiters, oldest first. A waiter whose context is
// already done is passed over: the notification goes to the next one. The
// woken waiters then re-acquire the lock in turn, oldest first, as the lock
// is released. Notify panics if ctx is nil, if ctx's task does not hold the
// lock, or if n is negative.
func (c *Condition) Notify(ctx context.Context, n int) {
	panicIfNilCtx("Condition.Notify", ctx)
	if n < 0 {
		panic("tock: Condition.Notify: negative count " + strconv.Itoa(n))
	}
	c.notify(ctx, "Notify", n)
}

// NotifyAll wakes every waiter; they re-acquire the lock in the order they
// started waiting. It panics if ctx is nil or if ctx's task does not hold
// the lock.
func (c *Condition) NotifyAll(ctx context.Context) {
	panicIfNilCtx("Condition.NotifyAll", ctx)
	c.notify(ctx, "NotifyAll", -1)
}

// notify moves up to n live waiters (n < 0: all), oldest first, into the
// lock's queue ("wait morphing"): the caller owns the lock, so each will be
// handed it by an Unlock, in order. From then on a waiter's cancellation no
// longer matters (its Ctx is cleared): the notification is its.
func (c *Condition) notify(ctx context.Context, op string, n int) {
	l := c.lock()
	if !l.ownedBy(internal.Decode(ctx).ID()) {
		panic("tock: Condition." + op + ": the caller does not hold the condition's lock")
	}
	l.mu.Lock()
	for ; n != 0; n-- {
		w := c.q.PopLive()
		if w == nil {
			break
		}
		w.Ctx = nil
		l.queueNotified(w)
	}
	l.mu.Unlock()
}

// Stats returns a snapshot of the condition and its lock.
func (c *Condition) Stats() ConditionStats {
	l := c.lock()
	l.mu.Lock()
	waiting := c.q.Len()
	l.mu.Unlock()
	return ConditionStats{Waiting: waiting, Lock: l.Stats()}
}

// waitWatched is Wait timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (c *Condition) waitWatched(m *Monitors, ctx context.Context) error {
	return timed(m, ctx, func() error { return c.wait(ctx) })
}
