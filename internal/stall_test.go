package internal

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A task's ctx used while the scheduler runs no task at all (a goroutine
// outside the simulation's tasks) panics naming the rule and the task.
func TestCheckCallerWhileNoTaskRuns(t *testing.T) {
	s := NewSched(time.Time{}, time.Time{}, false)
	s.root = newRoot(s, context.Background())
	task := s.spawn(s.root, "worker", func(context.Context) error { return nil }, nil)
	defer func() {
		r := fmt.Sprint(recover())
		if !strings.Contains(r, `the ctx of task "worker"`) || !strings.Contains(r, "a goroutine the simulation does not run") {
			t.Errorf("panic %q", r)
		}
	}()
	TaskOf(&task.tctx)
}

func TestTrimStack(t *testing.T) {
	g := "goroutine 7 [chan receive]:\n" +
		"example.com/user.block(...)\n\t/src/user.go:10\n" +
		"github.com/tockgo/tock.(*Group).Start.func3()\n\t/src/group.go:1\n" +
		"github.com/tockgo/tock/internal.(*Sched).newCoro.func1()\n\t/src/sim.go:1\n" +
		"iter.Pull[...].func1()\n\t/go/iter.go:1\n" +
		"runtime.goexit()\n\t/go/asm.s:1\n" +
		"created by iter.Pull in goroutine 1\n\t/go/iter.go:2"
	want := "goroutine 7 [chan receive]:\nexample.com/user.block(...)\n\t/src/user.go:10"
	if got := trimStack(g); got != want {
		t.Errorf("trimStack:\n%s\nwant:\n%s", got, want)
	}
}

func TestCurGoid(t *testing.T) {
	a := curGoid()
	ch := make(chan uint64)
	go func() { ch <- curGoid() }()
	if b := <-ch; a == 0 || b == 0 || a == b {
		t.Errorf("goroutine IDs %d and %d", a, b)
	}
	if curGoid() != a {
		t.Error("curGoid differs on one goroutine")
	}
}

// The stall report and the misuse checks find a simulated task's goroutine
// by the function that runs task functions (taskFunc): a task, the run's
// main one and a spawned one, has it on its stack, and a goroutine dump of
// a parked task shows its frame.
func TestTaskFuncNamesTheCoroutineBody(t *testing.T) {
	s := NewSched(time.Time{}, time.Time{}, false)
	var onMain, onSpawned bool
	var dump string
	res := s.Run(context.Background(), func(ctx context.Context) error {
		onMain = onSimTask()
		spawnFn(s, ctx, "", func(ctx context.Context) {
			onSpawned = onSimTask()
			s.Sleep(ctx, time.Second)
		})
		s.Checkpoint() // the spawned task runs to its sleep
		dump = goroutineDump()
		return s.Sleep(ctx, 2*time.Second)
	})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !onMain || !onSpawned {
		t.Errorf("onSimTask in the main task %v, in a spawned one %v; want both (%s not on the stack)", onMain, onSpawned, taskFunc)
	}
	if !strings.Contains(dump, runTaskFrame) {
		t.Errorf("no %s frame in the goroutine dump:\n%s", runTaskFrame, dump)
	}
	if onSimTask() {
		t.Error("onSimTask on the test's goroutine")
	}
}
