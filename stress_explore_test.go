package tock_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// The primitives' stress invariants under schedule exploration: each model
// runs under many schedules (Random and PCT), with virtual timeouts racing
// the hand-offs, and returns an error the moment an invariant breaks, so
// Explore would report, shrink and replay the schedule that broke it. Sized
// for 2 cores under the race detector.

const (
	exploreTasks     = 5
	exploreIters     = 6
	exploreSchedules = 300
)

// exploreStress explores model under Random and under PCT(3).
func exploreStress(t *testing.T, model func(ctx context.Context) error) {
	t.Helper()
	checkLeaks(t)
	for _, o := range []sim.Option{sim.Random(), sim.PCT(3)} {
		if err := sim.Explore(context.Background(), model, o, sim.Schedules(exploreSchedules)); err != nil {
			t.Fatal(err)
		}
	}
}

// shortCtx returns ctx, or one time in two a context that times out within
// 0-3 ms of virtual time: a cancellation racing the hand-off.
func shortCtx(ctx context.Context, rng *rand.Rand) (context.Context, context.CancelFunc) {
	if rng.IntN(2) == 0 {
		return tock.WithTimeout(ctx, time.Duration(rng.IntN(4))*time.Millisecond)
	}
	return ctx, func() {}
}

// pause gives way, or sleeps 0-1 ms of virtual time.
func pause(ctx context.Context, rng *rand.Rand) {
	if rng.IntN(2) == 0 {
		tock.Yield(ctx)
	} else {
		tock.Sleep(ctx, time.Duration(rng.IntN(2))*time.Millisecond)
	}
}

// tasks runs n tasks of body, each with its own generator.
func tasks(ctx context.Context, n int, body func(ctx context.Context, i int, rng *rand.Rand) error) error {
	g := tock.NewGroup(ctx)
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 11))
		g.Go(func(ctx context.Context) error { return body(ctx, i, rng) })
	}
	return g.Wait()
}

