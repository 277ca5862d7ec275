package internal

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock/internal/leaktest"
)

// endCall is one call of a TaskEnd, as recorded by recordEnds.
type endCall struct {
	returned bool
	err      error
	r        any
	stack    string // debug.Stack at the call
}

// recordEnds returns a TaskEnd that records its calls in *calls, and then
// panics with then, if not nil.
func recordEnds(calls *[]endCall, then any) TaskEnd {
	return func(ctx context.Context, returned bool, err error, r any) {
		*calls = append(*calls, endCall{returned, err, r, string(debug.Stack())})
		if then != nil {
			panic(then)
		}
	}
}

// checkEndCall checks that a TaskEnd was called once, as want, with
// inStack (if not "") and the runtime's task function (taskFrame) on the
// stack it was called on.
func checkEndCall(t *testing.T, calls []endCall, want endCall, inStack, taskFrame string) {
	t.Helper()
	if len(calls) != 1 {
		t.Fatalf("TaskEnd called %d times, want once", len(calls))
	}
	c := calls[0]
	if c.returned != want.returned || c.err != want.err || c.r != want.r {
		t.Errorf("TaskEnd(returned %v, err %v, r %v), want (%v, %v, %v)", c.returned, c.err, c.r, want.returned, want.err, want.r)
	}
	if inStack != "" && !strings.Contains(c.stack, inStack) {
		t.Errorf("the TaskEnd's stack is not the panicking one (no %s):\n%s", inStack, c.stack)
	}
	if !strings.Contains(c.stack, taskFrame) {
		t.Errorf("the TaskEnd ran outside the task's own frame (no %s):\n%s", taskFrame, c.stack)
	}
}

//go:noinline
func panicsInTheTask() { panic("boom") }

// TestSimTaskEnd: a simulated task's TaskEnd is called once, in the task's
// coroutine, with how its function ended: returned with its error; panicked
// with the value, while the stack is still the panicking one; exited by
// runtime.Goexit with nothing. A panic of the TaskEnd itself is the task's
// (recorded as a panic of a task with no TaskEnd is), and the TaskEnd is
// not called again for it.
func TestSimTaskEnd(t *testing.T) {
	errTask := errors.New("task failed")
	for _, tc := range []struct {
		name    string
		fn      func(ctx context.Context) error
		then    any // the TaskEnd panics with it
		want    endCall
		panics  any // recorded as the task's panic
		inStack string
	}{
		{name: "returned", fn: func(context.Context) error { return errTask }, want: endCall{returned: true, err: errTask}},
		{name: "panicked", fn: func(context.Context) error { panicsInTheTask(); return nil }, want: endCall{r: "boom"}, inStack: "panicsInTheTask"},
		{name: "goexit", fn: func(context.Context) error { runtime.Goexit(); return nil }, want: endCall{}},
		{name: "end panics after a return", fn: func(context.Context) error { return nil }, then: "end failed", want: endCall{returned: true}, panics: "end failed"},
		{name: "end panics after a panic", fn: func(context.Context) error { panicsInTheTask(); return nil }, then: "end failed", want: endCall{r: "boom"}, panics: "end failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaktest.Check(t)
			s := NewSched(time.Time{}, time.Time{}, false)
			var calls []endCall
			var task *Task
			after := false
			res := s.Run(context.Background(), func(ctx context.Context) error {
				task = s.Spawn(ctx, "", tc.fn, recordEnds(&calls, tc.then))
				s.Yield() // the task runs and ends
				// a task after it runs normally
				spawnFn(s, ctx, "", func(context.Context) { after = true })
				s.Yield()
				return nil
			})
			if res.Err != nil || res.Panic != nil {
				t.Fatalf("run: %v %v", res.Err, res.Panic)
			}
			checkEndCall(t, calls, tc.want, tc.inStack, taskFunc)
			got := task.sim.panicked()
			switch {
			case tc.panics == nil && got != nil:
				t.Errorf("the task's panic %v recorded, want none (the TaskEnd had it)", got.Value)
			case tc.panics != nil && (got == nil || got.Value != tc.panics):
				t.Errorf("the task's recorded panic is %v, want %v", got, tc.panics)
			}
			if !after {
				t.Errorf("the task after it did not run")
			}
		})
	}
}

