package bench

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
	"golang.org/x/sync/errgroup"
)

// ---- the floor: a callback-only event loop over a typed heap ----

type fevent struct {
	when int64
	seq  uint64
	proc int32
}

type fheap []fevent

func (h fheap) less(i, j int) bool {
	return h[i].when < h[j].when || (h[i].when == h[j].when && h[i].seq < h[j].seq)
}

func (h *fheap) push(e fevent) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *fheap) pop() fevent {
	s := *h
	e := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && s.less(c+1, c) {
			c++
		}
		if !s.less(c, i) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return e
}

// floorLoop runs n processes doing m timer events each with a callback per
// event and no task switch: the least any engine can do. With pull, each
// event also pays one bare iter.Pull round trip.
func floorLoop(n, m int, pull bool) {
	var h fheap
	left := make([]int, n)
	var seq uint64
	var next func() (struct{}, bool)
	if pull {
		var stop func()
		next, stop = iter.Pull(func(yield func(struct{}) bool) {
			for yield(struct{}{}) {
			}
		})
		defer stop()
	}
	for i := 0; i < n; i++ {
		left[i] = m
		seq++
		h.push(fevent{when: delay(i), seq: seq, proc: int32(i)})
	}
	for len(h) > 0 {
		e := h.pop()
		if pull {
			next()
		}
		if left[e.proc]--; left[e.proc] > 0 {
			seq++
			h.push(fevent{when: e.when + delay(int(e.proc)), seq: seq, proc: e.proc})
		}
	}
}

// coroutineLoop is the floor of an engine with a coroutine per process:
// the floor loop over the same heap, where each event resumes the event's
// own process, an iter.Pull coroutine that computes its next wake-up and
// yields it back. It is what every event of tock's (or any coroutine-per-task
// engine's) model costs at least: beside floor+iter.Pull's one warm
// coroutine, it pays the switch into one of n suspended stacks, cold once n
// is large, and the set-up of n coroutines that perEvent amortizes over the
// events as it does for the other rows.
func coroutineLoop(n, m int) {
	var h fheap
	nexts := make([]func() (int64, bool), n)
	stops := make([]func(), n)
	var seq uint64
	for i := 0; i < n; i++ {
		nexts[i], stops[i] = iter.Pull(func(yield func(int64) bool) {
			now := int64(0)
			for k := 0; k < m; k++ {
				now += delay(i)
				if k == m-1 {
					return
				}
				if !yield(now + delay(i)) {
					return
				}
			}
		})
		seq++
		h.push(fevent{when: delay(i), seq: seq, proc: int32(i)})
	}
	for len(h) > 0 {
		e := h.pop()
		if at, ok := nexts[e.proc](); ok {
			seq++
			h.push(fevent{when: at, seq: seq, proc: e.proc})
		}
	}
	for _, stop := range stops {
		stop()
	}
}

func delay(i int) int64 { return int64(1+i%10) * int64(time.Millisecond) }

// goroutineLoop is the same model on goroutine+channel hand-offs, the way
// other Go simulators switch processes: the scheduler wakes a process's
// goroutine through its channel and waits for it to yield back.
func goroutineLoop(n, m int) {
	var h fheap
	wake := make([]chan struct{}, n)
	back := make(chan int64)
	var seq uint64
	for i := 0; i < n; i++ {
		wake[i] = make(chan struct{})
		go func() {
			now := int64(0)
			for k := 0; k < m; k++ {
				<-wake[i]
				now += delay(i)
				if k == m-1 {
					back <- -1
					return
				}
				back <- now + delay(i)
			}
		}()
		seq++
		h.push(fevent{when: delay(i), seq: seq, proc: int32(i)})
	}
	for len(h) > 0 {
		e := h.pop()
		wake[e.proc] <- struct{}{}
		if at := <-back; at >= 0 {
			seq++
			h.push(fevent{when: e.when + delay(int(e.proc)), seq: seq, proc: e.proc})
		}
	}
}

// tockSleeps runs n simulated tasks doing m sleeps each.
func tockSleeps(n, m int) { tockSleepsWith(n, m) }

