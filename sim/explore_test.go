package sim_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal"
	"github.com/tockgo/tock/internal/leaktest"
	"github.com/tockgo/tock/sim"
)

// fakeTB records what sim.Test reports instead of failing the real test.
type fakeTB struct {
	testing.TB
	failed bool
	msg    string
	logs   []string
}

func (f *fakeTB) Fatal(args ...any) { f.failed, f.msg = true, fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}
func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Name() string { return "TestFake/sub" }

func scheduleError(t *testing.T, err error) *sim.ScheduleError {
	t.Helper()
	var se *sim.ScheduleError
	if !errors.As(err, &se) {
		t.Fatalf("want a *sim.ScheduleError, got %T: %v", err, err)
	}
	return se
}

// checkKind checks that err is the kind of failure b says.
func checkKind(t *testing.T, b bug, err error) {
	t.Helper()
	var de *sim.DeadlockError
	var pe *tock.PanicError
	switch isDL, isP := errors.As(err, &de), errors.As(err, &pe); {
	case b.kind == "deadlock" && !isDL, b.kind == "panic" && !isP, b.kind == "error" && (isDL || isP):
		t.Fatalf("%s: want a failure of kind %s, got %T: %v", b.name, b.kind, err, err)
	}
}

// sameFailure compares two reports of one schedule: the same seed, the same
// trace, the same error (a panic's value: its stack names goroutines).
func sameFailure(t *testing.T, what string, a, b *sim.ScheduleError) {
	t.Helper()
	if a.Seed != b.Seed || !slices.Equal(a.Trace, b.Trace) || a.Events != b.Events {
		t.Fatalf("%s: not the same schedule:\n%v\n---\n%v", what, a, b)
	}
	var pa, pb *tock.PanicError
	if errors.As(a.Err, &pa) && errors.As(b.Err, &pb) {
		if fmt.Sprint(innermost(pa).Value) != fmt.Sprint(innermost(pb).Value) {
			t.Fatalf("%s: panics differ: %v / %v", what, innermost(pa).Value, innermost(pb).Value)
		}
		return
	}
	if a.Err.Error() != b.Err.Error() {
		t.Fatalf("%s: errors differ:\n%v\n---\n%v", what, a, b)
	}
}

func innermost(p *tock.PanicError) *tock.PanicError {
	for {
		q, ok := p.Value.(*tock.PanicError)
		if !ok {
			return p
		}
		p = q
	}
}

func TestCataloguePassesFIFO(t *testing.T) {
	leaktest.Check(t)
	if len(catalogue) < 8 {
		t.Fatalf("the catalogue has %d bugs, want at least 8", len(catalogue))
	}
	for _, b := range catalogue {
		if err := sim.Run(context.Background(), b.main, b.opts...); err != nil {
			t.Errorf("%s: the FIFO run fails: %v", b.name, err)
		}
		f := &fakeTB{TB: t}
		sim.Test(f, b.main, b.opts...)
		if f.failed {
			t.Errorf("%s: sim.Test without exploration fails: %s", b.name, f.msg)
		}
	}
}

func TestCatalogueExploreFinds(t *testing.T) {
	leaktest.Check(t)
	for _, b := range catalogue {
		for _, st := range []struct {
			name string
			opt  sim.Option
		}{{"random", sim.Random()}, {"pct", sim.PCT(3)}} {
			t.Run(b.name+"/"+st.name, func(t *testing.T) {
				opts := append(slices.Clip(b.opts), st.opt, sim.Schedules(1000))
				se := scheduleError(t, sim.Explore(context.Background(), b.main, opts...))
				checkKind(t, b, se.Err)
				if se.Schedule < 2 {
					t.Fatalf("found at schedule %d; schedule 1 is FIFO, which passes", se.Schedule)
				}
				if !strings.HasPrefix(se.Seed, "tock1:") || len(se.Trace) == 0 || se.Events < uint64(len(se.Trace)) {
					t.Fatalf("bad report: seed %q, %d trace lines, %d events", se.Seed, len(se.Trace), se.Events)
				}
				if !strings.Contains(se.Error(), "sim.Replay(\""+se.Seed+"\")") || !strings.Contains(se.Error(), se.Trace[len(se.Trace)-1]) {
					t.Fatalf("the message lacks the replay line or the trace:\n%v", se)
				}
				// replay: Explore and Run follow exactly that schedule
				again := scheduleError(t, sim.Explore(context.Background(), b.main, append(slices.Clip(b.opts), sim.Replay(se.Seed))...))
				sameFailure(t, "Explore(Replay)", se, again)
				if again.Schedule != 1 {
					t.Fatalf("a replay ran %d schedules", again.Schedule)
				}
				runErr := func() (err error) {
					defer func() {
						if r := recover(); r != nil {
							err = r.(error)
						}
					}()
					return sim.Run(context.Background(), b.main, append(slices.Clip(b.opts), sim.Replay(se.Seed))...)
				}()
				checkKind(t, b, runErr)
				if b.kind != "panic" && runErr.Error() != se.Err.Error() {
					t.Fatalf("Run(Replay) returned %v, want %v", runErr, se.Err)
				}
				// TOCK_SEED in Test replays it too
				t.Setenv("TOCK_SEED", se.Seed)
				f := &fakeTB{TB: t}
				sim.Test(f, b.main, b.opts...)
				if !f.failed || !strings.Contains(f.msg, strings.Join(se.Trace, "\n\t")) || !strings.Contains(f.msg, "rerun: TOCK_SEED="+se.Seed+" go test -run '^TestFake$/^sub$'") {
					t.Fatalf("Test with TOCK_SEED: failed %v:\n%s", f.failed, f.msg)
				}
				if strings.Contains(f.msg, "not deterministic") {
					t.Fatalf("a deterministic program reported as not deterministic:\n%s", f.msg)
				}
			})
		}
	}
}

