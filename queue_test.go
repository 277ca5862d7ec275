package tock_test

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// μSim Q1: Put never blocks, and lets the runnable tasks run first.
		name: "Q1 Put postpones",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[int]()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				for i := 0; i < 3; i++ {
					h.Log(ctx, "other %d", i)
					tock.Yield(ctx)
				}
				return nil
			})
			for i := 0; i < 3; i++ {
				q.Put(ctx, i)
				h.Log(ctx, "put %d returned", i)
			}
			h.Log(ctx, "buffered %d", q.Len())
			return g.Wait()
		},
		sim: "0 other 0\n0 put 0 returned\n0 other 1\n0 put 1 returned\n0 other 2\n0 put 2 returned\n0 buffered 3",
	},
	scenario{
		// μSim Q2: Get on a non-empty queue postpones.
		name: "Q2 Get on a non-empty queue postpones",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[string]()
			q.Put(ctx, "x")
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { h.Log(ctx, "other ran"); return nil })
			v, err := q.Get(ctx)
			h.Log(ctx, "got %s %v", v, err)
			return g.Wait()
		},
		sim: "0 other ran\n0 got x <nil>",
	},
	scenario{
		// μSim Q3/Q4: producer and consumer, 1:1, ranging until closed.
		name: "Q3 put/get until closed",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[int]()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				for i := 0; i < 20; i++ {
					q.Put(ctx, i)
					tock.Sleep(ctx, h.U(5))
				}
				q.Close()
				return nil
			})
			var got []int
			for v := range q.All(ctx) {
				got = append(got, v)
			}
			h.Log(ctx, "got %v", got)
			return g.Wait()
		},
		sim:     "100 got [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19]",
		ordered: true,
	},
	scenario{
		// μSim Q5/Q6: Close is idempotent; Put fails at once; buffered items
		// are still delivered, then ErrStreamClosed.
		name: "Q5 close keeps buffered items",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[int]()
			for i := 0; i < 3; i++ {
				q.Put(ctx, i)
			}
			q.Close()
			q.Close()
			h.Log(ctx, "closed %v, put: %v", q.Closed(), q.Put(ctx, 9))
			for i := 0; i < 4; i++ {
				v, err := q.Get(ctx)
				h.Log(ctx, "get %d %v", v, err)
			}
			return nil
		},
		sim:     "0 closed true, put: tock: stream closed\n0 get 0 <nil>\n0 get 1 <nil>\n0 get 2 <nil>\n0 get 0 tock: stream closed",
		ordered: true,
	},
	scenario{
		// μSim Q8 / queue_fifo_multi_consumer: consumers are served FIFO;
		// Close wakes every waiting consumer.
		name: "Q8 FIFO consumers, close wakes all",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[int]()
			g := tock.NewGroup(ctx)
			for c := 1; c <= 3; c++ {
				g.Go(func(ctx context.Context) error {
					v, err := q.Get(ctx)
					h.Log(ctx, "C%d got %d %v", c, v, err)
					return nil
				})
				h.WaitUntil(ctx, "waiting", func() bool { return q.Len() == 0 && statsWaitingQueue(q) == c })
			}
			q.Put(ctx, 10)
			q.Put(ctx, 11)
			h.WaitUntil(ctx, "served", func() bool { return len(h.Msgs()) == 2 })
			tock.Sleep(ctx, h.U(5))
			q.Close()
			return g.Wait()
		},
		sim:   "0 C1 got 10 <nil>\n0 C2 got 11 <nil>\n5 C3 got 0 tock: stream closed",
		check: causal(order{"C1 got 10 <nil>", "C3 got 0 tock: stream closed"}, order{"C2 got 11 <nil>", "C3 got 0 tock: stream closed"}),
	},
	scenario{
		// μSim queue_cancel_waiting_consumer_then_put: a consumer cancelled
		// before the put is skipped; the item goes to the next one.
		name: "Q cancelled consumer loses nothing",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[string]()
			g := tock.NewGroup(ctx)
			var cancel1 context.CancelFunc
			for c := 1; c <= 2; c++ {
				g.Go(func(ctx context.Context) error {
					if c == 1 {
						ctx, cancel1 = tock.WithCancel(ctx)
					}
					v, err := q.Get(ctx)
					h.Log(ctx, "C%d: %q %v", c, v, err)
					return nil
				})
				h.WaitUntil(ctx, "waiting", func() bool { return statsWaitingQueue(q) == c })
			}
			cancel1()
			q.Put(ctx, "item")
			return g.Wait()
		},
		sim: "0 C1: \"\" context canceled\n0 C2: \"item\" <nil>",
	},
)

// statsWaitingQueue counts the consumers blocked in Get.
func statsWaitingQueue[T any](q *tock.Queue[T]) int { return q.Waiting() }

func ExampleQueue() {
	// Two workers share one queue: each job goes to exactly one of them.
	sim.Run(context.Background(), func(ctx context.Context) error {
		jobs := tock.NewQueue[string]()
		g := tock.NewGroup(ctx)
		var mu tock.Lock
		done := map[string][]string{}
		for _, w := range []string{"w1", "w2"} {
			g.Go(func(ctx context.Context) error {
				for job := range jobs.All(ctx) {
					mu.Lock(ctx)
					done[w] = append(done[w], job)
					mu.Unlock(ctx)
					tock.Sleep(ctx, time.Second)
				}
				return nil
			})
		}
		for _, j := range []string{"a", "b", "c", "d"} {
			jobs.Put(ctx, j)
		}
		jobs.Close()
		err := g.Wait()
		for _, w := range slices.Sorted(maps.Keys(done)) {
			fmt.Println(w, done[w])
		}
		return err
	})
	// Output:
	// w1 [a c]
	// w2 [b d]
}

// Zero values are usable: a Queue buffers without bound, a Channel
// broadcasts.
func TestZeroQueueAndChannel(t *testing.T) {
	ctx := context.Background()
	var q tock.Queue[int]
	for i := 0; i < 3; i++ {
		if err := q.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != 3 {
		t.Fatalf("zero queue holds %d of 3 items", q.Len())
	}
	if v, err := q.Get(ctx); v != 0 || err != nil {
		t.Fatalf("Get = %d, %v", v, err)
	}
	var ch tock.Channel[string]
	sub := ch.Subscribe()
	ch.Put(ctx, "hi")
	if v, err := sub.Receive(ctx); v != "hi" || err != nil {
		t.Fatalf("Receive = %q, %v", v, err)
	}
}

// Issue 12, defect 7: a Queue gives back the memory of a drained burst.
// 1M 64-byte items (64 MB of buffer at the peak) put and then taken leave
// the live heap within a few MB of where it started while the queue is
// still in use.
func TestQueueMemoryGivenBack(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	q := tock.NewQueue[[64]byte]()
	before := heap()
	const n = 1_000_000
	for i := 0; i < n; i++ {
		q.Put(ctx, [64]byte{})
	}
	peak := heap()
	for i := 0; i < n; i++ {
		if _, err := q.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	after := heap()
	q.Put(ctx, [64]byte{}) // the queue is live: its buffer is reachable
	if peak < before+n*64 {
		t.Fatalf("the burst took %d bytes; want at least %d (is the test measuring?)", peak-before, n*64)
	}
	if after > before+8<<20 {
		t.Fatalf("drained queue keeps %d bytes of heap (peak %d)", after-before, peak-before)
	}
}
