package tock

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tockgo/tock/internal"
)

// Semaphore is a counting semaphore with FIFO hand-off: Release gives the unit
// straight to the oldest waiter, so a newcomer never takes it first. Any task
// may release; nobody owns a unit. The zero value has value 0 and no maximum.
//
// In a simulation, an uncontended Acquire is a checkpoint (the tasks already
// runnable run first), as in AnyIO, unless the semaphore was made with
// FastAcquire.
type Semaphore struct {
	mu     sync.Mutex
	value  int
	max    int
	hasMax bool
	fast   bool
	q      internal.Queue[struct{}]
	mons   atomic.Pointer[Monitors] // see Watch (watch.go)
}

// SemaphoreOption configures NewSemaphore.
type SemaphoreOption func(*Semaphore)

// MaxValue makes Release panic when it would raise the value above n. It
// panics if n is negative.
func MaxValue(n int) SemaphoreOption {
	if n < 0 {
		panic("tock: MaxValue: the maximum value " + strconv.Itoa(n) + " is negative")
	}
	return func(s *Semaphore) { s.max, s.hasMax = n, true }
}

// FastAcquire makes an uncontended Acquire return without a checkpoint. In a
// simulation, a task that acquires and releases in a loop without blocking
// then keeps the others from running at that instant.
func FastAcquire() SemaphoreOption { return func(s *Semaphore) { s.fast = true } }

// SemaphoreStats is a snapshot of a Semaphore.
type SemaphoreStats struct {
	Value    int  // units available
	MaxValue int  // the maximum, if HasMax
	HasMax   bool // MaxValue was given
	Waiting  int  // tasks blocked in Acquire
}

// NewSemaphore returns a semaphore holding initial units. It panics if
// initial is negative or above the MaxValue option, or if an option is nil.
func NewSemaphore(initial int, opts ...SemaphoreOption) *Semaphore {
	s := &Semaphore{value: initial}
	for i, o := range opts {
		if o == nil {
			panic("tock: NewSemaphore: option " + strconv.Itoa(i) + " is nil")
		}
		o(s)
	}
	if initial < 0 {
		panic("tock: NewSemaphore: the initial value " + strconv.Itoa(initial) + " is negative")
	}
	if s.hasMax && s.max < initial {
		panic("tock: NewSemaphore: the maximum value " + strconv.Itoa(s.max) + " is below the initial value " + strconv.Itoa(initial))
	}
	return s
}

// Acquire takes one unit, blocking while none is available or other tasks
// wait. It returns ctx's error, taking nothing, if ctx is done before a unit is
// handed to the caller (even if one is available); once handed over, Acquire
// returns nil even if ctx is cancelled meanwhile. It panics if ctx is nil.
// A Release synchronizes before the Acquire that gets its unit returns.
func (s *Semaphore) Acquire(ctx context.Context) error { return s.acquire(ctx, false) }

// acquire is Acquire, which is inlined: one frame fewer on every call, and
// above a park (see SendStream.send). timing: acquireWatched's call, which
// the monitors time already.
func (s *Semaphore) acquire(ctx context.Context, timing bool) error {
	if !timing {
		if m := s.mons.Load(); m != nil {
			return s.acquireWatched(m, ctx)
		}
	}
	panicIfNilCtx("Semaphore.Acquire", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	c := internal.DecodeRT(ctx)
	s.mu.Lock()
	if s.value > 0 {
		s.value--
		s.mons.Load().level(float64(s.value))
		s.mu.Unlock()
		if !s.fast {
			c.RT.Checkpoint()
		}
		return nil
	}
	_, err := internal.Block(ctx, c, &s.mu, &s.q, struct{}{}, "Semaphore.Acquire")
	return err
}

// TryAcquire takes one unit if one is available and nobody waits, and reports
// whether it did. It never blocks. A Release synchronizes before the
// TryAcquire that gets its unit returns.
func (s *Semaphore) TryAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.value > 0 {
		s.value--
		s.mons.Load().level(float64(s.value))
		return true
	}
	return false
}

// Release returns one unit: to the oldest waiter whose context is not done,
// or to the semaphore. It never blocks. It panics if the semaphore has a
// maximum and the value would exceed it.
func (s *Semaphore) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.q.PopLive(); w != nil {
		w.Grant()
		return
	}
	if s.hasMax && s.value >= s.max {
		panic("tock: Semaphore.Release: released too many times (the maximum value is " + strconv.Itoa(s.max) + ")")
	}
	s.value++
	s.mons.Load().level(float64(s.value))
}

// Value is the number of units available.
func (s *Semaphore) Value() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value
}

// Stats returns a snapshot of the semaphore.
func (s *Semaphore) Stats() SemaphoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SemaphoreStats{Value: s.value, MaxValue: s.max, HasMax: s.hasMax, Waiting: s.q.Len()}
}

// acquireWatched is Acquire timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (s *Semaphore) acquireWatched(m *Monitors, ctx context.Context) error {
	return timed(m, ctx, func() error { return s.acquire(ctx, true) })
}
