package tock

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/tockgo/tock/internal"
)

// Tracked is a value that tasks can wait on: WaitUntil blocks until a change
// makes a condition on the value true. Set and Update never block. The zero
// value holds T's zero value and is ready to use; a Tracked must not be
// copied after first use.
//
// A waiter is woken by the very change that makes its condition true, with
// the value that change produced: a condition that holds only between two
// changes made in one step (a value set to 1 and then back to 0) still wakes
// its waiter, which returns the value 1. Waiters are woken in the order they
// started waiting.
type Tracked[T any] struct {
	mu sync.Mutex
	v  T
	q  internal.Queue[trackedWait[T]]
	// mons are the attached monitors (watch.go); onChange, if set, sees
	// every new value under mu (a watched Flag's Level).
	mons     atomic.Pointer[Monitors]
	onChange func(T)
}

type trackedWait[T any] struct {
	pred func(T) bool
	v    T
}

// NewTracked returns a Tracked holding v.
func NewTracked[T any](v T) *Tracked[T] { return &Tracked[T]{v: v} }

// Get returns the current value.
func (t *Tracked[T]) Get() T {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.v
}

// Set replaces the value with v and wakes every waiter whose condition v
// satisfies. It never blocks. The conditions run inside Set, under the
// Tracked's internal lock: they must be quick and must not call the Tracked.
// If a condition panics, the panic propagates out of Set; the value is set,
// the waiters checked before it stay woken and the rest stay waiting.
func (t *Tracked[T]) Set(v T) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.v = v
	t.notify()
}

// Update replaces the value with f(current), atomically with respect to
// other Sets and Updates, wakes the waiters as Set does, and returns the new
// value. f runs under the internal lock (it must not call the Tracked); if it
// panics, the value is unchanged.
func (t *Tracked[T]) Update(f func(T) T) T {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.v = f(t.v)
	t.notify()
	return t.v
}

func (t *Tracked[T]) notify() {
	if t.onChange != nil {
		t.onChange(t.v)
	}
	for w := t.q.Front(); w != nil; {
		next := w.Next()
		switch {
		case !w.Live():
			t.q.Remove(w) // cancelled first (it returns its error), or a Select case that lost
		case w.Val.pred(t.v):
			t.q.Remove(w)
			if w.Claim() {
				w.Val.v = t.v
				w.Grant()
			}
		}
		w = next
	}
}

// WaitUntil blocks until pred holds for the value, and returns the value
// that satisfied it. It returns ctx's error (and the current value) if ctx
// is done when it is called, even if pred holds, or if ctx is done before a
// change satisfies pred; once a change has satisfied pred, WaitUntil returns
// nil even if ctx is cancelled meanwhile. If pred already holds, WaitUntil
// is a checkpoint (in a simulation, the tasks already runnable run first) and
// returns. pred is called in WaitUntil and then in each Set or Update until it
// holds (see Set). WaitUntil panics if pred is nil.
//
// A Set or Update that wakes the waiter happens before WaitUntil returns.
// It panics if ctx is nil.
func (t *Tracked[T]) WaitUntil(ctx context.Context, pred func(T) bool) (T, error) {
	panicIfNilCtx("Tracked.WaitUntil", ctx)
	if m := t.mons.Load(); m != nil {
		return t.waitUntilWatched(m, ctx, pred)
	}
	return t.waitUntil(ctx, pred)
}

func (t *Tracked[T]) waitUntil(ctx context.Context, pred func(T) bool) (T, error) {
	if pred == nil {
		panic("tock: Tracked.WaitUntil: the condition is nil")
	}
	if err := ctx.Err(); err != nil {
		return t.Get(), err
	}
	call := internal.DecodeRT(ctx) // before the mutex: a misuse check may panic
	t.mu.Lock()
	if ok := t.check(pred); ok {
		v := t.v
		t.mu.Unlock()
		call.RT.Checkpoint()
		return v, nil
	}
	w, err := internal.Block(ctx, call, &t.mu, &t.q, trackedWait[T]{pred: pred}, "Tracked.WaitUntil")
	if err != nil {
		return t.Get(), err
	}
	return w.v, nil
}

// check runs pred on the value with t.mu held, unlocking it if pred panics.
func (t *Tracked[T]) check(pred func(T) bool) (ok bool) {
	defer func() {
		if !ok {
			if r := recover(); r != nil {
				t.mu.Unlock()
				panic(r)
			}
		}
	}()
	return pred(t.v)
}

// TrackedStats is a snapshot of a Tracked.
type TrackedStats struct {
	Waiting int // tasks blocked in WaitUntil
}

// Stats returns a snapshot of the Tracked.
func (t *Tracked[T]) Stats() TrackedStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return TrackedStats{Waiting: t.q.Len()}
}

// Flag is a boolean that tasks can wait on in either state: a Tracked[bool]
// with names for its two conditions. Unlike Event, it can be cleared and set
// again. The zero value is a cleared Flag, ready to use.
type Flag struct {
	t Tracked[bool]
}

// Set sets the flag, waking the tasks waiting in Wait. It never blocks.
func (f *Flag) Set() { f.t.Set(true) }

// Clear clears the flag, waking the tasks waiting in WaitClear. It never
// blocks.
func (f *Flag) Clear() { f.t.Set(false) }

// SetTo sets (true) or clears (false) the flag.
func (f *Flag) SetTo(on bool) { f.t.Set(on) }

// IsSet reports whether the flag is set.
func (f *Flag) IsSet() bool { return f.t.Get() }

// Wait blocks until the flag is set, with the rules of Tracked.WaitUntil:
// ctx's error if ctx is done first, nil once a Set woke it, a checkpoint if
// it is already set. It panics if ctx is nil.
func (f *Flag) Wait(ctx context.Context) error {
	panicIfNilCtx("Flag.Wait", ctx)
	_, err := f.t.WaitUntil(ctx, isTrue)
	return err
}

// WaitClear blocks until the flag is cleared, with the rules of Wait.
func (f *Flag) WaitClear(ctx context.Context) error {
	panicIfNilCtx("Flag.WaitClear", ctx)
	_, err := f.t.WaitUntil(ctx, isFalse)
	return err
}

// Stats returns a snapshot of the flag (the tasks in Wait and WaitClear).
func (f *Flag) Stats() TrackedStats { return f.t.Stats() }

func isTrue(b bool) bool  { return b }
func isFalse(b bool) bool { return !b }

// waitUntilWatched is WaitUntil timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (t *Tracked[T]) waitUntilWatched(m *Monitors, ctx context.Context, pred func(T) bool) (T, error) {
	return timedV(m, ctx, func() (T, error) { return t.waitUntil(ctx, pred) })
}
