package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tockgo/tock"
	"golang.org/x/sync/semaphore"
)

// chanLock is the channel-based lock Go programs write by hand.
type chanLock chan struct{}

func (c chanLock) Lock()   { c <- struct{}{} }
func (c chanLock) Unlock() { <-c }

// share is goroutine i's part of total iterations split among n (the
// first takes the remainder).
func share(total, n, i int) int {
	k := total / n
	if i == 0 {
		k += total % n
	}
	return k
}

// spread runs body(i, k) on n goroutines, goroutine i doing its share k of
// b.N iterations, and waits for them all.
func spread(b *testing.B, n int, body func(i, k int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		k := share(b.N, n, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(i, k)
		}()
	}
	wg.Wait()
}

// parallel runs fn on n goroutines, b.N iterations in all.
func parallel(b *testing.B, n int, fn func()) {
	spread(b, n, func(_, k int) {
		for j := 0; j < k; j++ {
			fn()
		}
	})
}

// floorCtx is a derived ctx of the same depth as tock-derived's (three
// values and a cancel above the key), for the floor rows.
func floorCtx() (context.Context, context.CancelFunc) {
	return derive(context.WithValue(context.Background(), floorKey, 1))
}

func BenchmarkLockUncontended(b *testing.B) {
	ctxKinds(b, func(b *testing.B, ctx context.Context) {
		var l tock.Lock
		for b.Loop() {
			l.Lock(ctx)
			l.Unlock(ctx)
		}
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		b.ReportAllocs()
		for b.Loop() {
			m.Lock()
			m.Unlock()
		}
	})
	b.Run("chan", func(b *testing.B) {
		c := make(chanLock, 1)
		b.ReportAllocs()
		for b.Loop() {
			c.Lock()
			c.Unlock()
		}
	})
	b.Run("chanlock-ctx", func(b *testing.B) {
		ctx := context.Background()
		c := make(ctxChanLock, 1)
		b.ReportAllocs()
		for b.Loop() {
			c.Lock(ctx)
			c.Unlock()
		}
	})
	// the least a lock owned by the task in a derived ctx pays (see
	// mutexValueFloor)
	b.Run("floor-derived", func(b *testing.B) {
		ctx, cancel := floorCtx()
		defer cancel()
		var m sync.Mutex
		b.ReportAllocs()
		for b.Loop() {
			mutexValueFloor(&m, ctx)
		}
	})
}

func benchLockContended(b *testing.B, n int) {
	var l tock.Lock
	ctxKindsParallel(b, n, func(ctx context.Context) { l.Lock(ctx); l.Unlock(ctx) })
	b.Run("sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		b.ReportAllocs()
		parallel(b, n, func() { m.Lock(); m.Unlock() })
	})
	b.Run("chanlock-ctx", func(b *testing.B) {
		ctx := context.Background()
		c := make(ctxChanLock, 1)
		b.ReportAllocs()
		parallel(b, n, func() { c.Lock(ctx); c.Unlock() })
	})
	// the floor of the architecture tock's Lock is built on (see
	// parkLock): a mutex around the state, a FIFO queue, a one-slot
	// channel to park on, nothing else
	b.Run("mutex+parker", func(b *testing.B) {
		var l parkLock
		b.ReportAllocs()
		parallelState(b, n, newParked, func(w *parked) { l.lock(w); l.unlock() })
	})
	// the same on tock's own parker (see newSignalParked)
	b.Run("mutex+signal", func(b *testing.B) {
		var l parkLock
		b.ReportAllocs()
		parallelState(b, n, newSignalParked, func(w *parked) { l.lock(w); l.unlock() })
	})
}

// parkLock is the floor of a FIFO lock on the architecture DESIGN.md
// prescribes for the real runtime, with nothing else: a short mutex around
// the state, a FIFO queue of waiters, each parked on a one-slot channel,
// and Unlock handing the lock straight to the oldest waiter. It has no ctx
// (nothing to cancel, so a park is a plain receive), no owner, no
// re-entry, no statistics; what tock's Lock costs above it is that
// bookkeeping, what the floor costs above a channel lock is the
// architecture (two locks per hand-off, the mutex and the parker's
// channel, where a channel lock takes one).
type parkLock struct {
	mu         sync.Mutex
	locked     bool
	head, tail *parked // the FIFO queue of waiters, linked by next
}

