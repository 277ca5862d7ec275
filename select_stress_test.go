package tock_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// selectHammerOps is the number of operations (Puts, Sends and Selects) of
// TestSelectHammer: a million, sized to take a minute or two under -race on
// two shared cores; -short runs a tenth.
const selectHammerOps = 1_000_000

// TestSelectHammer races Selects (over two Queues, a stream, a Semaphore, a
// Container, a Tracked, a PriorityLimiter, a CapacityLimiter and a timeout,
// many under a tiny timeout so that cancellations race grants) against
// producers on the real runtime, and checks that every item is received
// exactly once, no Semaphore unit or Container amount is lost or
// duplicated, no limiter token is held by two at once or left behind, and a
// Tracked case gets a value its condition holds for.
func TestSelectHammer(t *testing.T) {
	checkLeaks(t)
	ops := selectHammerOps
	if testing.Short() {
		ops /= 10
	}
	items := ops * 4 / 9 // each item is one Put or Send and one Select; every 8th, a Release and an acquiring Select
	const producers, consumers = 2, 3
	var done atomic.Int64 // operations counted
	seen := make([]atomic.Int32, items)
	var received atomic.Int64
	var byCase [10]atomic.Int64
	// A watchdog: a lost item would keep the consumers waiting for it; fail
	// instead once nothing is received for 20 s.
	root, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	go func() {
		last := int64(-1)
		for root.Err() == nil {
			n := received.Load()
			if n == last {
				stop(fmt.Errorf("no item received for 20 s: %d of %d received (one was lost?)", n, items))
				return
			}
			last = n
			select {
			case <-root.Done():
			case <-time.After(20 * time.Second):
			}
		}
	}()
	err := tock.Run(root, func(ctx context.Context) error {
		q1, q2 := tock.NewQueue[int](), tock.NewQueue[int]()
		send, recv := tock.NewStream[int](4)
		sem := tock.NewSemaphore(0)
		var released, acquired atomic.Int64
		tank := tock.NewContainer(math.Inf(1), 0)
		var poured, drawn atomic.Int64
		tr := tock.NewTracked(0)
		pl := tock.NewPriorityLimiter(1)
		cl := tock.NewCapacityLimiter(1)
		var plHeld, clHeld atomic.Int32
		g := tock.NewGroup(ctx)
		var next atomic.Int64
		var sendersLeft sync.WaitGroup
		sendersLeft.Add(producers)
		for p := range producers {
			s := send.Clone()
			g.Go(func(ctx context.Context) error {
				defer sendersLeft.Done()
				defer s.Close()
				for {
					i := int(next.Add(1) - 1)
					if i >= items {
						return nil
					}
					var err error
					switch (i + p) % 3 {
					case 0:
						err = q1.Put(ctx, i)
					case 1:
						err = q2.Put(ctx, i)
					default:
						err = s.Send(ctx, i)
					}
					if err != nil {
						return fmt.Errorf("producer: item %d: %w", i, err)
					}
					done.Add(1)
					if i%8 == 0 {
						released.Add(1)
						sem.Release()
						done.Add(1)
					}
					if i%8 == 4 {
						poured.Add(1)
						if err := tank.Put(ctx, 1); err != nil {
							return err
						}
						tr.Update(func(v int) int { return v + 1 })
						done.Add(2)
					}
				}
			})
		}
		send.Close()
		got := func(v int) {
			if n := seen[v].Add(1); n != 1 {
				panic(fmt.Sprintf("item %d received %d times", v, n))
			}
			received.Add(1)
		}
		for c := range consumers {
			g.Go(func(ctx context.Context) error {
				r := rand.New(rand.NewPCG(uint64(c), 9))
				seenTracked := 0
				for received.Load() < int64(items) {
					if ctx.Err() != nil {
						return context.Cause(ctx)
					}
					sctx, cancel := ctx, context.CancelFunc(func() {})
					if r.IntN(4) == 0 {
						sctx, cancel = tock.WithTimeout(ctx, time.Duration(r.IntN(20))*time.Microsecond)
					}
					unit, amount := false, false
					var permit *tock.Permit
					borrowed := false
					trackedV := -1
					last := seenTracked
					i, err := tock.Select(sctx,
						tock.OnGet(q1, got),
						tock.OnGet(q2, got),
						tock.OnReceive(recv, got),
						tock.OnAcquire(sem, func() { unit = true }),
						tock.OnContainerGet(tank, 1, func() { amount = true }),
						tock.OnTracked(tr, func(v int) bool { return v > last }, func(v int) { trackedV = v }),
						tock.OnPermit(pl, r.IntN(3), func(p *tock.Permit) { permit = p }),
						tock.OnBorrow(cl, func() { borrowed = true }),
						tock.OnTimeout(time.Millisecond, nil))
					cancel()
					done.Add(1)
					byCase[i+1].Add(1)
					switch i {
					case 4:
						if !amount || err != nil {
							return fmt.Errorf("container case without the amount: %v", err)
						}
						drawn.Add(1)
					case 5:
						if trackedV <= last || err != nil {
							return fmt.Errorf("tracked case with %d, last seen %d: %v", trackedV, last, err)
						}
						seenTracked = trackedV
					case 6, 7:
						if err != nil || (i == 6) != (permit != nil) || (i == 7) != borrowed {
							return fmt.Errorf("limiter case %d: permit %v, borrowed %v, %v", i, permit != nil, borrowed, err)
						}
						held := &plHeld
						if i == 7 {
							held = &clHeld
						}
						if n := held.Add(1); n != 1 {
							return fmt.Errorf("limiter case %d: %d holders at once", i, n)
						}
						tock.Yield(ctx)
						held.Add(-1)
						if i == 6 {
							permit.Release()
						} else {
							cl.Release(ctx)
						}
						done.Add(1)
					}
					switch {
					case i == 3:
						if !unit || err != nil {
							return fmt.Errorf("acquire case without the unit: %v", err)
						}
						acquired.Add(1)
					case i == 2 && err != nil:
						// the stream ended (every item sent was received)
						tock.Sleep(ctx, 10*time.Microsecond)
					case i == -1 && err == nil:
						return fmt.Errorf("Select returned -1 without an error")
					case i >= 0 && i != 2 && err != nil:
						return fmt.Errorf("case %d: %v", i, err)
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		// Every unit released was acquired by exactly one Select, or is
		// still there.
		if int64(sem.Value())+acquired.Load() != released.Load() || sem.Stats().Waiting != 0 || q1.Waiting()+q2.Waiting() != 0 {
			return fmt.Errorf("after: %d units released, %d acquired, %d left (%d waiting); queue waiters %d",
				released.Load(), acquired.Load(), sem.Value(), sem.Stats().Waiting, q1.Waiting()+q2.Waiting())
		}
		// Every amount poured was drawn by exactly one Select, or is still
		// there; no token is left held, no waiter left queued.
		if st := tank.Stats(); int64(st.Level)+drawn.Load() != poured.Load() || st.WaitingGets != 0 {
			return fmt.Errorf("after: %d poured, %d drawn, level %v (%d waiting)", poured.Load(), drawn.Load(), st.Level, st.WaitingGets)
		}
		if ps, cs := pl.Stats(), cl.Stats(); ps.InUse != 0 || ps.Waiting != 0 || cs.Borrowed != 0 || cs.Waiting != 0 || tr.Stats().Waiting != 0 {
			return fmt.Errorf("after: priority limiter %+v, capacity limiter %+v, tracked waiters %d", ps, cs, tr.Stats().Waiting)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err, context.Cause(root))
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("item %d received %d times", i, n)
		}
	}
	var counts []int64
	for i := range byCase {
		counts = append(counts, byCase[i].Load())
	}
	t.Logf("%d operations; Selects by case (-1, 0..8): %v", done.Load(), counts)
}

// FuzzSelect runs a small model chosen by the input in a simulation: tasks
// put on a Queue, send on a rendezvous stream, release a Semaphore, set an
// Event, pour into a Container, set a Tracked, and Select over all of them
// and over a PriorityLimiter and a CapacityLimiter (some under a timeout or
// a cancellation). It checks that no item, unit, amount or token is lost or
// duplicated, that a Tracked case gets a value its condition holds for,
// that a Select's result is one of its cases, and that the run is the same
// twice.
func FuzzSelect(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{0, 0, 0, 255, 255, 7, 3, 3, 3, 1, 200, 9, 8})
	f.Add([]byte("select over everything, cancel in between"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 200 {
			data = data[:200]
		}
		a, errA := selectModel(data)
		b, errB := selectModel(data)
		if errA != nil {
			t.Fatal(errA)
		}
		if a != b || fmt.Sprint(errB) != fmt.Sprint(errA) {
			t.Fatalf("two runs differ:\n%s\n%s", a, b)
		}
	})
}

func selectModel(data []byte) (string, error) {
	var log strings.Builder
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		send, recv := tock.NewStream[int](0)
		send2, recv2 := tock.NewStream[int](0) // Select to Select
		sem := tock.NewSemaphore(1)
		var ev tock.Event
		var mu sync.Mutex
		sent, got := map[int]int{}, map[int]int{}
		units := 1
		tank := tock.NewContainer(3, 1)
		poured, drawn := 1.0, 0.0
		tr := tock.NewTracked(0)
		pl := tock.NewPriorityLimiter(1)
		cl := tock.NewCapacityLimiter(1)
		plHeld, clHeld := 0, 0
		g := tock.NewGroup(ctx)
		item := 0
		for k := 0; k+1 < len(data); k += 2 {
			op, arg := data[k]%9, int(data[k+1])
			item++
			id := item
			delay := time.Duration(arg%7) * time.Second
			switch op {
			case 0: // put
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, delay)
					q.Put(ctx, id)
					mu.Lock()
					sent[id]++
					mu.Unlock()
					return nil
				})
			case 1: // send, giving up after a while
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, delay)
					sctx, cancel := tock.WithTimeout(ctx, time.Duration(arg%5)*time.Second)
					defer cancel()
					if send.Send(sctx, id) == nil {
						mu.Lock()
						sent[id]++
						mu.Unlock()
					}
					return nil
				})
			case 2: // set the event
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, delay)
					ev.Set()
					return nil
				})
			case 7: // pour one unit, giving up after a while
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, delay)
					sctx, cancel := tock.WithTimeout(ctx, time.Duration(arg%3)*time.Second)
					defer cancel()
					if tank.Put(sctx, 1) == nil {
						mu.Lock()
						poured++
						mu.Unlock()
					}
					return nil
				})
			case 8: // set the tracked value
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, delay)
					tr.Set(arg % 5)
					return nil
				})
			case 3: // a Select that sends, or times out
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, delay)
					i, err := tock.Select(ctx, tock.OnSend(send2, id, nil), tock.OnTimeout(time.Duration(arg%4)*time.Second, nil))
					fmt.Fprintf(&log, "%v send select %d: case %d %v\n", tock.Now(ctx).Sub(sim.DefaultStart), id, i, err)
					if i == 0 {
						mu.Lock()
						sent[id]++
						mu.Unlock()
					}
					return err
				})
			default: // a Select, perhaps cancelled or with a timeout
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, delay)
					sctx, cancel := tock.WithCancel(ctx)
					defer cancel()
					if arg%3 == 0 {
						g.Go(func(ctx context.Context) error {
							tock.Sleep(ctx, time.Duration(arg%4)*time.Second)
							cancel()
							return nil
						})
					}
					record := func(v int) {
						mu.Lock()
						got[v]++
						mu.Unlock()
					}
					want := arg % 5
					trackedV := -1
					var permit *tock.Permit
					cases := []tock.SelectCase{
						tock.OnGet(q, record),
						tock.OnReceive(recv, record),
						tock.OnAcquire(sem, nil),
						tock.OnEvent(&ev, nil),
						tock.OnReceive(recv2, record),
						tock.OnContainerGet(tank, 1, nil),
						tock.OnTracked(tr, func(v int) bool { return v == want }, func(v int) { trackedV = v }),
						tock.OnPermit(pl, arg%3, func(p *tock.Permit) { permit = p }),
						tock.OnBorrow(cl, nil),
					}
					if arg%7 == 1 { // the new kinds first
						cases = slices.Concat(cases[5:], cases[:5])
					}
					kind := func(i int) int { // the index in the order above
						if i >= 0 && i < 9 && arg%7 == 1 {
							return (i + 5) % 9
						}
						return i
					}
					if arg%2 == 0 {
						cases = append(cases, tock.OnTimeout(time.Duration(arg%6)*time.Second, nil))
					}
					i, err := tock.Select(sctx, cases...)
					fmt.Fprintf(&log, "%v select %d: case %d %v\n", tock.Now(ctx).Sub(sim.DefaultStart), id, i, err)
					if i < -1 || i >= len(cases) || (i == -1) != (err != nil) {
						return fmt.Errorf("select %d: case %d, error %v", id, i, err)
					}
					switch kind(i) {
					case 5:
						drawn++
					case 6:
						if trackedV != want {
							return fmt.Errorf("select %d: tracked case got %d, wants %d", id, trackedV, want)
						}
					case 7, 8:
						held := &plHeld
						if kind(i) == 8 {
							held = &clHeld
						}
						if *held++; *held != 1 {
							return fmt.Errorf("select %d: case %d: %d holders at once", id, kind(i), *held)
						}
						if arg%5 == 0 {
							cancel()
						}
						tock.Sleep(ctx, time.Second)
						*held--
						if kind(i) == 7 {
							if permit == nil {
								return fmt.Errorf("select %d: permit case without a permit", id)
							}
							permit.Release()
						} else {
							cl.Release(ctx)
						}
					}
					if kind(i) == 2 {
						if arg%5 == 0 { // hold it across a cancellation
							cancel()
						}
						mu.Lock()
						units--
						if units < 0 {
							mu.Unlock()
							return fmt.Errorf("select %d: a unit acquired twice", id)
						}
						mu.Unlock()
						tock.Sleep(ctx, time.Second)
						mu.Lock()
						units++
						mu.Unlock()
						sem.Release()
					}
					return nil
				})
			}
		}
		g.Wait()
		for q.Len() > 0 {
			v, _ := q.Get(ctx)
			got[v]++
		}
		for id, n := range got {
			if sent[id] != n {
				return fmt.Errorf("item %d: sent %d times, received %d", id, sent[id], n)
			}
		}
		for id, n := range sent {
			if got[id] != n {
				return fmt.Errorf("item %d: sent %d times, received %d", id, n, got[id])
			}
		}
		if sem.Value() != 1 || units != 1 {
			return fmt.Errorf("semaphore %d, units %d", sem.Value(), units)
		}
		if st := tank.Stats(); st.Level+drawn != poured || st.WaitingGets+st.WaitingPuts != 0 {
			return fmt.Errorf("container: poured %v, drawn %v, %+v", poured, drawn, st)
		}
		if ps, cs := pl.Stats(), cl.Stats(); ps.InUse+ps.Waiting+cs.Borrowed+cs.Waiting+tr.Stats().Waiting != 0 {
			return fmt.Errorf("after: priority limiter %+v, capacity limiter %+v, tracked waiters %d", ps, cs, tr.Stats().Waiting)
		}
		return nil
	})
	return log.String(), err
}