func TestExploreStressLock(t *testing.T) {
	exploreStress(t, func(ctx context.Context) error {
		var l tock.Lock
		inside, acquired, cancelled := 0, 0, 0
		err := tasks(ctx, exploreTasks, func(ctx context.Context, _ int, rng *rand.Rand) error {
			for range exploreIters {
				cctx, cancel := shortCtx(ctx, rng)
				err := l.Lock(cctx)
				cancel()
				if err != nil {
					cancelled++
					continue
				}
				if inside++; inside != 1 {
					return fmt.Errorf("mutual exclusion: %d owners of a Lock", inside)
				}
				if rng.IntN(2) == 0 { // re-enter
					if err := l.Lock(ctx); err != nil {
						return err
					}
					l.Unlock(ctx)
				}
				pause(ctx, rng)
				acquired++
				inside--
				l.Unlock(ctx)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if st := l.Stats(); st.Locked || st.Waiting != 0 || acquired+cancelled != exploreTasks*exploreIters {
			return fmt.Errorf("after the run: %+v, acquired %d, cancelled %d", st, acquired, cancelled)
		}
		return nil
	})
}

func TestExploreStressSemaphore(t *testing.T) {
	const k = 2
	exploreStress(t, func(ctx context.Context) error {
		s := tock.NewSemaphore(k, tock.MaxValue(k))
		inside := 0
		err := tasks(ctx, exploreTasks, func(ctx context.Context, _ int, rng *rand.Rand) error {
			for range exploreIters {
				cctx, cancel := shortCtx(ctx, rng)
				err := s.Acquire(cctx)
				cancel()
				if err != nil {
					continue
				}
				if inside++; inside > k {
					return fmt.Errorf("tokens <= total: %d holders of a Semaphore of %d", inside, k)
				}
				pause(ctx, rng)
				inside--
				s.Release()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if st := s.Stats(); st.Value != k || st.Waiting != 0 {
			return fmt.Errorf("after the run: %+v", st)
		}
		return nil
	})
}

func TestExploreStressCapacityLimiter(t *testing.T) {
	const k = 3
	exploreStress(t, func(ctx context.Context) error {
		l := tock.NewCapacityLimiter(k)
		inside := 0
		err := tasks(ctx, exploreTasks, func(ctx context.Context, _ int, rng *rand.Rand) error {
			for range exploreIters {
				if rng.IntN(4) == 0 {
					l.SetTotal(1 + rng.IntN(k))
				}
				cctx, cancel := shortCtx(ctx, rng)
				err := l.Acquire(cctx)
				cancel()
				if err != nil {
					continue
				}
				if inside++; inside > k || l.Borrowed() > k {
					return fmt.Errorf("tokens <= total: %d borrowers, the total is never above %d", inside, k)
				}
				pause(ctx, rng)
				inside--
				l.Release(ctx)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if st := l.Stats(); st.Borrowed != 0 || st.Waiting != 0 {
			return fmt.Errorf("after the run: %+v", st)
		}
		return nil
	})
}

// Every item put on a Queue is got exactly once, whatever the schedule and
// however many Gets time out.
func TestExploreStressQueue(t *testing.T) {
	exploreStress(t, func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		var got []int
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			err := tasks(ctx, 2, func(ctx context.Context, p int, rng *rand.Rand) error {
				for j := range exploreIters {
					if err := q.Put(ctx, p*100+j); err != nil {
						return err
					}
					pause(ctx, rng)
				}
				return nil
			})
			q.Close()
			return err
		})
		g.Go(func(ctx context.Context) error {
			return tasks(ctx, 3, func(ctx context.Context, _ int, rng *rand.Rand) error {
				for {
					cctx, cancel := shortCtx(ctx, rng)
					v, err := q.Get(cctx)
					cancel()
					switch {
					case errors.Is(err, tock.ErrStreamClosed):
						return nil
					case err == nil:
						got = append(got, v)
					}
				}
			})
		})
		if err := g.Wait(); err != nil {
			return err
		}
		return exactlyOnce(got, 2)
	})
}

// exactlyOnce checks that got holds producer p's items p*100+j, j <
// exploreIters, for every p < producers, each exactly once.
func exactlyOnce(got []int, producers int) error {
	var want []int
	for p := range producers {
		for j := range exploreIters {
			want = append(want, p*100+j)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("no item lost or duplicated: got %v, want %v", got, want)
	}
	return nil
}

// A stream with a one-item buffer: a Send that times out withdraws its item,
// one that succeeds delivers it to exactly one receiver.
func TestExploreStressStream(t *testing.T) {
	exploreStress(t, func(ctx context.Context) error {
		send, recv := tock.NewStream[int](1)
		var sent, got []int
		g := tock.NewGroup(ctx)
		sends := []*tock.SendStream[int]{send, send.Clone()}
		for p, s := range sends {
			rng := rand.New(rand.NewPCG(uint64(p), 12))
			g.Go(func(ctx context.Context) error {
				defer s.Close()
				for j := range exploreIters {
					cctx, cancel := shortCtx(ctx, rng)
					err := s.Send(cctx, p*100+j)
					cancel()
					if err == nil {
						sent = append(sent, p*100+j)
					} else if !errors.Is(err, context.DeadlineExceeded) {
						return err
					}
				}
				return nil
			})
		}
		recvs := []*tock.ReceiveStream[int]{recv, recv.Clone()}
		for r, rs := range recvs {
			rng := rand.New(rand.NewPCG(uint64(r), 13))
			g.Go(func(ctx context.Context) error {
				defer rs.Close()
				for {
					cctx, cancel := shortCtx(ctx, rng)
					v, err := rs.Receive(cctx)
					cancel()
					switch {
					case errors.Is(err, tock.ErrEndOfStream):
						return nil
					case err == nil:
						got = append(got, v)
					case !errors.Is(err, context.DeadlineExceeded):
						return err
					}
				}
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		slices.Sort(sent)
		slices.Sort(got)
		if !slices.Equal(sent, got) {
			return fmt.Errorf("no item lost or duplicated: sent %v, received %v", sent, got)
		}
		return nil
	})
}

// Notifications are not lost: consumers wait on a Condition with timeouts;
// every item a producer announces is consumed.
func TestExploreStressCondition(t *testing.T) {
	exploreStress(t, func(ctx context.Context) error {
		c := tock.NewCondition(nil)
		var queue, got []int
		const producers = 2
		done := 0
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			return tasks(ctx, producers, func(ctx context.Context, p int, rng *rand.Rand) error {
				for j := range exploreIters {
					if err := c.Lock(ctx); err != nil {
						return err
					}
					queue = append(queue, p*100+j)
					c.Notify(ctx, 1)
					if j == exploreIters-1 {
						if done++; done == producers {
							c.NotifyAll(ctx)
						}
					}
					c.Unlock(ctx)
					pause(ctx, rng)
				}
				return nil
			})
		})
		g.Go(func(ctx context.Context) error {
			return tasks(ctx, 3, func(ctx context.Context, _ int, rng *rand.Rand) error {
				for {
					if err := c.Lock(ctx); err != nil {
						return err
					}
					cctx, cancel := shortCtx(ctx, rng)
					err := c.WaitFor(cctx, func() bool { return len(queue) > 0 || done == producers })
					cancel()
					if !c.Stats().Lock.Locked {
						return errors.New("WaitFor returned without the lock")
					}
					if err == nil && len(queue) > 0 {
						got = append(got, queue[0])
						queue = queue[1:]
					} else if err == nil {
						c.Unlock(ctx)
						return nil // drained and done
					}
					c.Unlock(ctx)
				}
			})
		})
		if err := g.Wait(); err != nil {
			return err
		}
		if st := c.Stats(); st.Waiting != 0 || st.Lock.Locked {
			return fmt.Errorf("after the run: %+v", st)
		}
		return exactlyOnce(got, producers)
	})
}

// An Event's Set wakes every waiter that did not time out first; none is
// left waiting.
func TestExploreStressEvent(t *testing.T) {
	exploreStress(t, func(ctx context.Context) error {
		var e tock.Event
		woke, cancelled := 0, 0
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			return tasks(ctx, exploreTasks, func(ctx context.Context, _ int, rng *rand.Rand) error {
				cctx, cancel := shortCtx(ctx, rng)
				defer cancel()
				if err := e.Wait(cctx); err != nil {
					cancelled++
				} else {
					woke++
				}
				return nil
			})
		})
		if err := tock.Sleep(ctx, time.Millisecond); err != nil {
			return err
		}
		e.Set()
		if err := g.Wait(); err != nil {
			return err
		}
		if woke+cancelled != exploreTasks || e.Stats().Waiting != 0 {
			return fmt.Errorf("notifications not lost: woke %d, cancelled %d, still waiting %d", woke, cancelled, e.Stats().Waiting)
		}
		return nil
	})
}