// The same options give the same report, whatever the number of workers:
// the lowest-numbered failing schedule.
func TestExploreDeterministic(t *testing.T) {
	leaktest.Check(t)
	b := catalogue[2] // lost-update
	var first *sim.ScheduleError
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4, 1} {
		runtime.GOMAXPROCS(procs)
		for _, base := range []uint64{1, 2, 3} {
			se := scheduleError(t, sim.Explore(context.Background(), b.main, sim.BaseSeed(base), sim.Schedules(500)))
			if base != 1 {
				continue
			}
			if first == nil {
				first = se
				continue
			}
			if se.Schedule != first.Schedule {
				t.Fatalf("GOMAXPROCS %d: schedule %d, with 1: %d", procs, se.Schedule, first.Schedule)
			}
			sameFailure(t, fmt.Sprint("GOMAXPROCS ", procs), first, se)
		}
	}
}

// Schedule numbers are reported by the lowest failing one, and every lower
// schedule passed: a program that fails only on schedules whose first pick
// is not FIFO's is found at the first such schedule under a single worker
// and under several.
func TestExploreReportsLowestFailing(t *testing.T) {
	leaktest.Check(t)
	var calls atomic.Int64
	main := func(ctx context.Context) error {
		calls.Add(1)
		var order []int
		g := tock.NewGroup(ctx)
		for i := range 4 {
			g.Go(func(ctx context.Context) error { order = append(order, i); return nil })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if order[0] == 3 && order[1] == 2 {
			return errors.New("reversed start")
		}
		return nil
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var at []int
	for _, procs := range []int{1, 3} {
		runtime.GOMAXPROCS(procs)
		var st sim.ExploreStats
		se := scheduleError(t, sim.Explore(context.Background(), main, sim.Schedules(2000), sim.Report(&st)))
		at = append(at, se.Schedule)
		if st.Failed != se.Schedule || st.Schedules < se.Schedule || st.Workers != procs || st.PerSecond() <= 0 {
			t.Fatalf("stats %+v for schedule %d", st, se.Schedule)
		}
	}
	if at[0] != at[1] {
		t.Fatalf("lowest failing schedule: %d with 1 worker, %d with 3", at[0], at[1])
	}
}

func TestExplorePassingProgram(t *testing.T) {
	leaktest.Check(t)
	var runs atomic.Int64
	var st sim.ExploreStats
	err := sim.Explore(context.Background(), func(ctx context.Context) error {
		runs.Add(1)
		var l tock.Lock
		n := 0
		g := tock.NewGroup(ctx)
		for range 3 {
			g.Go(func(ctx context.Context) error {
				if err := l.Lock(ctx); err != nil {
					return err
				}
				defer l.Unlock(ctx)
				v := n
				if err := tock.Yield(ctx); err != nil {
					return err
				}
				n = v + 1
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if n != 3 {
			return fmt.Errorf("n = %d", n)
		}
		return nil
	}, sim.Schedules(300), sim.Report(&st))
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 300 || st.Schedules != 300 || st.Failed != 0 || st.ShrinkRuns != 0 {
		t.Fatalf("%d runs, stats %+v; want 300 schedules", runs.Load(), st)
	}
}

// Shrinking: a bug that needs one deviation, found by a schedule with many,
// is reported with exactly the deviations it needs, and dropping any of them
// makes it pass.
func TestExploreShrinks(t *testing.T) {
	leaktest.Check(t)
	// ten tasks yield and log; the bug: task 7 runs before task 2 at least
	// once. Random schedules deviate at nearly every point.
	main := func(ctx context.Context) error {
		var order []int
		g := tock.NewGroup(ctx)
		for i := range 10 {
			g.Go(func(ctx context.Context) error {
				for range 3 {
					if err := tock.Yield(ctx); err != nil {
						return err
					}
				}
				order = append(order, i)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if slices.Index(order, 7) < slices.Index(order, 2) {
			return errors.New("7 before 2")
		}
		return nil
	}
	var st sim.ExploreStats
	se := scheduleError(t, sim.Explore(context.Background(), main, sim.Report(&st)))
	if st.Deviations < 5 {
		t.Fatalf("the schedule found has %d deviations; the test wants a long one", st.Deviations)
	}
	if st.Shrunk >= st.Deviations || st.Shrunk > 3 {
		t.Fatalf("shrunk %d -> %d deviations", st.Deviations, st.Shrunk)
	}
	if !strings.Contains(se.Error(), fmt.Sprintf("(%d deviation(s) from FIFO, shrunk from %d)", st.Shrunk, st.Deviations)) {
		t.Fatalf("message: %v", se)
	}
	checkOneMinimal(t, main, se)
}

// Test's own check: the reported schedule fails; a run that lacks any one
// of its deviations does not fail the same way.
func checkOneMinimal(t *testing.T, main func(ctx context.Context) error, se *sim.ScheduleError) {
	t.Helper()
	devs := sim.SeedDeviations(se.Seed)
	for i := range devs {
		cand := slices.Delete(slices.Clone(devs), i, i+1)
		err := sim.Run(context.Background(), main, sim.Replay(sim.EncodeSeed(0, cand)))
		if err != nil && err.Error() == se.Err.Error() {
			t.Fatalf("dropping deviation %d of %v still fails the same way: not 1-minimal", i, devs)
		}
	}
}

// The trace lists the failing run's last events: the instant, the task and
// how its step ended, with the deviations marked.
func TestExploreTrace(t *testing.T) {
	leaktest.Check(t)
	se := scheduleError(t, sim.Explore(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		var l tock.Lock
		first := ""
		for _, name := range []string{"a", "b"} {
			g.Go(func(ctx context.Context) error {
				if err := tock.Sleep(ctx, time.Second); err != nil {
					return err
				}
				if err := l.Lock(ctx); err != nil {
					return err
				}
				if first == "" {
					first = name
				}
				return tock.Sleep(ctx, time.Second) // Unlock forgotten: b waits forever once a is done
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if first == "b" {
			return errors.New("b first")
		}
		return nil
	}, sim.Schedules(100)))
	// FIFO deadlocks (a holds the lock forever): schedule 1 fails, with no deviation
	if se.Schedule != 1 || !strings.Contains(se.Error(), "(0 deviation(s) from FIFO)") {
		t.Fatalf("%v", se)
	}
	want := []string{
		"+0s main: waits on Group.Wait",
		"+0s task 2: waits on Sleep",
		"+0s task 3: waits on Sleep",
		"+1s task 2: waits on Sleep",
		"+1s task 3: waits on Lock.Lock",
		"+2s task 2: returns",
	}
	if !slices.Equal(se.Trace, want) || se.Events != 6 {
		t.Fatalf("trace (%d events):\n%s\nwant:\n%s", se.Events, strings.Join(se.Trace, "\n"), strings.Join(want, "\n"))
	}
}

// The trace keeps the last 32 events.
func TestExploreTraceTail(t *testing.T) {
	leaktest.Check(t)
	se := scheduleError(t, sim.Explore(context.Background(), func(ctx context.Context) error {
		for i := range 100 {
			if err := tock.Sleep(ctx, time.Second); err != nil {
				return err
			}
			_ = i
		}
		return errors.New("done")
	}, sim.Schedules(1)))
	// sleeps alone go on without a switch: 1 event each, then the return
	if len(se.Trace) != 1 || se.Events != 1 {
		t.Fatalf("%d lines, %d events: %v", len(se.Trace), se.Events, se.Trace)
	}
	se = scheduleError(t, sim.Explore(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			for range 50 {
				if err := tock.Yield(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		for range 50 {
			if err := tock.Yield(ctx); err != nil {
				return err
			}
		}
		g.Wait()
		return errors.New("done")
	}, sim.Schedules(1)))
	if len(se.Trace) != 32 || se.Events <= 100 || se.Trace[31] != "+0s main: returns" {
		t.Fatalf("%d lines, %d events: %v", len(se.Trace), se.Events, se.Trace)
	}
}

func TestExploreCancelled(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int64
	err := sim.Explore(ctx, func(ctx context.Context) error {
		if runs.Add(1) == 20 {
			cancel()
		}
		return tock.Yield(ctx)
	}, sim.Schedules(1_000_000))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := runs.Load(); n > 1000 {
		t.Fatalf("%d runs after the cancel", n)
	}
}

// A panic in main is a failure (not a crash of the explorer), shrunk and
// replayed like any other.
func TestExplorePanic(t *testing.T) {
	leaktest.Check(t)
	se := scheduleError(t, sim.Explore(context.Background(), func(ctx context.Context) error {
		var m map[string]int
		x := 0
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { x = 1; return nil })
		if err := tock.Yield(ctx); err != nil {
			return err
		}
		if x == 0 {
			m["boom"] = 1
		}
		return g.Wait()
	}))
	var pe *tock.PanicError
	if !errors.As(se.Err, &pe) || !strings.Contains(fmt.Sprint(pe.Value), "nil map") {
		t.Fatalf("%v", se)
	}
	if !slices.ContainsFunc(se.Trace, func(l string) bool {
		return strings.HasPrefix(l, "+0s main: panics: assignment to entry in nil map")
	}) {
		t.Fatalf("no panic event in %q", se.Trace)
	}
}

// Options that make no sense panic at the call, naming the rule.
func TestExploreOptionMisuse(t *testing.T) {
	for _, c := range []struct {
		f    func()
		want string
	}{
		{func() { sim.Schedules(0) }, "tock/sim: Schedules: n must be at least 1"},
		{func() { sim.PCT(0) }, "tock/sim: PCT: depth must be at least 1"},
		{func() { sim.Jitter(-1) }, "tock/sim: Jitter: negative duration"},
		{func() { sim.Replay("nope") }, `tock/sim: Replay: malformed seed "nope"`},
		{func() { sim.Replay("tock1:!!") }, "tock/sim: Replay: malformed seed"},
		{func() { sim.Replay("tock1:AAEAAA") }, "deviation 1 is truncated or out of range"}, // choice 0
		{func() { sim.Replay("tock1:AAEA") }, "deviation 1 is truncated"},
		{func() { sim.Replay("tock1:AAAA") }, "1 trailing byte"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, c.want) {
					t.Errorf("panic %v, want %q", r, c.want)
				}
			}()
			c.f()
		}()
	}
	t.Setenv("TOCK_SEED", "garbage")
	f := &fakeTB{TB: t}
	sim.Test(f, func(ctx context.Context) error { return nil })
	if !f.failed || !strings.Contains(f.msg, "tock/sim: TOCK_SEED: malformed seed \"garbage\"") {
		t.Fatalf("Test with a bad TOCK_SEED: %v %q", f.failed, f.msg)
	}
}

func TestTestExplores(t *testing.T) {
	leaktest.Check(t)
	b := catalogue[2] // lost-update
	f := &fakeTB{TB: t}
	sim.Test(f, b.main) // FIFO only: passes
	if f.failed || len(f.logs) != 0 {
		t.Fatalf("FIFO Test: %v %q %q", f.failed, f.msg, f.logs)
	}
	for _, o := range []sim.Option{sim.Schedules(100), sim.Random(), sim.PCT(2)} {
		f = &fakeTB{TB: t}
		sim.Test(f, b.main, o)
		if !f.failed || !strings.Contains(f.msg, "lost-update: counter is 1") || !strings.Contains(f.msg, "rerun: TOCK_SEED=tock1:") {
			t.Fatalf("Test did not explore: %v %q", f.failed, f.msg)
		}
		if len(f.logs) != 1 || !strings.Contains(f.logs[0], "runs/s") {
			t.Fatalf("logs %q", f.logs)
		}
	}
	f = &fakeTB{TB: t}
	sim.Test(f, func(ctx context.Context) error { return nil }, sim.Schedules(10))
	if f.failed || len(f.logs) != 1 || !strings.HasPrefix(f.logs[0], "tock/sim: explored 10 schedules") {
		t.Fatalf("passing Test: %v %q %q", f.failed, f.msg, f.logs)
	}
}

// A program that depends on state shared between runs does not replay:
// Test says so, with the first event at which the runs diverge.
func TestTestReportsNonDeterminism(t *testing.T) {
	leaktest.Check(t)
	var calls atomic.Int64
	f := &fakeTB{TB: t}
	sim.Test(f, func(ctx context.Context) error {
		n := int(calls.Add(1))
		g := tock.NewGroup(ctx)
		for range n {
			g.Go(func(ctx context.Context) error { return nil })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		return errors.New("always fails")
	})
	if !f.failed || !strings.Contains(f.msg, "the failing schedule does not replay: the program is not deterministic") ||
		!strings.Contains(f.msg, "first diverging event, #") {
		t.Fatalf("%v:\n%s", f.failed, f.msg)
	}
	// one that fails only the first time: Explore itself notices
	calls.Store(0)
	f = &fakeTB{TB: t}
	sim.Test(f, func(ctx context.Context) error {
		if calls.Add(1) == 1 {
			return errors.New("once")
		}
		return nil
	})
	if !f.failed || !strings.Contains(f.msg, "did not fail the same way again when replayed: the program is not deterministic") {
		t.Fatalf("%v:\n%s", f.failed, f.msg)
	}
}

// A ScheduleError's seed replays in a fresh process: the child prints the
// report, which is the parent's.
func TestReplayFreshProcess(t *testing.T) {
	if name := os.Getenv("TOCK_REPLAY_CHILD"); name != "" {
		for _, b := range catalogue {
			if b.name == name {
				var se *sim.ScheduleError
				if errors.As(sim.Explore(context.Background(), b.main, sim.Replay(os.Getenv("TOCK_SEED"))), &se) {
					fmt.Printf("<<<%s %d %v\n%s>>>", se.Seed, se.Events, se.Err, strings.Join(se.Trace, "\n"))
				}
			}
		}
		return
	}
	leaktest.Check(t)
	for _, name := range []string{"lost-update", "lock-order", "limiter-leak"} {
		i := slices.IndexFunc(catalogue, func(b bug) bool { return b.name == name })
		b := catalogue[i]
		se := scheduleError(t, sim.Explore(context.Background(), b.main, sim.BaseSeed(7)))
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplayFreshProcess$")
		cmd.Env = append(os.Environ(), "TOCK_REPLAY_CHILD="+name, "TOCK_SEED="+se.Seed)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: child: %v\n%s", name, err, out)
		}
		s := string(out)
		lo, hi := strings.Index(s, "<<<"), strings.Index(s, ">>>")
		if lo < 0 || hi < lo {
			t.Fatalf("%s: child printed %q", name, s)
		}
		want := fmt.Sprintf("%s %d %v\n%s", se.Seed, se.Events, se.Err, strings.Join(se.Trace, "\n"))
		if got := s[lo+3 : hi]; got != want {
			t.Fatalf("%s: the fresh process reports\n%s\nwant\n%s", name, got, want)
		}
	}
}

// Run with Random follows one schedule drawn from the base seed: the same
// seed, the same run; other seeds, other orders.
func TestRunRandomSchedule(t *testing.T) {
	leaktest.Check(t)
	model := func(out *[]string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			q := tock.NewQueue[int]()
			for i := range 4 {
				g.Go(func(ctx context.Context) error {
					for j := range 3 {
						*out = append(*out, fmt.Sprintf("%d.%d@%v", i, j, tock.Now(ctx).Sub(sim.DefaultStart)))
						if err := q.Put(ctx, j); err != nil {
							return err
						}
						if err := tock.Sleep(ctx, time.Duration(j)*time.Millisecond); err != nil {
							return err
						}
					}
					return nil
				})
			}
			return g.Wait()
		}
	}
	run := func(opts ...sim.Option) string {
		var out []string
		if err := sim.Run(context.Background(), model(&out), opts...); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, " ")
	}
	fifo := run()
	if fifo != run(sim.Schedules(5)) || fifo != run(sim.BaseSeed(3)) || fifo != run(sim.Replay("tock1:AAA")) {
		t.Fatal("options that choose nothing changed a plain Run")
	}
	distinct := map[string]bool{}
	for seed := range uint64(8) {
		a := run(sim.Random(), sim.BaseSeed(seed))
		if b := run(sim.Random(), sim.BaseSeed(seed)); a != b {
			t.Fatalf("seed %d: two runs differ:\n%s\n%s", seed, a, b)
		}
		if p := run(sim.PCT(2), sim.BaseSeed(seed)); p != run(sim.PCT(2), sim.BaseSeed(seed)) {
			t.Fatalf("PCT seed %d: two runs differ", seed)
		}
		distinct[a] = true
	}
	if len(distinct) < 4 {
		t.Fatalf("8 seeds gave %d orders", len(distinct))
	}
}

// Random's pick is uniform among every runnable task, whichever places the
// picks out of turn left the others in: eight tasks woken at once run in
// every order, each one at each position about as often as the others, over
// the base seeds. The same holds for eight tasks whose timers are due at
// the same instant (the timers' order is drawn too).
func TestRandomPickCoversEveryTask(t *testing.T) {
	const n, runs = 8, 4000
	for _, kind := range []string{"woken", "timers"} {
		var count [n][n]int // count[position][task]
		firsts := map[string]bool{}
		for seed := range uint64(runs) {
			var order []int
			err := sim.Run(context.Background(), func(ctx context.Context) error {
				g := tock.NewGroup(ctx)
				var ev tock.Event
				for i := range n {
					g.Go(func(ctx context.Context) error {
						var err error
						if kind == "woken" {
							err = ev.Wait(ctx)
						} else {
							err = tock.Sleep(ctx, time.Second)
						}
						order = append(order, i)
						return err
					})
				}
				tock.Sleep(ctx, time.Millisecond) // every task is waiting
				ev.Set()
				return g.Wait()
			}, sim.Random(), sim.BaseSeed(seed))
			if err != nil {
				t.Fatal(err)
			}
			if len(order) != n {
				t.Fatalf("%s, seed %d: %d tasks ran", kind, seed, len(order))
			}
			for pos, task := range order {
				count[pos][task]++
			}
			firsts[fmt.Sprint(order[:3])] = true
		}
		want := runs / n
		for pos := range n {
			for task := range n {
				if c := count[pos][task]; c < want*3/4 || c > want*5/4 {
					t.Errorf("%s: task %d ran at position %d in %d of %d runs, want about %d", kind, task, pos, c, runs, want)
				}
			}
		}
		if len(firsts) != n*(n-1)*(n-2) {
			t.Errorf("%s: %d of the %d possible first three", kind, len(firsts), n*(n-1)*(n-2))
		}
	}
}

// The choice points never touch the clock nor a primitive's contract: under
// every schedule, each task's sleeps end at exact instants, a Lock is handed
// to its waiters in the order they queued, and a Queue's items go to getters
// in the order they arrived, each exactly once.
func TestExploreKeepsContracts(t *testing.T) {
	leaktest.Check(t)
	err := sim.Explore(context.Background(), func(ctx context.Context) error {
		var l tock.Lock
		var queued, got []int
		q := tock.NewQueue[int]()
		var received []int
		g := tock.NewGroup(ctx)
		if err := l.Lock(ctx); err != nil {
			return err
		}
		for i := range 4 {
			g.Go(func(ctx context.Context) error {
				start := tock.Now(ctx)
				if err := tock.Sleep(ctx, time.Duration(i+1)*time.Millisecond); err != nil {
					return err
				}
				if d := tock.Now(ctx).Sub(start); d != time.Duration(i+1)*time.Millisecond {
					return fmt.Errorf("task %d slept %v", i, d)
				}
				if err := q.Put(ctx, i); err != nil {
					return err
				}
				queued = append(queued, i)
				if err := l.Lock(ctx); err != nil {
					return err
				}
				got = append(got, i)
				l.Unlock(ctx)
				return nil
			})
			g.Go(func(ctx context.Context) error {
				v, err := q.Get(ctx)
				received = append(received, v)
				return err
			})
		}
		if err := tock.Sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
		l.Unlock(ctx)
		if err := g.Wait(); err != nil {
			return err
		}
		if !slices.Equal(queued, got) {
			return fmt.Errorf("lock queued %v, acquired %v", queued, got)
		}
		slices.Sort(received)
		if !slices.Equal(received, []int{0, 1, 2, 3}) {
			return fmt.Errorf("received %v", received)
		}
		return nil
	}, sim.Schedules(400))
	if err != nil {
		t.Fatal(err)
	}
}

// Jitter delays timers by up to d, drawn from the schedule (none under
// FIFO); the seed carries the jitter, so a replay needs no Jitter option.
func TestJitter(t *testing.T) {
	leaktest.Check(t)
	main := func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			if err := tock.Sleep(ctx, 5*time.Millisecond); err != nil {
				return err
			}
			return q.Put(ctx, 1)
		})
		cctx, cancel := tock.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		if _, err := q.Get(cctx); err != nil {
			return fmt.Errorf("the reply came late: %w", err)
		}
		return g.Wait()
	}
	if err := sim.Explore(context.Background(), main, sim.Schedules(300)); err != nil {
		t.Fatalf("without jitter: %v", err)
	}
	se := scheduleError(t, sim.Explore(context.Background(), main, sim.Jitter(20*time.Millisecond), sim.Schedules(300)))
	if !errors.Is(se, context.DeadlineExceeded) || se.Schedule < 2 || !strings.Contains(se.Error(), "late]") {
		t.Fatalf("%v", se)
	}
	again := scheduleError(t, sim.Explore(context.Background(), main, sim.Replay(se.Seed)))
	sameFailure(t, "replay without the Jitter option", se, again)

	// a plain Run with Jitter: sleeps end within [d, d+jitter], drawn from the base seed
	ends := map[time.Duration]bool{}
	for seed := range uint64(6) {
		var end time.Duration
		for range 2 {
			err := sim.Run(context.Background(), func(ctx context.Context) error {
				if err := tock.Sleep(ctx, time.Second); err != nil {
					return err
				}
				end = tock.Now(ctx).Sub(sim.DefaultStart)
				return nil
			}, sim.Jitter(time.Millisecond), sim.BaseSeed(seed))
			if err != nil {
				t.Fatal(err)
			}
			if end < time.Second || end > time.Second+time.Millisecond {
				t.Fatalf("slept until +%v", end)
			}
			ends[end] = true
		}
	}
	if len(ends) < 3 || len(ends) > 6 {
		t.Fatalf("6 seeds, twice each, gave %d wake-up instants", len(ends))
	}
}

// A checkpoint is a choice point: under Random, a task that yields with
// another runnable sometimes goes on first, sometimes gives way.
func TestExploreCheckpointChoice(t *testing.T) {
	leaktest.Check(t)
	var goesOn, givesWay atomic.Int64 // the other task ran after, or before, the yield
	err := sim.Explore(context.Background(), func(ctx context.Context) error {
		other := false
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { other = true; return nil })
		if err := tock.Yield(ctx); err != nil { // the only choice of the run
			return err
		}
		if other {
			givesWay.Add(1)
		} else {
			goesOn.Add(1)
		}
		return g.Wait()
	}, sim.Schedules(200))
	if err != nil {
		t.Fatal(err)
	}
	if goesOn.Load() < 20 || givesWay.Load() < 20 {
		t.Fatalf("of 200 schedules, %d went on past the checkpoint and %d gave way", goesOn.Load(), givesWay.Load())
	}
}

// PCT runs the highest-priority runnable task: tasks that only yield run in
// blocks, one after another, under depth 1; each of depth-1 change points
// splits at most one block more.
func TestPCTPriorities(t *testing.T) {
	leaktest.Check(t)
	for _, depth := range []int{1, 2, 3} {
		orders := map[string]bool{}
		for seed := range uint64(12) {
			var log []byte
			err := sim.Run(context.Background(), func(ctx context.Context) error {
				g := tock.NewGroup(ctx)
				for i := range 4 {
					g.Go(func(ctx context.Context) error {
						for range 6 {
							log = append(log, byte('a'+i))
							if err := tock.Yield(ctx); err != nil {
								return err
							}
						}
						return nil
					})
				}
				return g.Wait()
			}, sim.PCT(depth), sim.BaseSeed(seed))
			if err != nil {
				t.Fatal(err)
			}
			switches := 0
			for i := 1; i < len(log); i++ {
				if log[i] != log[i-1] {
					switches++
				}
			}
			if switches < 3 || switches > 3+2*(depth-1) {
				t.Fatalf("PCT(%d) seed %d: %s: %d switches", depth, seed, log, switches)
			}
			orders[string(log)] = true
		}
		if len(orders) < 4 {
			t.Fatalf("PCT(%d): 12 seeds gave %d orders", depth, len(orders))
		}
	}
}

// The checkpoint's own choice: replaying choice 1 at the first choice point
// (a Yield with another task runnable) goes on without a switch; choice 1
// at the second one (after giving way) runs the yielder again, the second of
// the two runnable tasks.
func TestExploreCheckpointReplay(t *testing.T) {
	leaktest.Check(t)
	main := func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return nil })
		if err := tock.Yield(ctx); err != nil {
			return err
		}
		g.Wait()
		return errors.New("end")
	}
	for _, c := range []struct {
		devs  []internal.Deviation
		trace []string
	}{
		{nil, []string{"+0s main: gives way", "+0s task 2: returns", "+0s main: returns"}},
		{[]internal.Deviation{{Index: 0, Choice: 1}}, []string{"+0s main: waits on Group.Wait [went on past a checkpoint]", "+0s task 2: returns", "+0s main: returns"}},
		{[]internal.Deviation{{Index: 1, Choice: 1}}, []string{"+0s main: gives way", "+0s main: waits on Group.Wait [ran out of turn: 2 of 2 runnable]", "+0s task 2: returns", "+0s main: returns"}},
	} {
		se := scheduleError(t, sim.Explore(context.Background(), main, sim.Replay(sim.EncodeSeed(0, c.devs))))
		if !slices.Equal(se.Trace, c.trace) {
			t.Errorf("%v: trace\n%s\nwant\n%s", c.devs, strings.Join(se.Trace, "\n"), strings.Join(c.trace, "\n"))
		}
	}
}