// tockSleepsWith is tockSleeps with simulation options.
func tockSleepsWith(n, m int, opts ...sim.Option) {
	sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for i := 0; i < n; i++ {
			g.Go(func(ctx context.Context) error {
				d := time.Duration(delay(i))
				for k := 0; k < m; k++ {
					tock.Sleep(ctx, d)
				}
				return nil
			})
		}
		return g.Wait()
	}, opts...)
}

// perEvent runs f(n, m) with n*m ≈ b.N events, at least 10 per task (so the
// cost of starting the tasks does not dominate), and reports the cost per
// event.
func perEvent(b *testing.B, n int, f func(n, m int)) {
	m := max(b.N/n, 10)
	b.ResetTimer()
	f(n, m)
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*m), "ns/event")
	b.ReportMetric(float64(n*m)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkSimSleep(b *testing.B) {
	for _, n := range []int{1, 1000, 100_000} {
		name := fmt.Sprintf("%dtasks", n)
		b.Run(name+"/tock", func(b *testing.B) { b.ReportAllocs(); perEvent(b, n, tockSleeps) })
		b.Run(name+"/floor", func(b *testing.B) { perEvent(b, n, func(n, m int) { floorLoop(n, m, false) }) })
		b.Run(name+"/floor+iter.Pull", func(b *testing.B) { perEvent(b, n, func(n, m int) { floorLoop(n, m, true) }) })
		b.Run(name+"/floor+coroutines", func(b *testing.B) { perEvent(b, n, coroutineLoop) })
		b.Run(name+"/goroutines", func(b *testing.B) { perEvent(b, n, goroutineLoop) })
		b.Run(name+"/synctest", func(b *testing.B) { b.ReportAllocs(); perEvent(b, n, synctestSleeps(b)) })
	}
}

// BenchmarkSimWatchdog: what the misuse detection costs a sleep event at
// 1,000 tasks. "tock" is the default (the stall watchdog on, the cheap caller
// check always on); "no-watchdog" turns the watchdog off (StallTimeout(0));
// "checked" adds the goroutine-ID checks of sim.Checked().
func BenchmarkSimWatchdog(b *testing.B) {
	b.Run("tock", func(b *testing.B) { b.ReportAllocs(); perEvent(b, 1000, tockSleeps) })
	b.Run("no-watchdog", func(b *testing.B) {
		perEvent(b, 1000, func(n, m int) { tockSleepsWith(n, m, sim.StallTimeout(0)) })
	})
	b.Run("checked", func(b *testing.B) {
		perEvent(b, 1000, func(n, m int) { tockSleepsWith(n, m, sim.Checked()) })
	})
}

// BenchmarkSimLockHandoff: two simulated tasks take turns on a Lock (each
// yields inside, so the other queues on the Lock and every acquisition is a
// FIFO hand-off; the yield itself costs no switch once the other is queued);
// per op, one acquisition. The peer row is the simulated sleep event (1,000
// tasks).
func BenchmarkSimLockHandoff(b *testing.B) {
	b.Run("tock", func(b *testing.B) {
		b.ReportAllocs()
		sim.Run(context.Background(), func(ctx context.Context) error {
			var l tock.Lock
			g := tock.NewGroup(ctx)
			for p := 0; p < 2; p++ {
				g.Go(func(ctx context.Context) error {
					for k := 0; k < b.N/2; k++ {
						l.Lock(ctx)
						tock.Yield(ctx)
						l.Unlock(ctx)
					}
					return nil
				})
			}
			return g.Wait()
		})
	})
	b.Run("sleep-event", func(b *testing.B) { perEvent(b, 1000, tockSleeps) })
}

// BenchmarkSimQueue: a producer puts, a consumer gets; per op, one item.
func BenchmarkSimQueue(b *testing.B) {
	b.Run("tock", func(b *testing.B) {
		b.ReportAllocs()
		sim.Run(context.Background(), func(ctx context.Context) error {
			q := tock.NewQueue[int]()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				for range q.All(ctx) {
				}
				return nil
			})
			for i := 0; i < b.N; i++ {
				q.Put(ctx, i)
			}
			q.Close()
			return g.Wait()
		})
	})
	b.Run("sleep-event", func(b *testing.B) { perEvent(b, 1000, tockSleeps) })
}

