package internal

import (
	"context"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"
)

// spares hands out arrays of a power-of-two capacity of at least what is
// asked, keeps only arrays it could have made, and keeps them cleared: a
// kept array holds no pointer of the run that let it go.
func TestSparesKeepClearedArrays(t *testing.T) {
	// A collection empties the pools, and a pool's Get on one P may miss
	// what a Put on another left: one P, no collection.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var p spares[*simTask]
	for _, n := range []int{1, 2, 3, 16, 17, 1000, 1 << 16} {
		s := p.get(n)
		if len(s) != 0 || cap(s) < n || cap(s)&(cap(s)-1) != 0 {
			t.Fatalf("get(%d): len %d cap %d, want an empty slice whose capacity is a power of two >= %d", n, len(s), cap(s), n)
		}
	}
	task := &simTask{}
	s := p.get(100)
	for range 100 {
		s = append(s, task)
	}
	c := cap(s)
	p.put(s)
	p.put(make([]*simTask, 0, 100)) // not a power of two: not kept
	if raceEnabled {
		return // the race detector's sync.Pool drops what it is given at random
	}
	a, ok := p.class[7].Get().(*[]*simTask)
	if !ok || cap(*a) != c {
		t.Fatalf("the array of capacity %d was not kept", c)
	}
	for i, x := range (*a)[:c] {
		if x != nil {
			t.Fatalf("kept array: entry %d still points to a task", i)
		}
	}
	if a, ok := p.class[7].Get().(*[]*simTask); ok {
		t.Fatalf("an array of capacity %d was kept, want only arrays get can make", cap(*a))
	}
	// grow doubles and gives the old array back
	g := append(p.get(16), task, task)
	g = g[:cap(g)]
	g2 := p.grow(g)
	if len(g2) != 16 || cap(g2) != 32 || g2[0] != task {
		t.Fatalf("grow: len %d cap %d, want the 16 entries in an array of 32", len(g2), cap(g2))
	}
	if a, ok := p.class[4].Get().(*[]*simTask); !ok || (*a)[0] != nil {
		t.Fatal("grow did not give the old array back, cleared")
	}
}

// A run's end gives its timer buckets' and run queue's arrays back, and a
// node's parked set of a thousand tasks or more its own once its last task
// leaves, for the next run to grow into (see spares); a run that grows
// into them works as one that makes its own.
func TestRunGivesItsArraysBack(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops what it is given at random")
	}
	// A collection empties the pools, and a pool's Get on one P may miss
	// what a Put on another left: one P, no collection.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// a bucket and the run queue grow past 2048 entries
	const n = 3000
	run := func() Result {
		s := NewSched(time.Time{}, time.Time{}, false)
		return s.Run(context.Background(), func(ctx context.Context) error {
			for range n {
				spawnFn(s, ctx, "", func(ctx context.Context) { s.Sleep(ctx, time.Second) })
			}
			return s.Sleep(ctx, time.Minute)
		})
	}
	drain := func() (timers, runq, parked int) {
		for k := range bucketSpares.class {
			for bucketSpares.class[k].Get() != nil {
				if 1<<k >= n {
					timers++
				}
			}
		}
		for k := range runqSpares.class {
			for runqSpares.class[k].Get() != nil {
				if 1<<k >= n {
					runq++
				}
			}
		}
		for k := range parkedSpares.class {
			for parkedSpares.class[k].Get() != nil {
				if 1<<k >= n {
					parked++
				}
			}
		}
		return timers, runq, parked
	}
	drain()
	if r := run(); r.Err != nil || r.At.Sub(time.Time{}) != time.Minute {
		t.Fatalf("first run: %+v", r)
	}
	timers, runq, parked := drain()
	if timers == 0 || runq == 0 || parked == 0 {
		t.Fatalf("after a run of %d sleeping tasks, %d timer arrays, %d run-queue arrays and %d parked sets' arrays of %d entries or more were kept; want each", n, timers, runq, parked, n)
	}
	run() // refills the pools
	if r := run(); r.Err != nil || r.At.Sub(time.Time{}) != time.Minute || r.Events != uint64(2*n+2) {
		t.Fatalf("a run on kept arrays: %+v", r)
	}
}

// Simulations running at once share the kept arrays' pools and nothing
// else: each one's arrays are its own while it runs (a put of an array
// still in use would mix two runs' timers or tasks). Four runs of a model
// whose timers land in several buckets, whose run queue and parked sets
// grow past their kept sizes, run side by side again and again, and each
// must end as the same run alone does.
func TestConcurrentRunsKeepTheirArrays(t *testing.T) {
	const n = 2000
	model := func(k int) (Result, []int64) {
		s := NewSched(time.Time{}, time.Time{}, false)
		var woke []int64
		r := s.Run(context.Background(), func(ctx context.Context) error {
			// two waves of tasks at home in one node (a Group's): the
			// second parks in the set the first emptied, and gave its
			// array back
			gctx, cancel := s.WithCancel(ctx)
			defer cancel(nil)
			for wave := range 2 {
				for i := range n {
					d := time.Duration(1+(i*7+k+wave)%13) * time.Millisecond
					spawnFn(s, gctx, "", func(ctx context.Context) {
						s.Sleep(ctx, d)
						if i%97 == 0 {
							woke = append(woke, s.now)
						}
						s.Sleep(ctx, d)
					})
				}
				s.Sleep(ctx, time.Second)
			}
			return nil
		})
		return r, woke
	}
	type out struct {
		r    Result
		woke []int64
	}
	want := make([]out, 4)
	for k := range want {
		want[k].r, want[k].woke = model(k)
	}
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	for range rounds {
		got := make([]out, 4)
		done := make(chan int, 4)
		for k := range got {
			go func() {
				got[k].r, got[k].woke = model(k)
				done <- k
			}()
		}
		for range got {
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("concurrent runs did not end within a minute")
			}
		}
		for k := range got {
			if got[k].r.Events != want[k].r.Events || got[k].r.At != want[k].r.At || !slices.Equal(got[k].woke, want[k].woke) {
				t.Fatalf("run %d beside three others: %d events at %v, wake-ups %v; alone: %d events at %v, wake-ups %v",
					k, got[k].r.Events, got[k].r.At, got[k].woke, want[k].r.Events, want[k].r.At, want[k].woke)
			}
		}
	}
}