type exploreKey struct{}

// The other options apply to every run of Explore, and main's ctx carries
// the outer ctx's values in each.
func TestExploreWithRunOptions(t *testing.T) {
	leaktest.Check(t)
	var ends, runs atomic.Int64
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.WithValue(context.Background(), exploreKey{}, "v")
	var st sim.ExploreStats
	err := sim.Explore(ctx, func(ctx context.Context) error {
		runs.Add(1)
		if ctx.Value(exploreKey{}) != "v" {
			return errors.New("lost the outer value")
		}
		defer func() {
			if tock.Now(ctx).Equal(start.Add(10 * time.Second)) {
				ends.Add(1)
			}
		}()
		g := tock.NewGroup(ctx)
		for range 3 {
			g.Go(func(ctx context.Context) error {
				for tock.Sleep(ctx, time.Second) == nil {
				}
				return nil
			})
		}
		return g.Wait()
	}, sim.Start(start), sim.For(10*time.Second), sim.Schedules(50), sim.Jitter(time.Millisecond), sim.Report(&st))
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 50 || ends.Load() != 50 || st.Schedules != 50 {
		t.Fatalf("%d runs, %d ended at Until, %+v", runs.Load(), ends.Load(), st)
	}
}

// The order of the timers due at one instant is a choice point of its own:
// replaying choice 1 there makes the later sleeper runnable first.
func TestExploreTimerOrderReplay(t *testing.T) {
	leaktest.Check(t)
	main := func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for range 2 {
			g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, time.Second) })
		}
		g.Wait()
		return errors.New("end")
	}
	// point 0: the pick at +0s among the two new tasks; point 1: the
	// order of their two timers at +1s; point 2: the pick at +1s
	se := scheduleError(t, sim.Explore(context.Background(), main, sim.Replay(sim.EncodeSeed(0, []internal.Deviation{{Index: 1, Choice: 1}}))))
	want := []string{
		"+0s main: waits on Group.Wait",
		"+0s task 2: waits on Sleep",
		"+0s task 3: waits on Sleep",
		"+1s task 3: returns [same-instant timers fired out of order]",
		"+1s task 2: returns",
		"+1s main: returns",
	}
	if !slices.Equal(se.Trace, want) {
		t.Fatalf("trace\n%s\nwant\n%s", strings.Join(se.Trace, "\n"), strings.Join(want, "\n"))
	}
}

