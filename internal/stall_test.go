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
	task := s.spawn(s.root, "worker", func(context.Context) {})
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
		"github.com/tockgo/tock.(*Group).call(0x1)\n\t/src/group.go:1\n" +
		"github.com/tockgo/tock/internal.runTask(0x2)\n\t/src/sim.go:1\n" +
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