// BenchmarkSimChannel16: one publisher, 16 subscribers; per op, one
// delivery (a Put reaches all 16).
func BenchmarkSimChannel16(b *testing.B) {
	b.Run("tock", func(b *testing.B) {
		b.ReportAllocs()
		sim.Run(context.Background(), func(ctx context.Context) error {
			ch := tock.NewChannel[int]()
			g := tock.NewGroup(ctx)
			for s := 0; s < 16; s++ {
				sub := ch.Subscribe()
				g.Go(func(ctx context.Context) error {
					for range sub.All(ctx) {
					}
					return nil
				})
			}
			for i := 0; i < max(b.N/16, 1); i++ {
				ch.Put(ctx, i)
			}
			ch.Close()
			return g.Wait()
		})
	})
	b.Run("sleep-event", func(b *testing.B) { perEvent(b, 1000, tockSleeps) })
}

// BenchmarkSimSpawn: a Group starts and finishes short tasks; per op, one
// task. The peer is errgroup with real goroutines.
func BenchmarkSimSpawn(b *testing.B) {
	b.Run("tock", func(b *testing.B) {
		b.ReportAllocs()
		sim.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			for i := 0; i < b.N; i++ {
				g.Go(func(ctx context.Context) error { return nil })
			}
			return g.Wait()
		})
	})
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		var g errgroup.Group
		for i := 0; i < b.N; i++ {
			g.Go(func() error { return nil })
		}
		g.Wait()
	})
}

// BenchmarkSimSetup100k: the set-up of 100,000 tasks that each sleep once
// (so all of them exist at once); per op, one task: spawned, run to its
// sleep, woken and ended. The peer is the same under testing/synctest, and
// the iter.Pull floor creates 100,000 coroutines, resumes each to its first
// yield, then to its end.
//
// Each row runs in a fresh process (see measureSetup): the first 100,000
// goroutines a process makes (a coroutine is one) allocate their records
// and stacks, which the runtime keeps for the goroutines after them, and
// the collector's pace follows the heap the benchmarks before left: in one
// process, whichever row ran first paid for all three, and each row's time
// moved by up to a half with what ran before it. The child runs the row
// once untimed (warm, as every simulation but a process's first is), then
// times setupRuns runs of it.
func BenchmarkSimSetup100k(b *testing.B) {
	for _, row := range []string{"tock", "iter.Pull-floor", "synctest"} {
		b.Run(row, func(b *testing.B) {
			var ns, by, allocs float64
			k := 0
			for b.Loop() {
				r := measureSetup(b, row)
				ns, by, allocs = ns+r[0], by+r[1], allocs+r[2]
				k++
			}
			b.ReportMetric(ns/float64(k), "ns/task")
			b.ReportMetric(by/float64(k), "B/task")
			b.ReportMetric(allocs/float64(k), "allocs/task")
		})
	}
}

const (
	setupTasks = 100_000
	setupRuns  = 3
)

// setupRows are BenchmarkSimSetup100k's rows: one run of the model.
var setupRows = map[string]func(tb testing.TB){
	"tock": func(testing.TB) {
		sim.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			for i := 0; i < setupTasks; i++ {
				g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, time.Second) })
			}
			return g.Wait()
		})
	},
	"iter.Pull-floor": func(testing.TB) { pullFloor(setupTasks, func() {}) },
	"synctest": func(tb testing.TB) {
		inBubble(tb, func() {
			var wg sync.WaitGroup
			wg.Add(setupTasks)
			for i := 0; i < setupTasks; i++ {
				go func() { defer wg.Done(); time.Sleep(time.Second) }()
			}
			wg.Wait()
		})
	},
}

// measureSetup runs a row of BenchmarkSimSetup100k in a fresh process (this
// test binary again, running TestSetupRow) and returns its time, heap bytes
// and allocations per task, the median of its timed runs.
func measureSetup(b *testing.B, row string) [3]float64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSetupRow$", "-test.bench=^$", "-test.count=1", "-test.v", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), "TOCK_SETUPROW="+row)
	out, err := cmd.CombinedOutput()
	var r [3]float64
	i := bytes.Index(out, []byte("setuprow "))
	if err == nil && i >= 0 {
		_, err = fmt.Sscanf(string(out[i:]), "setuprow %g %g %g", &r[0], &r[1], &r[2])
	}
	if err != nil || i < 0 {
		b.Fatalf("%s: child run: %v\n%s", row, err, out)
	}
	return r
}

