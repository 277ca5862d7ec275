package tock_test

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
)

// Stress tests: many real goroutines, random cancellations (short timeouts),
// invariants checked on every step and at the end. Sized for 2 cores under
// the race detector.

const (
	stressTasks = 32
	stressIters = 150
)

// stressCtx returns a context that, one time in three, times out after a
// random few microseconds: a cancellation racing the hand-off.
func stressCtx(ctx context.Context, rng *rand.Rand) (context.Context, context.CancelFunc) {
	if rng.IntN(3) == 0 {
		return tock.WithTimeout(ctx, time.Duration(rng.IntN(50))*time.Microsecond)
	}
	return ctx, func() {}
}

func runStress(t *testing.T, body func(ctx context.Context, rng *rand.Rand) error) {
	t.Helper()
	checkLeaks(t)
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for i := 0; i < stressTasks; i++ {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			g.Go(func(ctx context.Context) error {
				for j := 0; j < stressIters; j++ {
					if err := body(ctx, rng); err != nil {
						return err
					}
				}
				return nil
			})
		}
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStressLock(t *testing.T) {
	var l tock.Lock
	var inside, acquired, cancelled atomic.Int64
	runStress(t, func(ctx context.Context, rng *rand.Rand) error {
		cctx, cancel := stressCtx(ctx, rng)
		defer cancel()
		if err := l.Lock(cctx); err != nil {
			cancelled.Add(1)
			return nil
		}
		if inside.Add(1) != 1 {
			t.Error("two owners at once")
		}
		if rng.IntN(2) == 0 { // re-enter
			l.Lock(ctx)
			l.Unlock(ctx)
		}
		acquired.Add(1)
		inside.Add(-1)
		l.Unlock(cctx)
		return nil
	})
	if st := l.Stats(); st.Locked || st.Waiting != 0 || st.Depth != 0 {
		t.Errorf("after the run: %+v", st)
	}
	if acquired.Load()+cancelled.Load() != stressTasks*stressIters || cancelled.Load() == 0 {
		t.Errorf("acquired %d + cancelled %d", acquired.Load(), cancelled.Load())
	}
}

func TestStressSemaphore(t *testing.T) {
	const k = 3
	s := tock.NewSemaphore(k, tock.MaxValue(k))
	var inside atomic.Int64
	runStress(t, func(ctx context.Context, rng *rand.Rand) error {
		cctx, cancel := stressCtx(ctx, rng)
		defer cancel()
		if err := s.Acquire(cctx); err != nil {
			return nil
		}
		if n := inside.Add(1); n > k {
			t.Errorf("%d holders of a semaphore of %d", n, k)
		}
		time.Sleep(time.Duration(rng.IntN(3)) * time.Microsecond) //tockvet:ignore real runtime only: widens the window for a race
		inside.Add(-1)
		s.Release()
		return nil
	})
	if st := s.Stats(); st.Value != k || st.Waiting != 0 {
		t.Errorf("after the run: %+v", st)
	}
}

func TestStressCapacityLimiter(t *testing.T) {
	const k = 4
	l := tock.NewCapacityLimiter(k)
	var inside atomic.Int64
	var changes atomic.Int64
	runStress(t, func(ctx context.Context, rng *rand.Rand) error {
		if rng.IntN(20) == 0 { // resize under load: 2..k, never above k
			l.SetTotal(2 + rng.IntN(k-1))
			changes.Add(1)
		}
		cctx, cancel := stressCtx(ctx, rng)
		defer cancel()
		if err := l.Acquire(cctx); err != nil {
			return nil
		}
		if n := inside.Add(1); n > k {
			t.Errorf("%d borrowers, limit never above %d", n, k)
		}
		inside.Add(-1)
		l.Release(ctx)
		return nil
	})
	if st := l.Stats(); st.Borrowed != 0 || st.Waiting != 0 || len(st.Borrowers) != 0 {
		t.Errorf("after the run: %+v", st)
	}
	if changes.Load() == 0 {
		t.Error("the total never changed")
	}
}

func TestStressEvent(t *testing.T) {
	checkLeaks(t)
	for round := 0; round < 20; round++ {
		var e tock.Event
		var woke, cancelled atomic.Int64
		err := tock.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			for i := 0; i < 50; i++ {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(i)))
				g.Go(func(ctx context.Context) error {
					cctx, cancel := stressCtx(ctx, rng)
					defer cancel()
					if err := e.Wait(cctx); err != nil {
						cancelled.Add(1)
					} else {
						woke.Add(1)
					}
					return nil
				})
			}
			e.Set()
			return g.Wait()
		})
		if err != nil {
			t.Fatal(err)
		}
		if woke.Load()+cancelled.Load() != 50 || e.Stats().Waiting != 0 {
			t.Fatalf("woke %d cancelled %d waiting %d", woke.Load(), cancelled.Load(), e.Stats().Waiting)
		}
	}
}

// Producers hand items to consumers through a Condition; cancelled waits lose
// nothing: every item produced is consumed exactly once.
func TestStressCondition(t *testing.T) {
	checkLeaks(t)
	c := tock.NewCondition(nil)
	var queue []int
	produced, consumed := 0, 0
	const items = stressTasks * stressIters / 2
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for p := 0; p < stressTasks/2; p++ {
			g.Go(func(ctx context.Context) error {
				for j := 0; j < stressIters; j++ {
					c.Lock(ctx)
					queue = append(queue, p*stressIters+j)
					produced++
					c.Notify(ctx, 1)
					c.Unlock(ctx)
				}
				return nil
			})
		}
		for q := 0; q < stressTasks/2; q++ {
			rng := rand.New(rand.NewPCG(uint64(q), 9))
			g.Go(func(ctx context.Context) error {
				for {
					cctx, cancel := stressCtx(ctx, rng)
					c.Lock(ctx)
					err := c.WaitFor(cctx, func() bool { return len(queue) > 0 || consumed == items })
					cancel()
					if !c.Stats().Lock.Locked {
						t.Error("WaitFor returned without the lock")
					}
					if consumed == items {
						c.NotifyAll(ctx)
						c.Unlock(ctx)
						return nil
					}
					if err == nil {
						queue = queue[1:]
						consumed++
						if consumed == items {
							c.NotifyAll(ctx)
						}
					}
					c.Unlock(ctx)
				}
			})
		}
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	if produced != items || consumed != items || len(queue) != 0 || c.Stats().Waiting != 0 {
		t.Errorf("produced %d consumed %d left %d waiting %d", produced, consumed, len(queue), c.Stats().Waiting)
	}
}