func (l *parkLock) lock(w *parked) {
	l.mu.Lock()
	if !l.locked {
		l.locked = true
		l.mu.Unlock()
		return
	}
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
	l.mu.Unlock()
	w.wait() // the lock was handed over
}

func (l *parkLock) unlock() {
	l.mu.Lock()
	w := l.head
	if w == nil {
		l.locked = false
		l.mu.Unlock()
		return
	}
	if l.head = w.next; l.head == nil {
		l.tail = nil
	}
	w.next = nil
	w.wake() // under the mutex, as tock's Unlock
	l.mu.Unlock()
}

// parallelState is parallel with a state of its own (made by mk, before
// the goroutines start) for each goroutine, passed to fn.
func parallelState[S any](b *testing.B, n int, mk func() S, fn func(S)) {
	st := make([]S, n)
	for i := range st {
		st[i] = mk()
	}
	spread(b, n, func(i, k int) {
		for j := 0; j < k; j++ {
			fn(st[i])
		}
	})
}

func BenchmarkLockContended2(b *testing.B)  { benchLockContended(b, 2) }
func BenchmarkLockContended8(b *testing.B)  { benchLockContended(b, 8) }
func BenchmarkLockContended64(b *testing.B) { benchLockContended(b, 64) }

func BenchmarkSemaphoreUncontended(b *testing.B) {
	ctxKinds(b, func(b *testing.B, ctx context.Context) {
		s := tock.NewSemaphore(1)
		for b.Loop() {
			s.Acquire(ctx)
			s.Release()
		}
	})
	b.Run("semaphore.Weighted", func(b *testing.B) {
		ctx := context.Background()
		s := semaphore.NewWeighted(1)
		b.ReportAllocs()
		for b.Loop() {
			s.Acquire(ctx, 1)
			s.Release(1)
		}
	})
}

func BenchmarkSemaphore8on2(b *testing.B) {
	s := tock.NewSemaphore(2)
	ctxKindsParallel(b, 8, func(ctx context.Context) { s.Acquire(ctx); s.Release() })
	b.Run("semaphore.Weighted", func(b *testing.B) {
		ctx := context.Background()
		s := semaphore.NewWeighted(2)
		b.ReportAllocs()
		parallel(b, 8, func() { s.Acquire(ctx, 1); s.Release(1) })
	})
}

// BenchmarkCapacityLimiterUncontended: Acquire and Release of the token of
// the task in ctx (tock-bg: AcquireFor and ReleaseFor with an int borrower,
// since a Background ctx carries no task).
func BenchmarkCapacityLimiterUncontended(b *testing.B) {
	b.Run("tock-bg", func(b *testing.B) {
		ctx := context.Background()
		l := tock.NewCapacityLimiter(4)
		b.ReportAllocs()
		for b.Loop() {
			l.AcquireFor(ctx, 1)
			l.ReleaseFor(1)
		}
	})
	limiter := func(b *testing.B, ctx context.Context) {
		l := tock.NewCapacityLimiter(4)
		for b.Loop() {
			l.Acquire(ctx)
			l.Release(ctx)
		}
	}
	b.Run("tock-task", func(b *testing.B) {
		b.ReportAllocs()
		tock.Run(context.Background(), func(ctx context.Context) error { limiter(b, ctx); return nil })
	})
	b.Run("tock-derived", func(b *testing.B) {
		b.ReportAllocs()
		tock.Run(context.Background(), func(ctx context.Context) error {
			d, cancel := derive(ctx)
			defer cancel()
			limiter(b, d)
			return nil
		})
	})
	b.Run("semaphore.Weighted", func(b *testing.B) {
		ctx := context.Background()
		s := semaphore.NewWeighted(4)
		b.ReportAllocs()
		for b.Loop() {
			s.Acquire(ctx, 1)
			s.Release(1)
		}
	})
}

