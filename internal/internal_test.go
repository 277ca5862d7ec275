package internal

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/tockgo/tock/internal/leaktest"
)

// TestTimerQueueModel drives the timer queue the way the scheduler does (set
// timers after the current instant, stop some, peek, advance the clock to the
// earliest, fire what is due) and checks each step against a sorted list.
func TestTimerQueueModel(t *testing.T) {
	for _, spread := range []int64{3, 100, 1 << 40} {
		t.Run(fmt.Sprint(spread), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(spread)))
			s := &Sched{}
			type armed struct {
				tm   *timer
				when int64
				seq  uint64
			}
			var live []armed // by (when, seq)
			insert := func(a armed) {
				i, _ := slices.BinarySearchFunc(live, a, func(x, y armed) int {
					if x.when != y.when {
						return cmp.Compare(x.when, y.when)
					}
					return cmp.Compare(x.seq, y.seq)
				})
				live = slices.Insert(live, i, a)
			}
			stop := func(k int) {
				s.stopTimer(live[k].tm)
				live = slices.Delete(live, k, k+1)
			}
			check := func() {
				// n and stale count the entries held
				n, stale := 0, 0
				for b := range s.timers.b {
					for _, e := range s.timers.b[b] {
						n++
						if !e.live() {
							stale++
						}
					}
					if b > 0 && (len(s.timers.b[b]) > 0) != (s.timers.mask&(1<<(b-1)) != 0) {
						t.Fatalf("bucket %d: %d entries, mask %b", b, len(s.timers.b[b]), s.timers.mask)
					}
				}
				if n != s.timers.n || stale != s.timers.stale {
					t.Fatalf("held %d (%d stale), counted %d (%d stale)", n, stale, s.timers.n, s.timers.stale)
				}
			}
			var now int64
			maxHeld := 0
			for step := 0; step < 200_000; step++ {
				switch r := rng.IntN(10); {
				case r < 5 || len(live) == 0: // set
					tm := &timer{}
					when := now + 1 + rng.Int64N(spread)
					s.setTimer(tm, when)
					insert(armed{tm, when, tm.seq})
				case r < 7: // stop
					stop(rng.IntN(len(live)))
				case r < 8: // peek, as a task's self-next check does
					e, ok := s.timers.next()
					if !ok || e.tm != live[0].tm {
						t.Fatalf("step %d: next is %+v, want %+v", step, e, live[0])
					}
				default: // advance to the earliest and fire what is due
					e, ok := s.timers.next()
					if !ok || e.tm != live[0].tm {
						t.Fatalf("step %d: next is %+v, want %+v", step, e, live[0])
					}
					now = e.when
					due := s.timers.advance(now)
					var fired []*timer
					for i := range due {
						d := &due[i]
						if !d.live() {
							s.timers.stale--
							continue
						}
						if d.when != now {
							t.Fatalf("step %d: entry due at %d handed out at %d", step, d.when, now)
						}
						d.tm.seq = 0
						fired = append(fired, d.tm)
						// a fired deadline may stop a later timer due now
						if len(live) > len(fired)+1 && live[len(fired)+1].when == now && rng.IntN(4) == 0 {
							stop(len(fired) + 1)
						}
					}
					s.timers.done()
					var want []*timer
					for len(live) > 0 && live[0].when == now {
						want = append(want, live[0].tm)
						live = live[1:]
					}
					if !slices.Equal(fired, want) {
						t.Fatalf("step %d: fired %d timers at %d, want %d in set order", step, len(fired), now, len(want))
					}
				}
				if step%997 == 0 {
					check()
				}
				maxHeld = max(maxHeld, s.timers.n)
			}
			check()
			if maxHeld > 4*len(live)+5000 {
				t.Errorf("held up to %d entries for %d live timers: stale ones are not dropped", maxHeld, len(live))
			}
			for len(live) > 0 {
				e, _ := s.timers.next()
				if e.tm != live[0].tm {
					t.Fatalf("drain: next is %+v, want %+v", e, live[0])
				}
				due := s.timers.advance(e.when)
				for i := range due {
					if due[i].tm != live[0].tm {
						t.Fatalf("drain: fired out of order")
					}
					due[i].tm.seq = 0
					live = live[1:]
				}
				s.timers.done()
			}
			if _, ok := s.timers.next(); ok || s.timers.n != 0 || s.timers.stale != 0 {
				t.Fatalf("after the last timer: n=%d stale=%d", s.timers.n, s.timers.stale)
			}
		})
	}
}