// TestSetupRow is BenchmarkSimSetup100k's child process (see measureSetup);
// it skips unless run as one. It prints the median of setupRuns timed runs
// of the row, after one untimed one: ns, heap bytes and allocations per
// task.
func TestSetupRow(t *testing.T) {
	run := setupRows[os.Getenv("TOCK_SETUPROW")]
	if run == nil {
		t.Skip("BenchmarkSimSetup100k's child process")
	}
	run(t) // warm: see BenchmarkSimSetup100k
	var ns, by, al []float64
	for range setupRuns {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		run(t)
		d := time.Since(start)
		runtime.ReadMemStats(&after)
		ns = append(ns, float64(d.Nanoseconds())/setupTasks)
		by = append(by, float64(after.TotalAlloc-before.TotalAlloc)/setupTasks)
		al = append(al, float64(after.Mallocs-before.Mallocs)/setupTasks)
	}
	med := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
	fmt.Printf("setuprow %g %g %g\n", med(ns), med(by), med(al))
}

// BenchmarkSimMemory: n simulated tasks all asleep at once; reports the heap
// and stacks per task and the peak. 1,000,000 tasks must fit in 4 GiB. The
// peers at 100,000: a goroutine parked on a channel, a bare iter.Pull
// coroutine (the floor of a coroutine per task), and a goroutine asleep in a
// synctest bubble.
//
// Each row runs in a fresh process (see measureMem): in one process, a row
// would reuse the g's of the goroutines the rows before it ended (the runtime
// keeps them), and its new stacks would start at a size the runtime picks
// from the stacks its last GC scanned, whichever goroutines those were; both
// moved a row's figure by up to half of it, depending on the order and the
// iteration.
func BenchmarkSimMemory(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, row := range []string{"tock", "parked-goroutine", "iter.Pull-floor", "synctest"} {
			if n > 100_000 && row != "tock" {
				continue
			}
			b.Run(fmt.Sprintf("%dsleeping/%s", n, row), func(b *testing.B) {
				for b.Loop() {
					measureMem(b, row, n)
				}
			})
		}
	}
}

// memRows are BenchmarkSimMemory's rows: each runs n tasks and calls ready
// once all of them are parked.
var memRows = map[string]func(tb testing.TB, n int, ready func()){
	// The measurement (a full GC inside a task) holds the scheduler for
	// seconds at 1,000,000 tasks, which the stall watchdog's default limit
	// may take for a stall: its goroutine dump of every task then lands in
	// the figure. The run gets a limit far above that, and a run that fails
	// fails the benchmark.
	"tock": func(tb testing.TB, n int, ready func()) {
		err := sim.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			for i := 0; i < n; i++ {
				g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, time.Hour) })
			}
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, time.Minute) // every other task is asleep now
				ready()
				return nil
			})
			return g.Wait()
		}, sim.StallTimeout(time.Hour))
		if err != nil {
			tb.Fatal(err)
		}
	},
	"parked-goroutine": func(tb testing.TB, n int, ready func()) {
		ch := make(chan struct{})
		var wg sync.WaitGroup
		var parked sync.WaitGroup
		wg.Add(n)
		parked.Add(n)
		for i := 0; i < n; i++ {
			go func() { defer wg.Done(); parked.Done(); <-ch }()
		}
		parked.Wait()
		for i := 0; i < 10; i++ {
			runtime.Gosched() // let the last ones reach the receive
		}
		ready()
		close(ch)
		wg.Wait()
	},
	// n iter.Pull coroutines, each suspended in its first yield, with
	// nothing else
	"iter.Pull-floor": func(tb testing.TB, n int, ready func()) { pullFloor(n, ready) },
	"synctest": func(tb testing.TB, n int, ready func()) {
		inBubble(tb, func() {
			var wg sync.WaitGroup
			wg.Add(n)
			for i := 0; i < n; i++ {
				go func() { defer wg.Done(); time.Sleep(time.Hour) }()
			}
			time.Sleep(time.Minute) // every other goroutine is asleep now
			ready()
			wg.Wait()
		})
	},
}