// TOCK_SEED replaying a schedule that passes (the bug was fixed) says so.
func TestTestSeedThatPasses(t *testing.T) {
	leaktest.Check(t)
	t.Setenv("TOCK_SEED", "tock1:AAEEAQ")
	f := &fakeTB{TB: t}
	sim.Test(f, func(ctx context.Context) error { return nil }, sim.Schedules(1000))
	if f.failed || len(f.logs) != 1 || !strings.Contains(f.logs[0], "TOCK_SEED=tock1:AAEEAQ replayed: the schedule passes") {
		t.Fatalf("%v %q %q", f.failed, f.msg, f.logs)
	}
}

// A schedule that stalls is a failure like any other: found, shrunk (its
// signature is the stuck task, not how long it was stuck) and replayed.
func TestExploreStall(t *testing.T) {
	leaktest.Check(t) // each stuck goroutine wakes from its time.Sleep and ends
	main := func(ctx context.Context) error {
		ready := false
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			if err := tock.Yield(ctx); err != nil {
				return err
			}
			if !ready {
				time.Sleep(150 * time.Millisecond) //tockvet:ignore the bug under test: waits outside tock
			}
			return nil
		})
		g.Go(func(ctx context.Context) error { ready = true; return nil })
		return g.Wait()
	}
	opts := []sim.Option{sim.StallTimeout(50 * time.Millisecond)}
	se := scheduleError(t, sim.Explore(context.Background(), main, append(opts, sim.Schedules(50))...))
	var stall *sim.StallError
	if !errors.As(se, &stall) || stall.Task != "task 2" || se.Schedule < 2 || strings.Contains(se.Error(), "not deterministic") {
		t.Fatalf("%v", se)
	}
	again := scheduleError(t, sim.Explore(context.Background(), main, append(opts, sim.Replay(se.Seed))...))
	if again.Seed != se.Seed || !slices.Equal(again.Trace, se.Trace) || !errors.As(again, &stall) {
		t.Fatalf("replay:\n%v\nwant\n%v", again, se)
	}
}