// TestTimerQueueCompacts: timers set far ahead and stopped before the clock
// gets near them (a request's deadline, typically) do not pile up.
func TestTimerQueueCompacts(t *testing.T) {
	s := &Sched{}
	keep := &timer{}
	s.setTimer(keep, 1)
	for round := 0; round < 20; round++ {
		for i := 0; i < 10_000; i++ {
			tm := &timer{}
			s.setTimer(tm, int64(1e12+i))
			s.stopTimer(tm)
		}
	}
	if s.timers.n > 2*1025+10_000 {
		t.Fatalf("%d entries held for 1 live timer", s.timers.n)
	}
	if e, ok := s.timers.next(); !ok || e.tm != keep {
		t.Fatal("the live timer was lost")
	}
}

// TestTimerQueueAdvanceMovesNoEntries: the timers due at one instant are
// handed out from their bucket's own array (set-up of 100,000 tasks that
// sleep alike had each advance copy them all into a second array grown by
// doubling), in the order they were set.
func TestTimerQueueAdvanceMovesNoEntries(t *testing.T) {
	// One call (AllocsPerRun would make two), measured with the process's
	// count of allocations, which another goroutine of the runtime's may
	// move now and then under load: an advance that allocates does so every
	// time, so the best of three attempts is checked.
	best := uint64(math.MaxUint64)
	for range 3 {
		s := &Sched{}
		tms := make([]*timer, 4096)
		for i := range tms {
			tms[i] = &timer{}
			s.setTimer(tms[i], 1e9)
		}
		e, _ := s.timers.next()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		due := s.timers.advance(e.when)
		runtime.ReadMemStats(&after)
		best = min(best, after.Mallocs-before.Mallocs)
		if len(due) != len(tms) {
			t.Fatalf("%d due, want %d", len(due), len(tms))
		}
		for i := range due {
			if due[i].tm != tms[i] {
				t.Fatalf("due[%d] is not the %dth timer set", i, i)
			}
			due[i].tm.seq = 0
		}
		s.timers.done()
		if s.timers.n != 0 {
			t.Fatalf("%d entries held after done", s.timers.n)
		}
	}
	if best != 0 {
		t.Errorf("advance over 4,096 due timers allocated %d times (the best of three)", best)
	}
}

