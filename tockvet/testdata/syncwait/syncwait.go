package syncwait

import (
	"context"
	"sync"

	"github.com/tockgo/tock"
)

type state struct {
	mu sync.Mutex
	sync.RWMutex
	n int
}

func task(g *tock.Group, s *state, wg *sync.WaitGroup, cond *sync.Cond, l sync.Locker) {
	g.Go(func(ctx context.Context) error {
		s.mu.Lock() // want `sync.Mutex.Lock in tock task code: the mutex may be held across a tock wait.*tock.Lock`
		tock.Sleep(ctx, 1)
		s.mu.Unlock()

		s.mu.Lock() // want `sync.Mutex.Lock`
		return nil
	})
	g.Go(func(ctx context.Context) error {
		s.RLock() // want `sync.RWMutex.RLock`
		defer s.RUnlock()
		s.Lock() // want `sync.RWMutex.Lock`
		_ = tock.Yield(ctx)
		s.Unlock()
		wg.Wait()   // want `sync.WaitGroup.Wait in tock task code: it blocks outside tock.*Group.Wait`
		cond.Wait() // want `sync.Cond.Wait in tock task code: it blocks outside tock.*tock.Condition`
		l.Lock()    // want `sync.Locker.Lock`
		_ = tock.Yield(ctx)
		l.Unlock()
		return nil
	})
}

// A critical section that unlocks in the same block, with no call taking a
// context between, is never held across a tock wait: not reported.
func short(g *tock.Group, s *state) {
	g.Go(func(ctx context.Context) error {
		s.mu.Lock()
		s.n++
		s.mu.Unlock()
		if err := tock.Sleep(ctx, 1); err != nil {
			return err
		}
		s.RLock()
		n := s.n
		s.RUnlock()
		_ = n
		return nil
	})
	g.Go(func(ctx context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.n++
		return nil
	})
	// The unlock is deferred in a nested block: the mutex is held until the
	// function returns, across the sleep.
	g.Go(func(ctx context.Context) error {
		if s.n > 0 {
			s.mu.Lock() // want `sync.Mutex.Lock`
			defer s.mu.Unlock()
		}
		return tock.Sleep(ctx, 1)
	})
}

// Not task code.
func notTask(s *state, wg *sync.WaitGroup) {
	s.mu.Lock()
	wg.Wait()
	s.mu.Unlock()
}

// stamp reads the clock through tock: it never waits.
func stamp(ctx context.Context) int64 { return tock.Now(ctx).UnixNano() } // want stamp:"tockCtxFunc$"

// pause may wait.
func pause(ctx context.Context) { _ = tock.Sleep(ctx, 1) } // want pause:"tockCtxFunc parks"

type stepper interface{ Step(ctx context.Context) }

// A section is short unless a call in it may park the task: a tock call that
// can wait, a function that may make one, or a call through an interface or
// a func value that takes the context (it could be anything).
func sections(g *tock.Group, s *state, st stepper, step func(context.Context)) {
	g.Go(func(ctx context.Context) error {
		s.mu.Lock()
		s.n = int(stamp(ctx))
		_ = tock.TaskName(ctx)
		s.mu.Unlock()

		s.mu.Lock() // want `sync.Mutex.Lock`
		pause(ctx)
		s.mu.Unlock()

		s.mu.Lock() // want `sync.Mutex.Lock`
		st.Step(ctx)
		s.mu.Unlock()

		s.mu.Lock() // want `sync.Mutex.Lock`
		step(ctx)
		s.mu.Unlock()

		s.mu.Lock()
		go pause(ctx) // want `go statement`
		s.mu.Unlock()
		return nil
	})
}
