package tock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// SimPy FilterStore: GetWhere takes the first matching item; a
		// waiting GetWhere that rejects an item does not hold back the Get
		// behind it.
		name: "ST-01 GetWhere",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[int]()
			for i := 1; i <= 5; i++ {
				q.Put(ctx, i)
			}
			v, err := q.GetWhere(ctx, func(v int) bool { return v%2 == 0 })
			h.Log(ctx, "first even: %d %v; left %d", v, err, q.Len())
			for q.Len() > 0 {
				q.Get(ctx)
			}
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				v, err := q.GetWhere(ctx, func(v int) bool { return v > 10 })
				h.Log(ctx, "big: %d %v", v, err)
				return err
			})
			h.WaitUntil(ctx, "big waits", func() bool { return q.Waiting() == 1 })
			g.Go(func(ctx context.Context) error {
				v, err := q.Get(ctx)
				h.Log(ctx, "any: %d %v", v, err)
				return err
			})
			h.WaitUntil(ctx, "any waits", func() bool { return q.Waiting() == 2 })
			tock.Sleep(ctx, h.U(1))
			q.Put(ctx, 7)
			h.WaitUntil(ctx, "any served", func() bool { return q.Waiting() == 1 })
			tock.Sleep(ctx, h.U(1))
			q.Put(ctx, 11)
			return g.Wait()
		},
		sim:     "0 first even: 2 <nil>; left 4\n1 any: 7 <nil>\n2 big: 11 <nil>",
		ordered: true,
	},
	scenario{
		// SimPy PriorityStore: items come out least first, FIFO among equals.
		name: "ST-02 priority queue",
		body: func(ctx context.Context, h *H) error {
			type job struct {
				prio int
				name string
			}
			q := tock.NewPriorityQueue(func(a, b job) bool { return a.prio < b.prio })
			for _, j := range []job{{5, "e"}, {1, "a"}, {3, "c"}, {1, "b"}, {9, "z"}} {
				q.Put(ctx, j)
			}
			j, _ := q.GetWhere(ctx, func(j job) bool { return j.prio > 2 })
			var got []string
			got = append(got, j.name)
			q.Close()
			for j := range q.All(ctx) {
				got = append(got, j.name)
			}
			h.Log(ctx, "order %s", strings.Join(got, " "))
			_, err := q.GetWhere(ctx, func(job) bool { return true })
			h.Log(ctx, "closed and drained: %v", err)
			return nil
		},
		sim:     "0 order c a b e z\n0 closed and drained: tock: stream closed",
		ordered: true,
	},
	scenario{
		// A closed queue: GetWhere fails once no buffered item matches, while
		// Get still drains; waiting GetWheres are woken by Close.
		name: "ST-03 GetWhere and Close",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[string]()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				_, err := q.GetWhere(ctx, func(s string) bool { return s == "x" })
				h.Log(ctx, "waiting GetWhere: %v", err)
				return nil
			})
			h.WaitUntil(ctx, "waits", func() bool { return q.Waiting() == 1 })
			q.Put(ctx, "y")
			tock.Sleep(ctx, h.U(1))
			q.Close()
			g.Wait()
			_, err := q.GetWhere(ctx, func(s string) bool { return s == "x" })
			v, err2 := q.Get(ctx)
			h.Log(ctx, "after close: %v; Get %q %v", err, v, err2)
			return nil
		},
		sim:     "1 waiting GetWhere: tock: stream closed\n1 after close: tock: stream closed; Get \"y\" <nil>",
		ordered: true,
	},
	scenario{
		name: "ST-04 GetWhere cancel before or after the hand-off",
		body: func(ctx context.Context, h *H) error {
			for _, cancelFirst := range []bool{true, false} {
				q := tock.NewQueue[int]()
				err := h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
					_, err := q.GetWhere(ctx, func(v int) bool { return v == 3 })
					return err
				}, func() bool { return q.Waiting() == 1 }, func() { q.Put(ctx, 3) })
				h.Log(ctx, "cancel first %v: %v, buffered %d", cancelFirst, err, q.Len())
			}
			return nil
		},
		sim:     "0 cancel first true: context canceled, buffered 1\n0 cancel first false: <nil>, buffered 0",
		ordered: true,
	},
)

