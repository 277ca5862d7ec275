//tockvet:ignore this file makes simulated tasks stall and misuse contexts on purpose: the stall watchdog and the misuse checks under test

package sim_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal/leaktest"
	"github.com/tockgo/tock/sim"
)

// runBounded runs sim.Run on its own goroutine and fails the test if it has
// not returned within limit (a hang is a failure with a message).
func runBounded(t *testing.T, limit time.Duration, ctx context.Context, main func(ctx context.Context) error, opts ...sim.Option) error {
	t.Helper()
	err, p := boundedCall(t, limit, func() error { return sim.Run(ctx, main, opts...) })
	if p != nil {
		panic(p)
	}
	return err
}

// boundedCall runs f on its own goroutine and returns its error, or the
// value it panicked with; it fails the test if f has not returned within
// limit (a hang is a failure with a message).
func boundedCall(t *testing.T, limit time.Duration, f func() error) (err error, p any) {
	t.Helper()
	type result struct {
		err error
		p   any
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() { r.p = recover(); done <- r }()
		r.err = f()
	}()
	select {
	case r := <-done:
		return r.err, r.p
	case <-time.After(limit):
		t.Fatalf("still running after %s", limit)
		return nil, nil
	}
}

// Each way of blocking outside tock inside a simulated task ends the run
// with a *StallError naming the task, instead of hanging.
func TestStallCauses(t *testing.T) {
	cases := []struct {
		name  string
		block func(release <-chan struct{})
		frame string // a frame the trimmed stack must show
	}{
		{"channel receive", func(release <-chan struct{}) { <-release }, "TestStallCauses.func1"},
		{"select", func(release <-chan struct{}) {
			never := make(chan int)
			select {
			case <-release:
			case <-never:
			}
		}, "TestStallCauses.func2"},
		{"WaitGroup.Wait", func(release <-chan struct{}) {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { <-release; wg.Done() }()
			wg.Wait()
		}, "TestStallCauses.func3"},
		{"Mutex held across a wait", func(release <-chan struct{}) {
			var mu sync.Mutex
			mu.Lock()
			go func() { <-release; mu.Unlock() }()
			mu.Lock()
		}, "TestStallCauses.func4"},
		{"Cond.Wait", func(release <-chan struct{}) {
			var mu sync.Mutex
			c := sync.NewCond(&mu)
			done := false
			go func() { <-release; mu.Lock(); done = true; c.Broadcast(); mu.Unlock() }()
			mu.Lock()
			for !done {
				c.Wait()
			}
			mu.Unlock()
		}, "TestStallCauses.func5"},
		{"time.Sleep longer than the limit", func(release <-chan struct{}) { time.Sleep(4 * time.Second) }, "TestStallCauses.func6"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leaktest.Check(t) // the stuck goroutine is released below: then every goroutine of the run ends
			release := make(chan struct{})
			defer close(release)
			err := runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
				g := tock.NewGroup(ctx)
				g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, time.Hour) })
				g.Go(func(ctx context.Context) error {
					if err := tock.Sleep(ctx, time.Minute); err != nil {
						return err
					}
					c.block(release)
					return nil
				}) // "task 3"
				return g.Wait()
			}, sim.StallTimeout(time.Second))
			var se *sim.StallError
			if !errors.As(err, &se) {
				t.Fatalf("Run returned %v, want a *sim.StallError", err)
			}
			if se.Task != "task 3" {
				t.Errorf("StallError.Task = %q, want task 3", se.Task)
			}
			if want := sim.DefaultStart.Add(time.Minute); !se.At.Equal(want) {
				t.Errorf("StallError.At = %v, want %v", se.At, want)
			}
			if se.Stuck < time.Second {
				t.Errorf("StallError.Stuck = %v, below the limit", se.Stuck)
			}
			if !strings.Contains(se.Stack, c.frame) {
				t.Errorf("the stack does not show the user's frame %s:\n%s", c.frame, se.Stack)
			}
			if strings.Contains(se.Stack, "tock/internal.") || strings.Contains(se.Stack, "iter.Pull") {
				t.Errorf("the stack is not trimmed to the user's frames:\n%s", se.Stack)
			}
			msg := err.Error()
			for _, want := range []string{`"task 3"`, "channel", "time.Sleep", "sync.Mutex", se.Stack} {
				if !strings.Contains(msg, want) {
					t.Errorf("the message lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

// A task that computes for longer than the limit but keeps calling tock
// (alone, so its Yields go on without a switch, or alongside another task)
// is never reported.
func TestNoStallWhileCallingTock(t *testing.T) {
	for _, tasks := range []int{1, 2} {
		t.Run(fmt.Sprint(tasks, " task(s)"), func(t *testing.T) {
			err := runBounded(t, 30*time.Second, context.Background(), func(ctx context.Context) error {
				g := tock.NewGroup(ctx)
				for i := 0; i < tasks; i++ {
					g.Go(func(ctx context.Context) error {
						end := time.Now().Add(1500 * time.Millisecond) // wall time: the point of the test
						for time.Now().Before(end) {
							for j := 0; j < 1000; j++ {
								if err := tock.Yield(ctx); err != nil {
									return err
								}
							}
						}
						return nil
					})
				}
				return g.Wait()
			}, sim.StallTimeout(500*time.Millisecond))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}

// Cancelling Run's ctx while a task is stuck makes Run return with ctx's
// error, well before the stall limit.
func TestOuterCancelWhileStuck(t *testing.T) {
	leaktest.Check(t)
	release := make(chan struct{})
	defer close(release)
	stuck := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-stuck; cancel() }()
	err := runBounded(t, 20*time.Second, ctx, func(ctx context.Context) error {
		close(stuck)
		<-release
		return nil
	}, sim.StallTimeout(time.Hour))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}

// StallTimeout(0) turns the watchdog off: a task that blocks outside tock
// for a while is waited for, and the run completes normally.
func TestStallTimeoutZeroDisables(t *testing.T) {
	err := runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
		time.Sleep(300 * time.Millisecond)
		return tock.Sleep(ctx, time.Second)
	}, sim.StallTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	// Without StallTimeout(0) the same run, with a limit below the block, stalls.
	err = runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
		time.Sleep(300 * time.Millisecond)
		return tock.Sleep(ctx, time.Second)
	}, sim.StallTimeout(50*time.Millisecond))
	var se *sim.StallError
	if !errors.As(err, &se) || se.Task != "main" {
		t.Fatalf("Run returned %v, want a *sim.StallError for main", err)
	}
}

func TestStallTimeoutNegativePanics(t *testing.T) {
	defer func() {
		if r := fmt.Sprint(recover()); !strings.Contains(r, "tock/sim: StallTimeout") || !strings.Contains(r, "negative") {
			t.Errorf("panic %q", r)
		}
	}()
	sim.StallTimeout(-time.Second)
}

// panicOf runs f and returns what it panicked with ("" if nothing).
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// A blocking tock call with a task-less ctx inside a simulated task would
// block the whole simulation on the wall clock: it panics naming the rule,
// with no internal mutex held and no waiter left queued.
func TestBackgroundCtxBlockingInsideSimPanics(t *testing.T) {
	bg := context.Background()
	var (
		e   tock.Event
		l   tock.Lock
		sem = tock.NewSemaphore(0)
		q   = tock.NewQueue[int]()
	)
	cases := []struct {
		name, op string
		call     func(ctx context.Context)
	}{
		{"Event.Wait", "Event.Wait", func(context.Context) { e.Wait(bg) }},
		{"Lock held by the task", "Lock.Lock", func(ctx context.Context) {
			l.Lock(ctx)
			defer l.Unlock(ctx)
			l.Lock(context.TODO())
		}},
		{"Semaphore.Acquire", "Semaphore.Acquire", func(context.Context) { sem.Acquire(bg) }},
		{"Queue.Get", "Queue.Get", func(context.Context) { q.Get(bg) }},
		{"Sleep", "Sleep", func(context.Context) { tock.Sleep(bg, time.Second) }},
		{"Group.Wait of a real group", "Group.Wait", func(context.Context) {
			g := tock.NewGroup(bg)
			release := make(chan struct{})
			defer close(release)
			g.Go(func(context.Context) error { <-release; return nil })
			g.Wait()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var msg string
			err := runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
				msg = panicOf(func() { c.call(ctx) })
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(msg, "tock: "+c.op+": ") || !strings.Contains(msg, "context.Background()") {
				t.Fatalf("panic %q, want one naming %s and the rule", msg, c.op)
			}
		})
	}
	// Nothing was left queued or locked.
	if w := e.Stats().Waiting; w != 0 {
		t.Errorf("Event has %d waiter(s) left", w)
	}
	if s := l.Stats(); s.Waiting != 0 || s.Locked {
		t.Errorf("Lock left %+v", s)
	}
	if w := sem.Stats().Waiting; w != 0 {
		t.Errorf("Semaphore has %d waiter(s) left", w)
	}
	if w := q.Waiting(); w != 0 {
		t.Errorf("Queue has %d waiter(s) left", w)
	}
	// A non-blocking call with a task-less ctx is fine inside a simulation.
	err := runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
		var l tock.Lock
		if err := l.Lock(bg); err != nil {
			return err
		}
		l.Unlock(bg)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// While a simulation runs, real-runtime code elsewhere in the process still
// blocks as usual: the check only fires on a simulated task's goroutine.
func TestRealBlockingBesideARunningSimulation(t *testing.T) {
	leaktest.Check(t)
	inSim := make(chan struct{})
	release := make(chan struct{})
	simDone := make(chan error, 1)
	go func() {
		simDone <- sim.Run(context.Background(), func(ctx context.Context) error {
			close(inSim)
			<-release // the simulation is running while the real code below blocks
			return nil
		}, sim.StallTimeout(0))
	}()
	<-inSim
	var e tock.Event
	go func() { time.Sleep(10 * time.Millisecond); e.Set() }()
	msg := panicOf(func() {
		if err := e.Wait(context.Background()); err != nil {
			t.Error(err)
		}
	})
	close(release)
	if msg != "" {
		t.Errorf("real-runtime Wait beside a simulation panicked: %s", msg)
	}
	select {
	case err := <-simDone:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the simulation did not end")
	}
}

// A simulated task's ctx used by a goroutine the simulation does not run, or
// after the task ended, panics naming the rule and the task. Under Checked
// the rule is exact: a raw goroutine using a running task's ctx, and a task
// using another task's ctx, are caught too.
func TestForeignUseOfTaskCtx(t *testing.T) {
	t.Run("after the task ended", func(t *testing.T) {
		var leaked context.Context
		err := runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { leaked = ctx; return nil })
			g.Wait()
			msg := panicOf(func() { tock.Now(leaked) })
			if !strings.Contains(msg, `the ctx of task "task 2"`) || !strings.Contains(msg, "after that task ended") {
				return fmt.Errorf("panic %q", msg)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	for _, checked := range []bool{false, true} {
		t.Run(fmt.Sprint("raw goroutine while the task runs, checked=", checked), func(t *testing.T) {
			var opts []sim.Option
			if checked {
				opts = append(opts, sim.Checked())
			}
			var msg string
			err := runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
				got := make(chan string)
				go func() { got <- panicOf(func() { tock.Now(ctx) }) }()
				msg = <-got
				return nil
			}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if checked && (!strings.Contains(msg, `the ctx of task "main"`) || !strings.Contains(msg, "while that task runs")) {
				t.Errorf("checked: panic %q", msg)
			}
			if !checked && msg != "" {
				t.Errorf("unchecked: the cheap check cannot tell this case, yet it panicked %q", msg)
			}
		})
	}
	t.Run("another task using an outer task's ctx, checked", func(t *testing.T) {
		var msg string
		err := runBounded(t, 20*time.Second, context.Background(), func(outer context.Context) error {
			g := tock.NewGroup(outer)
			g.Go(func(ctx context.Context) error {
				msg = panicOf(func() { tock.Sleep(outer, time.Second) })
				return nil
			})
			return g.Wait()
		}, sim.Checked())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, `the ctx of task "main"`) || !strings.Contains(msg, `task "task 2" runs`) {
			t.Errorf("panic %q", msg)
		}
	})
	t.Run("derived ctx from a raw goroutine, checked", func(t *testing.T) {
		var msg string
		err := runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
			dctx := context.WithValue(ctx, struct{}{}, 1)
			got := make(chan string)
			go func() { got <- panicOf(func() { var e tock.Event; e.Set(); e.Wait(dctx) }) }()
			msg = <-got
			return nil
		}, sim.Checked())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "may be used only by that task") {
			t.Errorf("panic %q", msg)
		}
	})
}

// A misuse caught inside a blocking call (where the primitive's mutex is
// held) releases that mutex before it panics: the primitive stays usable.
func TestMisuseInsideBlockReleasesTheMutex(t *testing.T) {
	sem := tock.NewSemaphore(0)
	var msg string
	err := runBounded(t, 20*time.Second, context.Background(), func(ctx context.Context) error {
		dctx := context.WithValue(ctx, struct{}{}, 1)
		got := make(chan string)
		go func() { got <- panicOf(func() { sem.Acquire(dctx) }) }()
		msg = <-got
		return nil
	}, sim.Checked())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "may be used only by that task") {
		t.Errorf("panic %q", msg)
	}
	done := make(chan struct{})
	go func() { sem.Release(); _ = sem.Stats(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the semaphore's mutex was left held")
	}
	if w := sem.Stats().Waiting; w != 0 {
		t.Errorf("%d waiter(s) left", w)
	}
}