// Explore and Test run with the misuse checks of Checked on: a tock call
// with a task's ctx from a goroutine that is not that task, while the task
// runs, panics there (a plain Run does not look for it).
func TestExploreChecksMisuse(t *testing.T) {
	leaktest.Check(t)
	main := func(ctx context.Context) error {
		var l tock.Lock
		var caught any
		done := make(chan struct{})
		go func() { //tockvet:ignore the misuse under test: a raw goroutine using main's ctx while main runs
			defer close(done)
			defer func() { caught = recover() }()
			if l.TryLock(ctx) {
				l.Unlock(ctx)
			}
		}()
		<-done //tockvet:ignore waits for the raw goroutine of the test
		if caught != nil {
			return fmt.Errorf("misuse: %v", caught)
		}
		return nil
	}
	if err := sim.Run(context.Background(), main); err != nil {
		t.Fatalf("a plain Run: %v", err)
	}
	se := scheduleError(t, sim.Explore(context.Background(), main, sim.Schedules(1)))
	if !strings.HasPrefix(se.Err.Error(), "misuse: tock: ") {
		t.Fatalf("%v", se)
	}
	f := &fakeTB{TB: t}
	sim.Test(f, main)
	if !f.failed || !strings.Contains(f.msg, "misuse: tock: ") {
		t.Fatalf("Test: %v %q", f.failed, f.msg)
	}
}

