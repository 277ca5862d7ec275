package tock

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/tockgo/tock/internal"
)

// Event is a one-shot flag that tasks can wait for. Set wakes every waiter;
// an Event cannot be cleared (make a new one). The zero value is an unset
// Event, ready to use.
type Event struct {
	mu   sync.Mutex
	set  bool
	q    internal.Queue[struct{}]
	mons atomic.Pointer[Monitors] // see Watch (watch.go)
}

// EventStats is a snapshot of an Event.
type EventStats struct {
	// Waiting is the number of tasks blocked in Wait. It drops to 0 at Set.
	Waiting int
}

// Set sets the event and wakes every task waiting for it, in the order they
// started waiting. Waiters whose context is already done are not woken: they
// return their context's error. Set never blocks and is idempotent.
func (e *Event) Set() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set {
		return
	}
	e.set = true
	e.mons.Load().level(1)
	for w := e.q.PopLive(); w != nil; w = e.q.PopLive() {
		w.Grant()
	}
}

// IsSet reports whether Set has been called.
func (e *Event) IsSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set
}

// Wait blocks until the event is set or ctx is done. It returns ctx's error
// if ctx is done when it is called, even if the event is set. If the event
// was set before ctx was cancelled, Wait returns nil. On a set event Wait is a
// checkpoint: in a simulation, the tasks already runnable run first. It
// panics if ctx is nil. Set synchronizes before the return of every Wait it
// ends.
func (e *Event) Wait(ctx context.Context) error { return e.wait(ctx, false) }

// wait is Wait, which is inlined (see Semaphore.acquire). timing:
// waitWatched's call, which the monitors time already.
func (e *Event) wait(ctx context.Context, timing bool) error {
	if !timing {
		if m := e.mons.Load(); m != nil {
			return e.waitWatched(m, ctx)
		}
	}
	panicIfNilCtx("Event.Wait", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	c := internal.DecodeRT(ctx)
	e.mu.Lock()
	if e.set {
		e.mu.Unlock()
		c.RT.Checkpoint()
		return nil
	}
	_, err := internal.Block(ctx, c, &e.mu, &e.q, struct{}{}, "Event.Wait")
	return err
}

// Stats returns a snapshot of the event.
func (e *Event) Stats() EventStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return EventStats{Waiting: e.q.Len()}
}

// waitWatched is Wait timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (e *Event) waitWatched(m *Monitors, ctx context.Context) error {
	return timed(m, ctx, func() error { return e.wait(ctx, true) })
}