// TestTimerQueueStoppedEarliest: a timer set near the clock and stopped
// again and again (a short timeout a task rarely reaches), with many timers
// further out, costs no scan of those timers.
func TestTimerQueueStoppedEarliest(t *testing.T) {
	s := &Sched{}
	far := make([]*timer, 5000)
	for i := range far {
		far[i] = &timer{}
		s.setTimer(far[i], int64(1e9+i))
	}
	s.timers.next()
	s.timers.scanned = 0
	for i := 0; i < 2000; i++ {
		near := &timer{}
		s.setTimer(near, int64(1000+i))
		if e, _ := s.timers.next(); e.tm != near {
			t.Fatal("the near timer is not the earliest")
		}
		s.stopTimer(near)
		if e, _ := s.timers.next(); e.tm != far[0] {
			t.Fatal("after stopping the near timer, the earliest is not the first far one")
		}
	}
	if s.timers.scanned > 10*2000 {
		t.Errorf("scanned %d entries for 2,000 stopped timers", s.timers.scanned)
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
	var ts []*simTask
	for i := 0; i < 300; i++ {
		ts = append(ts, &simTask{Task: Task{ID: uint64(i)}})
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
	var live, parked dlist[simTask]
	ts := make([]*simTask, 5)
	for i := range ts {
		ts[i] = &simTask{Task: Task{ID: uint64(i)}, rare: new(rareState)}
		live.pushBack(&ts[i].live, ts[i])
	}
	for _, i := range []int{3, 1, 4} {
		parked.pushBack(&ts[i].rare.pollLink, ts[i])
	}
	ids := func(l *dlist[simTask], k func(*simTask) *link[simTask]) (out []uint64) {
		for x := l.front(); x != nil; x = k(x).after() {
			out = append(out, x.ID)
		}
		return out
	}
	liveOf := func(t *simTask) *link[simTask] { return &t.live }
	parkOf := func(t *simTask) *link[simTask] { return &t.rare.pollLink }
	if !live.remove(&ts[0].live) || !live.remove(&ts[2].live) || !live.remove(&ts[4].live) || live.remove(&ts[4].live) {
		t.Fatal("remove from live")
	}
	if !parked.remove(&ts[1].rare.pollLink) || parked.remove(&ts[0].rare.pollLink) {
		t.Fatal("remove from parked")
	}
	if got := ids(&live, liveOf); !slices.Equal(got, []uint64{1, 3}) || live.n != 2 || live.tail.elem != ts[3] {
		t.Fatalf("live %v (n %d)", got, live.n)
	}
	if got := ids(&parked, parkOf); !slices.Equal(got, []uint64{3, 4}) || parked.n != 2 || parked.tail.elem != ts[4] {
		t.Fatalf("parked %v (n %d)", got, parked.n)
	}
	if !ts[3].rare.pollLink.in() || ts[0].rare.pollLink.in() || ts[0].live.in() {
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
			task := spawnFn(s, ctx, "", func(ctx context.Context) {
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
	if ran != 1000 || bad.sim.panicked() == nil || fmt.Sprint(bad.sim.panicked().Value) != "boom" {
		t.Fatalf("ran %d tasks; the panicking one recorded %v", ran, bad.sim.panicked())
	}
	if len(s.idle) != 0 {
		t.Fatalf("%d idle coroutines left after Run", len(s.idle))
	}
}

// TestNewCoroutineAllocations: a task that starts with no idle coroutine to
// take allocates its record and iter.Pull's own objects (six in Go 1.26: its
// state, its closure, the runtime's coroutine, next, stop and yield), and
// nothing of the scheduler's: no coroutine object, and the body every
// coroutine runs is made once per run (see newCoro).
func TestNewCoroutineAllocations(t *testing.T) {
	// A coroutine is a goroutine: a process that never had that many
	// goroutines at once allocates their records too (the runtime's, kept
	// for the goroutines after them). Have 1,000 first.
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range 1000 {
		wg.Add(1)
		go func() { defer wg.Done(); <-release }()
	}
	close(release)
	wg.Wait()
	s := NewSched(time.Time{}, time.Time{}, false)
	var n float64
	res := s.Run(context.Background(), func(ctx context.Context) error {
		sleep := func(ctx context.Context) error { return s.Sleep(ctx, time.Hour) }
		end := func(context.Context, bool, error, any) {} // as a Group's: one for all its tasks
		gctx, cancel := s.WithCancel(ctx)                 // as a Group's: a node
		defer cancel(nil)
		n = testing.AllocsPerRun(500, func() {
			s.Spawn(gctx, "", sleep, end)
			s.Yield() // the task runs to its sleep, on a new coroutine
		})
		return nil
	})
	if res.Err != nil || res.Panic != nil {
		t.Fatalf("run: %v %v", res.Err, res.Panic)
	}
	// iter.Pull's own, measured alike: a coroutine made, resumed to its
	// first yield, and left there
	kept := make([]func() (bool, bool), 0, 501)
	pull := testing.AllocsPerRun(500, func() {
		next, _ := iter.Pull(func(yield func(bool) bool) { yield(false) })
		next()
		kept = append(kept, next)
	})
	for _, next := range kept {
		next()
	}
	if n > pull+1 {
		t.Errorf("%v allocations per task started on a new coroutine, want at most %v (its record, and iter.Pull's %v)", n, pull+1, pull)
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
			spawnFn(s, ctx, "", func(ctx context.Context) { started++ })
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

// TestAbortUnwindsARunnableCheckpoint: a task runnable in a checkpoint (its
// Yield) when the run aborts is unwound from the checkpoint: none of its
// code after it runs. The abort resumes its coroutine with the task marked
// aborting (no iter.Pull stop), and the checkpoint must see the mark. The
// task yields a bounded number of times: an abort not honoured ends it
// normally, and the test fails instead of hanging.
func TestAbortUnwindsARunnableCheckpoint(t *testing.T) {
	leaktest.Check(t)
	s := NewSched(time.Time{}, time.Time{}, false)
	after, unwound := 0, false
	res := s.Run(context.Background(), func(ctx context.Context) error {
		spawnFn(s, ctx, "", func(ctx context.Context) {
			defer func() { unwound = IsAbort(recover()) }()
			for range 1000 {
				s.Yield()
				if s.aborted.Load() {
					after++ // resumed normally by the aborting run
				}
			}
		})
		s.Yield()             // the task runs and is runnable in its Yield
		s.aborted.Store(true) // as the outer context's cancellation does
		s.Yield()
		return nil
	})
	if after != 0 || !unwound {
		t.Errorf("the yielding task ran on %d times after the abort, unwound %v; want 0, true", after, unwound)
	}
	if res.Remaining != 2 {
		t.Errorf("Remaining %d, want 2 (main and the yielding task)", res.Remaining)
	}
}

// TestEndedTaskLeavesParkedSet: a task stays in its context's parked set from
// its first park until it ends, and not after.
func TestEndedTaskLeavesParkedSet(t *testing.T) {
	leaktest.Check(t)
	s := NewSched(time.Time{}, time.Time{}, false)
	var held int
	res := s.Run(context.Background(), func(ctx context.Context) error {
		for i := 0; i < 1000; i++ {
			spawnFn(s, ctx, "", func(ctx context.Context) { s.Sleep(ctx, time.Second) })
		}
		s.Sleep(ctx, time.Minute)
		held = len(s.root.parked)
		return nil
	})
	if res.Err != nil || res.Deadlock != nil {
		t.Fatalf("Run: %+v", res)
	}
	if held != 1 {
		t.Errorf("the root's parked set holds %d tasks after 1,000 ended; want 1 (main)", held)
	}
}

// TestEndedTasksKeepFewCoroutines: tasks that end together keep at most
// maxIdle coroutines (and their stacks) for later tasks; the others end
// with their task. Until the run ended, 1,000 tasks ending at one instant
// kept 1,000 goroutines, each switched into again at the run's end to stop
// it.
func TestEndedTasksKeepFewCoroutines(t *testing.T) {
	const n = 1000
	s := NewSched(time.Time{}, time.Time{}, false)
	var idle, before, after int
	res := s.Run(context.Background(), func(ctx context.Context) error {
		before = runtime.NumGoroutine()
		for i := 0; i < n; i++ {
			spawnFn(s, ctx, "", func(ctx context.Context) { s.Sleep(ctx, time.Second) })
		}
		s.Sleep(ctx, 2*time.Second) // all of them have run and ended now
		idle = len(s.idle)
		after = runtime.NumGoroutine()
		return nil
	})
	if res.Err != nil || res.Panic != nil {
		t.Fatalf("run: %v %v", res.Err, res.Panic)
	}
	if idle > maxIdle {
		t.Errorf("%d idle coroutines kept, want at most %d", idle, maxIdle)
	}
	// goroutines of other tests' leftovers may come and go: the bound is
	// loose, and still far under n
	if grew := after - before; grew > maxIdle+50 {
		t.Errorf("%d goroutines more after %d tasks ended, want at most about %d", grew, n, maxIdle)
	}
}

// TestTimerBucketGrowsByDoubling: 100,000 timers set for one instant
// (100,000 tasks set up to sleep alike) fill one bucket, which grows to
// them having allocated about 2 entries' worth each (append's growth of a
// large slice, about 1.25x a step, allocated about 5). A node's parked
// set grows the same way (node.register).
func TestTimerBucketGrowsByDoubling(t *testing.T) {
	const n = 100_000
	tms := make([]timer, n)
	s := &Sched{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range tms {
		s.setTimer(&tms[i], 1e9)
	}
	runtime.ReadMemStats(&after)
	if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(3*n*unsafe.Sizeof(hent{})); got > bound {
		t.Errorf("%d timers in one bucket allocated %d bytes, want at most %d (3 entries' worth each)", n, got, bound)
	}
}