// A condition that panics inside Put leaves the queue usable: the lock is
// free, the waiter still waits, and the item was not queued.
func TestGetWherePanickingCondition(t *testing.T) {
	checkLeaks(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			v, err := q.GetWhere(ctx, func(v int) bool {
				if v == 13 {
					panic("unlucky")
				}
				return v == 2
			})
			if v != 2 {
				t.Errorf("got %d", v)
			}
			return err
		})
		tock.Yield(ctx)
		func() {
			defer func() {
				if r := recover(); r != "unlucky" {
					t.Errorf("Put recovered %v", r)
				}
			}()
			q.Put(ctx, 13)
		}()
		if q.Len() != 0 || q.Waiting() != 1 {
			t.Errorf("after the panic: len %d waiting %d", q.Len(), q.Waiting())
		}
		q.Put(ctx, 2)
		if err := g.Wait(); err != nil {
			return err
		}
		// A panicking order in a priority queue, and in GetWhere's own scan.
		pq := tock.NewPriorityQueue(func(a, b int) bool {
			if a == 13 || b == 13 {
				panic("unlucky")
			}
			return a < b
		})
		pq.Put(ctx, 1)
		func() {
			defer func() { recover() }()
			pq.Put(ctx, 13)
		}()
		func() {
			defer func() { recover() }()
			q.Put(ctx, 5)
			q.GetWhere(ctx, func(int) bool { panic("scan") })
		}()
		if pq.Len() != 1 || q.Len() != 1 {
			t.Errorf("lens %d %d", pq.Len(), q.Len())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoreMisuse(t *testing.T) {
	for _, c := range []struct {
		f    func()
		want string
	}{
		{func() { tock.NewPriorityQueue[int](nil) }, "tock: NewPriorityQueue: the order is nil"},
		{func() { tock.NewQueue[int]().GetWhere(context.Background(), nil) }, "tock: Queue.GetWhere: the condition is nil"},
	} {
		func() {
			defer func() {
				if r := fmt.Sprint(recover()); !strings.Contains(r, c.want) {
					t.Errorf("panic %q, want %q", r, c.want)
				}
			}()
			c.f()
		}()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := tock.NewQueue[int]()
	q.Put(context.Background(), 1)
	if _, err := q.GetWhere(ctx, func(int) bool { return true }); !errors.Is(err, context.Canceled) || q.Len() != 1 {
		t.Errorf("GetWhere on a cancelled ctx: %v (len %d)", err, q.Len())
	}
}

func ExampleQueue_GetWhere() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		parts := tock.NewQueue[string]()
		for _, p := range []string{"bolt", "nut", "gear", "nut"} {
			parts.Put(ctx, p)
		}
		p, _ := parts.GetWhere(ctx, func(p string) bool { return p == "gear" })
		fmt.Println("took", p, "- left:", parts.Len())
		return nil
	})
	// Output:
	// took gear - left: 3
}

func ExampleNewPriorityQueue() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		type patient struct {
			name    string
			urgency int // 1 is the most urgent
		}
		triage := tock.NewPriorityQueue(func(a, b patient) bool { return a.urgency < b.urgency })
		triage.Put(ctx, patient{"sprained ankle", 3})
		triage.Put(ctx, patient{"heart attack", 1})
		triage.Put(ctx, patient{"broken arm", 2})
		triage.Close()
		for p := range triage.All(ctx) {
			fmt.Println(p.name)
		}
		return nil
	})
	// Output:
	// heart attack
	// broken arm
	// sprained ankle
}