// measureMem runs a row of BenchmarkSimMemory with n tasks in a fresh
// process (this test binary again, running TestMemRow) and reports the heap
// and stacks in use while its tasks are all parked, per task and in all.
func measureMem(b *testing.B, row string, n int) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemRow$", "-test.bench=^$", "-test.count=1", "-test.v", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), "TOCK_MEMROW="+row, "TOCK_MEMROW_N="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	i := bytes.Index(out, []byte("memrow used "))
	var used float64
	if err == nil && i >= 0 {
		_, err = fmt.Sscanf(string(out[i:]), "memrow used %g", &used)
	}
	if err != nil || i < 0 {
		b.Fatalf("%s: child run: %v\n%s", row, err, out)
	}
	b.ReportMetric(used/float64(n), "B/task")
	b.ReportMetric(used/(1<<20), "MiB-peak")
}

// TestMemRow is BenchmarkSimMemory's child process (see measureMem); it
// skips unless run as one. It prints the heap and stacks in use, live after
// a GC, while the row's tasks are all parked, less what was in use before.
func TestMemRow(t *testing.T) {
	row, n := os.Getenv("TOCK_MEMROW"), 0
	if row == "" {
		t.Skip("BenchmarkSimMemory's child process")
	}
	n, err := strconv.Atoi(os.Getenv("TOCK_MEMROW_N"))
	if err != nil || memRows[row] == nil {
		t.Fatalf("row %q, n %q", row, os.Getenv("TOCK_MEMROW_N"))
	}
	var before, during runtime.MemStats
	measured := false
	runtime.GC()
	runtime.ReadMemStats(&before)
	memRows[row](t, n, func() {
		runtime.GC() // what is live, not garbage yet uncollected
		runtime.ReadMemStats(&during)
		measured = true
	})
	if !measured {
		t.Fatal("the row did not measure")
	}
	fmt.Printf("memrow used %.0f\n", float64(during.HeapInuse+during.StackInuse)-float64(before.HeapInuse+before.StackInuse))
}

// pullFloor starts n iter.Pull coroutines, resumes each to its first yield,
// calls ready while all are suspended, then runs each to its end.
func pullFloor(n int, ready func()) {
	nexts := make([]func() (struct{}, bool), n)
	for i := range nexts {
		next, _ := iter.Pull(func(yield func(struct{}) bool) { yield(struct{}{}) })
		next()
		nexts[i] = next
	}
	ready()
	for _, next := range nexts {
		next()
	}
}

// BenchmarkSimExplore: what a Random schedule costs against a FIFO run, per
// event, on two models: 1,000 tasks sleeping (about 100 runnable at each
// instant, so nearly every pick is a choice among many) and 8 tasks yielding
// to each other (every event is a checkpoint choice and a pick). The target
// is random/fifo <= 1.3 on each model, and the same for pct3, PCT(3), which
// keeps the runnable tasks' priorities in a heap. benchtable prints the
// ratios against their bound.
func BenchmarkSimExplore(b *testing.B) {
	for _, s := range []struct {
		name string
		opts []sim.Option
	}{{"fifo", nil}, {"random", []sim.Option{sim.Random()}}, {"pct3", []sim.Option{sim.PCT(3)}}} {
		b.Run("sleep1000/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			perEvent(b, 1000, func(n, m int) { tockSleepsWith(n, m, s.opts...) })
		})
		b.Run("yield8/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			perEvent(b, 8, func(n, m int) {
				sim.Run(context.Background(), func(ctx context.Context) error {
					g := tock.NewGroup(ctx)
					for i := 0; i < n; i++ {
						g.Go(func(ctx context.Context) error {
							for k := 0; k < m; k++ {
								tock.Yield(ctx)
							}
							return nil
						})
					}
					return g.Wait()
				}, s.opts...)
			})
		})
	}
}