// BenchmarkCapacityLimiter64on4: 64 tasks share a limiter of 4 tokens;
// per op, one Acquire and Release. tock-bg borrows for 64 int borrowers.
func BenchmarkCapacityLimiter64on4(b *testing.B) {
	const n = 64
	b.Run("tock-bg", func(b *testing.B) {
		ctx := context.Background()
		l := tock.NewCapacityLimiter(4)
		b.ReportAllocs()
		parallelIdx(b, n, func(i int) { l.AcquireFor(ctx, i); l.ReleaseFor(i) })
	})
	l := tock.NewCapacityLimiter(4)
	ctxKindsParallelNoBg(b, n, func(ctx context.Context) { l.Acquire(ctx); l.Release(ctx) })
	b.Run("semaphore.Weighted", func(b *testing.B) {
		ctx := context.Background()
		s := semaphore.NewWeighted(4)
		b.ReportAllocs()
		parallel(b, n, func() { s.Acquire(ctx, 1); s.Release(1) })
	})
	// Weighted called as tock-task is, from 64 tasks with their own ctx:
	// its Acquire then selects on the group's Done, which all share
	b.Run("Weighted-task", func(b *testing.B) {
		s := semaphore.NewWeighted(4)
		runTasks(b, n, noWrap, func(ctx context.Context) { s.Acquire(ctx, 1); s.Release(1) })
	})
}

// parallelIdx is parallel with the goroutine's index passed to fn.
func parallelIdx(b *testing.B, n int, fn func(i int)) {
	spread(b, n, func(i, k int) {
		for j := 0; j < k; j++ {
			fn(i)
		}
	})
}

// EventWait: Wait on an Event that is set (the uncontended path). The peer
// is a receive from a closed channel with a select on ctx.Done.
func BenchmarkEventWaitSet(b *testing.B) {
	ctxKinds(b, func(b *testing.B, ctx context.Context) {
		var e tock.Event
		e.Set()
		for b.Loop() {
			e.Wait(ctx)
		}
	})
	// The floor of a one-call op that decodes its ctx: its Err, one
	// look-up of a key and a mutex around a flag. floor-task finds the key
	// in the ctx itself (as a task's ctx answers Decode), floor-derived
	// under three values and a cancel (as tock-derived's).
	floor := func(b *testing.B, ctx context.Context) {
		var m sync.Mutex
		set := true
		b.ReportAllocs()
		for b.Loop() {
			eventFloor(&m, &set, ctx)
		}
	}
	b.Run("floor-task", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		floor(b, context.WithValue(ctx, floorKey, 1))
	})
	b.Run("floor-derived", func(b *testing.B) {
		ctx, cancel := floorCtx()
		defer cancel()
		floor(b, ctx)
	})
	b.Run("chan-ctx", func(b *testing.B) {
		ctx := context.Background()
		ch := make(chan struct{})
		close(ch)
		b.ReportAllocs()
		for b.Loop() {
			select {
			case <-ch:
			case <-ctx.Done():
			}
		}
	})
}

// eventFloor is Event.Wait on a set event with nothing but what any
// ctx-decoding call pays (see BenchmarkEventWaitSet).
//
//go:noinline
func eventFloor(m *sync.Mutex, set *bool, ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	_ = ctx.Value(floorKey)
	m.Lock()
	ok := *set
	m.Unlock()
	return ok
}

// BenchmarkEventFanout1000: per op, 1,000 goroutines park on an Event (or a
// channel) and one Set (close) releases them all.
func BenchmarkEventFanout1000(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	b.Run("tock", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e tock.Event
			var wg sync.WaitGroup
			wg.Add(n)
			for i := 0; i < n; i++ {
				go func() { e.Wait(ctx); wg.Done() }()
			}
			for e.Stats().Waiting < n {
				runtimeGosched()
			}
			e.Set()
			wg.Wait()
		}
	})
	b.Run("close(chan)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ch := make(chan struct{})
			var wg sync.WaitGroup
			var parked atomic.Int64
			wg.Add(n)
			for i := 0; i < n; i++ {
				go func() { parked.Add(1); <-ch; wg.Done() }()
			}
			for parked.Load() < n {
				runtimeGosched()
			}
			close(ch)
			wg.Wait()
		}
	})
}
