package internal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/tockgo/tock/internal/leaktest"
)

func TestTimerHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &Sched{}
	type armed struct {
		tm   *timer
		when int64
		seq  uint64
	}
	var live []armed
	for i := 0; i < 20000; i++ {
		if rng.IntN(3) < 2 || len(live) == 0 {
			tm := &timer{}
			when := int64(rng.IntN(100))
			s.setTimer(tm, when)
			live = append(live, armed{tm, when, tm.seq})
		} else {
			k := rng.IntN(len(live))
			s.stopTimer(live[k].tm)
			live = slices.Delete(live, k, k+1)
		}
	}
	if len(s.timers.h) >= 20000 {
		t.Error("stale entries were never compacted")
	}
	slices.SortFunc(live, func(a, b armed) int {
		if a.when != b.when {
			return int(a.when - b.when)
		}
		return int(a.seq) - int(b.seq)
	})
	for i, want := range live {
		e, ok := s.timers.next()
		if !ok || e.tm != want.tm || e.when != want.when {
			t.Fatalf("entry %d: got (%d,%d) ok=%v, want (%d,%d)", i, e.when, e.seq, ok, want.when, want.seq)
		}
		s.timers.pop()
	}
	if _, ok := s.timers.next(); ok {
		t.Fatal("entries left after every live timer popped")
	}
}

func TestQueueRemoveAndPopLive(t *testing.T) {
	var q Queue[int]
	ws := make([]*Waiter[int], 5)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range ws {
		ws[i] = &Waiter[int]{Val: i, Ctx: context.Background()}
		q.Push(ws[i])
	}
	ws[1].Ctx = cancelled
	if !q.Remove(ws[3]) || q.Remove(ws[3]) || q.Len() != 4 {
		t.Fatal("Remove")
	}
	var got []int
	for w := q.PopLive(); w != nil; w = q.PopLive() {
		got = append(got, w.Val)
	}
	if !slices.Equal(got, []int{0, 2, 4}) || q.Len() != 0 || q.Front() != nil {
		t.Fatalf("PopLive order %v, len %d", got, q.Len())
	}
}

func TestRing(t *testing.T) {
	var r ring
	var ts []*Task
	for i := 0; i < 300; i++ {
		ts = append(ts, &Task{ID: uint64(i)})
	}
	for round := 0; round < 3; round++ {
		for _, x := range ts[:200] {
			r.push(x)
		}
		for i := 0; i < 100; i++ {
			if r.pop() != ts[i] {
				t.Fatal("ring order")
			}
		}
		for _, x := range ts[200:] {
			r.push(x)
		}
		for i := 100; i < 300; i++ {
			if r.pop() != ts[i] {
				t.Fatal("ring order after wrap")
			}
		}
	}
}

// A task can be in its live list and a parked list at once; each list keeps
// its own order and removal from one leaves the other intact.
func TestDlistTwoLinks(t *testing.T) {
	var live, parked dlist[Task]
	ts := make([]*Task, 5)
	for i := range ts {
		ts[i] = &Task{ID: uint64(i)}
		live.pushBack(&ts[i].live, ts[i])
	}
	for _, i := range []int{3, 1, 4} {
		parked.pushBack(&ts[i].park, ts[i])
	}
	ids := func(l *dlist[Task], k func(*Task) *link[Task]) (out []uint64) {
		for x := l.front(); x != nil; x = k(x).after() {
			out = append(out, x.ID)
		}
		return out
	}
	liveOf := func(t *Task) *link[Task] { return &t.live }
	parkOf := func(t *Task) *link[Task] { return &t.park }
	if !live.remove(&ts[0].live) || !live.remove(&ts[2].live) || !live.remove(&ts[4].live) || live.remove(&ts[4].live) {
		t.Fatal("remove from live")
	}
	if !parked.remove(&ts[1].park) || parked.remove(&ts[0].park) {
		t.Fatal("remove from parked")
	}
	if got := ids(&live, liveOf); !slices.Equal(got, []uint64{1, 3}) || live.n != 2 || live.tail.elem != ts[3] {
		t.Fatalf("live %v (n %d)", got, live.n)
	}
	if got := ids(&parked, parkOf); !slices.Equal(got, []uint64{3, 4}) || parked.n != 2 || parked.tail.elem != ts[4] {
		t.Fatalf("parked %v (n %d)", got, parked.n)
	}
	if !ts[3].park.in() || ts[0].park.in() || ts[0].live.in() {
		t.Fatal("in() disagrees with membership")
	}
}

// A task gets a coroutine only when it first runs, and a task that ends hands
// its coroutine to the next task to start: spawning 1,000 tasks creates no
// goroutine, running them one after another uses a single coroutine, and a
// task after one that panicked runs normally on it.
func TestCoroutineReuse(t *testing.T) {
	s := NewSched(time.Time{}, time.Time{}, false)
	var ran int
	var bad *Task
	res := s.Run(context.Background(), func(ctx context.Context) error {
		before := runtime.NumGoroutine()
		for i := 0; i < 1000; i++ {
			task := s.Spawn(ctx, func(ctx context.Context) {
				ran++
				if i == 500 {
					panic("boom")
				}
			})
			if i == 500 {
				bad = task
			}
		}
		if grew := runtime.NumGoroutine() - before; grew > 2 {
			t.Errorf("spawning 1,000 tasks started %d goroutines", grew)
		}
		for s.live.n > 1 {
			s.Yield()
		}
		if len(s.idle) != 1 {
			t.Errorf("%d idle coroutines after 1,000 tasks ran one after another, want 1", len(s.idle))
		}
		return nil
	})
	if res.Err != nil || res.Panic != nil {
		t.Fatalf("run: %v %v", res.Err, res.Panic)
	}
	if ran != 1000 || bad.panicked == nil || fmt.Sprint(bad.panicked.Value) != "boom" {
		t.Fatalf("ran %d tasks; the panicking one recorded %v", ran, bad.panicked)
	}
	if len(s.idle) != 0 {
		t.Fatalf("%d idle coroutines left after Run", len(s.idle))
	}
}

// Tasks spawned but not yet started when the run is aborted never run: they
// hold no coroutine, so there is nothing to unwind and no goroutine left.
func TestAbortUnstartedTasks(t *testing.T) {
	leaktest.Check(t)
	outer, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewSched(time.Time{}, time.Time{}, false)
	started := 0
	res := s.Run(outer, func(ctx context.Context) error {
		for i := 0; i < 10; i++ {
			s.Spawn(ctx, func(ctx context.Context) { started++ })
		}
		cancel()
		for !s.aborted.Load() { // set by the outer context's AfterFunc; monotonic
			runtime.Gosched()
		}
		s.Yield() // the loop notices the abort before any task runs
		return nil
	})
	if res.Remaining != 11 || started != 0 {
		t.Fatalf("Remaining %d, %d tasks started; want 11 abandoned and none started", res.Remaining, started)
	}
}
