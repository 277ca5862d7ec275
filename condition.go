package tock

import (
	"context"
	"strconv"
	"sync"

	"github.com/tockgo/tock/internal"
)

// Condition is a condition variable over a Lock: tasks holding the lock wait
// for a notification, releasing the lock while they wait. Several Conditions
// may share one Lock. The owner checks look at the lock's real owner, however
// it was acquired.
type Condition struct {
	l  *Lock
	mu sync.Mutex
	q  internal.Queue[struct{}]
}

// ConditionStats is a snapshot of a Condition.
type ConditionStats struct {
	Waiting int       // tasks waiting for a notification
	Lock    LockStats // the underlying lock
}

// NewCondition returns a condition over l, or over a new Lock if l is nil.
func NewCondition(l *Lock) *Condition {
	if l == nil {
		l = new(Lock)
	}
	return &Condition{l: l}
}

// Lock acquires the underlying lock (see Lock.Lock).
func (c *Condition) Lock(ctx context.Context) error { return c.l.Lock(ctx) }

// Unlock releases the underlying lock (see Lock.Unlock).
func (c *Condition) Unlock(ctx context.Context) { c.l.Unlock(ctx) }

// Wait releases the lock (completely, whatever its depth), blocks until
// notified or ctx is done, then re-acquires the lock at the same depth before
// returning, also when ctx is done (re-acquiring ignores cancellation). It
// returns ctx's error if ctx is done before a notification reaches the caller;
// if ctx is already done when Wait is called, it returns at once without
// releasing the lock. A notification handed to the caller before it noticed
// its cancellation makes Wait return nil. Wait panics if ctx's task does not
// hold the lock.
func (c *Condition) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	id := internal.TaskID(ctx)
	rt := internal.RuntimeOf(ctx)
	w := new(internal.Waiter[struct{}])
	if !c.l.ownedBy(id) {
		panic("tock: Condition.Wait: the caller does not hold the condition's lock")
	}
	c.mu.Lock()
	c.q.Enqueue(ctx, rt, w)
	c.mu.Unlock()
	depth := c.l.releaseAll("Wait", id)
	c.mu.Lock()
	err := internal.Wait(ctx, rt, &c.mu, &c.q, w, "Condition.Wait")
	c.l.relock(ctx, depth)
	return err
}

// WaitFor waits until pred returns true, calling it with the lock held: first
// at once (returning nil without waiting, even if ctx is done, if it already
// holds), then after each notification. It returns ctx's error if ctx is done
// first; the lock is held when it returns.
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) error {
	for !pred() {
		if err := c.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Notify wakes up to n waiters, oldest first. A waiter whose context is
// already done is passed over: the notification goes to the next one. The
// woken waiters then re-acquire the lock in turn. Notify panics if ctx's task
// does not hold the lock, or if n is negative.
func (c *Condition) Notify(ctx context.Context, n int) {
	if n < 0 {
		panic("tock: Condition.Notify: negative count " + strconv.Itoa(n))
	}
	c.notify(ctx, "Notify", n)
}

// NotifyAll wakes every waiter. It panics if ctx's task does not hold the
// lock.
func (c *Condition) NotifyAll(ctx context.Context) { c.notify(ctx, "NotifyAll", -1) }

func (c *Condition) notify(ctx context.Context, op string, n int) {
	if !c.l.ownedBy(internal.TaskID(ctx)) {
		panic("tock: Condition." + op + ": the caller does not hold the condition's lock")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for ; n != 0; n-- {
		w := c.q.PopLive()
		if w == nil {
			return
		}
		w.Grant()
	}
}

// Stats returns a snapshot of the condition and its lock.
func (c *Condition) Stats() ConditionStats {
	c.mu.Lock()
	waiting := c.q.Len()
	c.mu.Unlock()
	return ConditionStats{Waiting: waiting, Lock: c.l.Stats()}
}
