package dist

import "context"

// LockWaiters counts the queued waiters of the lock name (for tests).
func LockWaiters(ctx context.Context, c *Client, name string) (int, error) {
	v, err := c.watch(ctx, "lock."+name+".q.*")
	if err != nil {
		return 0, err
	}
	defer v.stop()
	if err := v.next(ctx, nil, nil); err != nil {
		return 0, err
	}
	return len(v.entries), nil
}

// SetHandOverHook sets (nil: removes) a function that a Lock release calls
// with the key of the waiter it is about to hand the lock to.
func SetHandOverHook(f func(waiterKey string)) {
	if f == nil {
		testHookHandOver.Store(nil)
		return
	}
	testHookHandOver.Store(&f)
}

// SetGiveUpHook sets (nil: removes) a function that a waiting Lock calls
// when it gives up its place, before it removes its ticket.
func SetGiveUpHook(f func()) {
	if f == nil {
		testHookGiveUp.Store(nil)
		return
	}
	testHookGiveUp.Store(&f)
}

// SetTakeHook sets (nil: removes) a function that a Lock calls when it took
// the lock, after its lease started and before it records its hold.
func SetTakeHook(f func()) {
	if f == nil {
		testHookTake.Store(nil)
		return
	}
	testHookTake.Store(&f)
}

// SetTokenCreateHook sets (nil: removes) a function that sees the error of
// the write that queues a Semaphore or CapacityLimiter token (nil: it
// landed) and returns the error the acquisition goes on with.
func SetTokenCreateHook(f func(key string, err error) error) {
	if f == nil {
		testHookTokenCreate.Store(nil)
		return
	}
	testHookTokenCreate.Store(&f)
}

// SetTokenCleanupHook sets (nil: removes) a function that a Semaphore or
// CapacityLimiter acquisition calls with the token's key when, cleaning up
// after a failed queueing write, it read the key and found it its own,
// before it drops the key at the revision it read.
func SetTokenCleanupHook(f func(key string)) {
	if f == nil {
		testHookTokenCleanup.Store(nil)
		return
	}
	testHookTokenCleanup.Store(&f)
}

// SetBlockHook sets (nil: removes) a function that a wait (a Lock or
// Acquire at its watch, an Event's watch, Queue.Take,
// Subscription.Receive) calls as it is about to block, with what it waits
// on ("watch <pattern>", "Queue.Take <name>", "Subscription.Receive
// <name>").
func SetBlockHook(f func(what string)) {
	if f == nil {
		testHookBlock.Store(nil)
		return
	}
	testHookBlock.Store(&f)
}

// SetAdmittedHook sets (nil: removes) a function that a Semaphore or
// CapacityLimiter acquisition calls once its token is admitted, before it
// marks the token so.
func SetAdmittedHook(f func()) {
	if f == nil {
		testHookAdmitted.Store(nil)
		return
	}
	testHookAdmitted.Store(&f)
}

// SetHandedOverHook sets (nil: removes) a function that a Lock release
// calls with the waiter's key after its hand-over write, before it checks
// that the waiter's ticket was still queued then.
func SetHandedOverHook(f func(waiterKey string)) {
	if f == nil {
		testHookHandedOver.Store(nil)
		return
	}
	testHookHandedOver.Store(&f)
}

// SetGaveUpHook sets (nil: removes) a function that a waiting Lock that
// gave up calls once it removed its ticket, before it looks whether the
// lock was handed to it.
func SetGaveUpHook(f func()) {
	if f == nil {
		testHookGaveUp.Store(nil)
		return
	}
	testHookGaveUp.Store(&f)
}

// HubLacks reports whether c's hub of the lock name exists and its view
// no longer holds key (for tests: a deletion the releaser's check sees).
func HubLacks(c *Client, name, key string) bool {
	h := c.peekHub("lock." + name + ".>")
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.entries[key]
	return h.ready && !ok
}

// SetTicketCreateHook sets (nil: removes) a function that sees the error
// of the write that queues a Lock's ticket (nil: it landed) and returns
// the error the Lock goes on with.
func SetTicketCreateHook(f func(key string, err error) error) {
	if f == nil {
		testHookTicketCreate.Store(nil)
		return
	}
	testHookTicketCreate.Store(&f)
}