// TestSimTaskEndNotOnAbandon: a task that the run abandons (parked when the
// run's outer context is cancelled) is unwound with the simulation's own
// panic, which is no end of the task's: its TaskEnd is not called (a
// group's would record it as a panic).
func TestSimTaskEndNotOnAbandon(t *testing.T) {
	leaktest.Check(t)
	outer, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewSched(time.Time{}, time.Time{}, false)
	var calls []endCall
	unwound := false
	res := s.Run(outer, func(ctx context.Context) error {
		s.Spawn(ctx, "", func(ctx context.Context) error {
			defer func() { unwound = true }()
			return s.Sleep(ctx, time.Hour)
		}, recordEnds(&calls, nil))
		s.Yield() // the task parks in its Sleep
		cancel()
		deadline := time.Now().Add(10 * time.Second)
		for !s.aborted.Load() { // set by the outer context's AfterFunc; monotonic
			if time.Now().After(deadline) {
				return errors.New("the outer context's cancellation never reached the run")
			}
			runtime.Gosched()
		}
		s.Yield() // the loop notices the abort, and abandons both tasks
		return nil
	})
	if res.Err != nil && !errors.Is(res.Err, context.Canceled) {
		t.Fatal(res.Err)
	}
	if res.Remaining != 2 || res.Panic != nil || !unwound {
		t.Fatalf("run: %d tasks abandoned, panic %v, the task unwound %v; want 2, none, true", res.Remaining, res.Panic, unwound)
	}
	if len(calls) != 0 {
		t.Fatalf("TaskEnd called for an abandoned task: returned %v, err %v, r %v", calls[0].returned, calls[0].err, calls[0].r)
	}
}

// TestRealTaskEnd: a real task's TaskEnd is called once, on the task's
// goroutine, with how its function ended, as a simulated task's.
func TestRealTaskEnd(t *testing.T) {
	errTask := errors.New("task failed")
	for _, tc := range []struct {
		name    string
		fn      func(ctx context.Context) error
		want    endCall
		inStack string
	}{
		{name: "returned", fn: func(context.Context) error { return errTask }, want: endCall{returned: true, err: errTask}},
		{name: "panicked", fn: func(context.Context) error { panicsInTheTask(); return nil }, want: endCall{r: "boom"}, inStack: "panicsInTheTask"},
		{name: "goexit", fn: func(context.Context) error { runtime.Goexit(); return nil }, want: endCall{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []endCall
			done := make(chan struct{})
			end := recordEnds(&calls, nil)
			Real.Spawn(context.Background(), "", tc.fn, func(ctx context.Context, returned bool, err error, r any) {
				defer close(done)
				end(ctx, returned, err, r)
			})
			recvBounded(t, done, "the TaskEnd")
			checkEndCall(t, calls, tc.want, tc.inStack, "internal.runReal")
		})
	}
}

// TestRealTaskEndPanicStillEndsTheCtx: a TaskEnd that panics (on either
// path: after a return, or while the task's own panic unwinds) does not
// skip the end of the task's ctx: its cancellation watcher (armed by the
// task, over a cancellable parent) is retired and its AfterFunc on the
// parent stopped. runReal runs here on a goroutine that recovers what it
// raises, where Spawn's would end the process.
func TestRealTaskEndPanicStillEndsTheCtx(t *testing.T) {
	for _, tc := range []struct {
		name  string
		panic bool
	}{
		{"after a return", false},
		{"after a panic", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			id := nextTaskID.add()
			ctx := newRealCtx(parent, Call{RT: Real, Task: &Task{ID: id, num: id}})
			var w *watcher
			fn := func(ctx context.Context) error {
				w = ctx.(*taskCtx).arm() // as the task's first park does
				if tc.panic {
					panicsInTheTask()
				}
				return nil
			}
			raised := make(chan any, 1)
			go func() {
				defer func() { raised <- recover() }()
				runReal(ctx, fn, func(context.Context, bool, error, any) { panic("end failed") })
			}()
			if r := recvBounded(t, raised, "the task's goroutine"); r != "end failed" {
				t.Fatalf("the goroutine raised %v, want the TaskEnd's panic", r)
			}
			if ctx.watch.Load() != noWatch {
				t.Fatalf("the task's ctx was not ended: its watcher is %v", ctx.watch.Load())
			}
			if w == nil || w == noWatch || !w.ended.Load() {
				t.Fatalf("the task's watcher %v was not retired", w)
			}
			if w.stop() {
				t.Fatal("the watcher's AfterFunc on the parent was still registered after the task ended")
			}
		})
	}
}
