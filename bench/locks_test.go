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

// parallel runs fn on n goroutines, b.N iterations in all.
func parallel(b *testing.B, n int, fn func()) {
	var wg sync.WaitGroup
	per := b.N / n
	for i := 0; i < n; i++ {
		k := per
		if i == 0 {
			k += b.N % n
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < k; j++ {
				fn()
			}
		}()
	}
	wg.Wait()
}

func BenchmarkLockUncontended(b *testing.B) {
	ctx := context.Background()
	b.Run("tock", func(b *testing.B) {
		var l tock.Lock
		b.ReportAllocs()
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
}

func BenchmarkLockContended2(b *testing.B) {
	ctx := context.Background()
	b.Run("tock", func(b *testing.B) {
		var l tock.Lock
		b.ReportAllocs()
		parallel(b, 2, func() { l.Lock(ctx); l.Unlock(ctx) })
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		b.ReportAllocs()
		parallel(b, 2, func() { m.Lock(); m.Unlock() })
	})
	b.Run("chan", func(b *testing.B) {
		c := make(chanLock, 1)
		b.ReportAllocs()
		parallel(b, 2, func() { c.Lock(); c.Unlock() })
	})
}

func BenchmarkSemaphoreUncontended(b *testing.B) {
	ctx := context.Background()
	b.Run("tock", func(b *testing.B) {
		s := tock.NewSemaphore(1)
		b.ReportAllocs()
		for b.Loop() {
			s.Acquire(ctx)
			s.Release()
		}
	})
	b.Run("semaphore.Weighted", func(b *testing.B) {
		s := semaphore.NewWeighted(1)
		b.ReportAllocs()
		for b.Loop() {
			s.Acquire(ctx, 1)
			s.Release(1)
		}
	})
}

func BenchmarkSemaphore8on2(b *testing.B) {
	ctx := context.Background()
	b.Run("tock", func(b *testing.B) {
		s := tock.NewSemaphore(2)
		b.ReportAllocs()
		parallel(b, 8, func() { s.Acquire(ctx); s.Release() })
	})
	b.Run("semaphore.Weighted", func(b *testing.B) {
		s := semaphore.NewWeighted(2)
		b.ReportAllocs()
		parallel(b, 8, func() { s.Acquire(ctx, 1); s.Release(1) })
	})
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