// Tasks come and go in waves larger than the scheduler keeps idle
// coroutines for (those beyond end with their task; the next wave makes new
// ones): the schedule that a lost update among them fails replays the
// same, events and trace, and a checked run (sim.Checked, which records
// each coroutine's goroutine) runs the same model without a finding.
func TestExploreTasksComingAndGoing(t *testing.T) {
	leaktest.Check(t)
	const waves, width = 3, 400
	model := func(check bool) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			total := 0
			for w := 0; w < waves; w++ {
				g := tock.NewGroup(ctx)
				for i := 0; i < width; i++ {
					g.Go(func(ctx context.Context) error {
						v := total
						if i%97 == 0 {
							tock.Yield(ctx) // the window of the lost update
						}
						total = v + 1
						return tock.Sleep(ctx, time.Duration(1+i%3)*time.Millisecond)
					})
				}
				if err := g.Wait(); err != nil {
					return err
				}
			}
			if check && total != waves*width {
				return fmt.Errorf("total %d, want %d", total, waves*width)
			}
			return nil
		}
	}
	if err := sim.Run(context.Background(), model(false), sim.Checked()); err != nil {
		t.Fatalf("checked run: %v", err)
	}
	se := scheduleError(t, sim.Explore(context.Background(), model(true), sim.Schedules(200)))
	again := scheduleError(t, sim.Explore(context.Background(), model(true), sim.Replay(se.Seed)))
	sameFailure(t, "replayed", se, again)
}
