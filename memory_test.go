package tock_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// TestSimMemoryPerTask: what a sleeping simulated task holds, heap and
// stack, measured on 100,000 of them asleep at once (Group.Go, then
// tock.Sleep, with the default options: the stall watchdog on), after a GC.
// A task is a coroutine, and its floor is a bare iter.Pull coroutine
// suspended in its first yield (a goroutine's g and a 2 KB stack, as a
// parked goroutine has, plus iter.Pull's own objects), measured the same
// way; above the floor a task holds the scheduler's state of it (~460 B in
// 6 objects now; 546 B before the task's state was packed into 288 bytes).
// The test fails if a task's own heap exceeds 520 B, if it gains a heap
// object, or if its stack exceeds one 2 KB stack (a park deep enough to grow
// every task's stack).
//
// Each side runs in a fresh process with GODEBUG=adaptivestackstart=0: the
// runtime otherwise starts new goroutines with a stack sized by the stacks
// its last GC scanned, which depends on what else the process ran, and a
// fresh process also allocates every g (the runtime reuses the g's of ended
// goroutines). Memory is counted, never time. Under the race detector
// (which gives every goroutine more) it is skipped.
func TestSimMemoryPerTask(t *testing.T) {
	const (
		n          = 100_000
		ownHeap    = 520       // bytes of heap per task above the floor's
		ownObjects = 6.5       // heap objects per task above the floor's (6 now)
		stackBound = 2048 + 64 // bytes of stack per task: one 2 KB stack
		child      = "TOCK_MEMORY_CHILD"
	)
	if kind := os.Getenv(child); kind != "" {
		fmt.Printf("per task: %s\n", measureSleeping(t, kind, n))
		return
	}
	if raceEnabled {
		t.Skip("memory per task is not measured under the race detector")
	}
	run := func(kind string) (heap, stack, objects float64) {
		godebug := "adaptivestackstart=0"
		if g := os.Getenv("GODEBUG"); g != "" {
			godebug = g + "," + godebug
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestSimMemoryPerTask$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), child+"="+kind, "GODEBUG="+godebug)
		out, err := cmd.CombinedOutput()
		i := strings.Index(string(out), "per task: ")
		if err != nil || i < 0 || !strings.Contains(string(out), "--- PASS: TestSimMemoryPerTask") {
			t.Fatalf("%s: child run: %v\n%s", kind, err, out)
		}
		if _, err := fmt.Sscanf(string(out[i:]), "per task: heap %g stack %g objects %g", &heap, &stack, &objects); err != nil {
			t.Fatalf("%s: %v in %q", kind, err, out[i:])
		}
		t.Logf("%-5s per task: heap %4.0f B, stack %4.0f B, %4.1f heap objects", kind, heap, stack, objects)
		return heap, stack, objects
	}
	heap, stack, objects := run("tock")
	fheap, fstack, fobjects := run("floor")
	t.Logf("a task above the iter.Pull floor: heap %.0f B, %.1f objects; heap+stack %.2fx the floor's", heap-fheap, objects-fobjects, (heap+stack)/(fheap+fstack))
	if heap-fheap > ownHeap {
		t.Errorf("a sleeping task holds %.0f B of heap above a bare coroutine's, over the bound %d", heap-fheap, ownHeap)
	}
	if objects-fobjects > ownObjects {
		t.Errorf("a sleeping task holds %.1f heap objects above a bare coroutine's, over the bound %.1f: a new allocation per task?", objects-fobjects, ownObjects)
	}
	if stack > stackBound {
		t.Errorf("a sleeping task holds %.0f B of stack, over the bound %d: its park grows a 2 KB stack?", stack, stackBound)
	}
}

// measureSleeping runs n sleeping simulated tasks (kind "tock") or n
// iter.Pull coroutines suspended in their first yield ("floor") and returns
// the heap, stack and heap objects per task, live after a GC while all of
// them are suspended.
func measureSleeping(t *testing.T, kind string, n int) string {
	var before, during runtime.MemStats
	measure := func() {
		runtime.GC() // what is live, not garbage not yet collected
		runtime.ReadMemStats(&during)
	}
	runtime.GC()
	runtime.ReadMemStats(&before)
	switch kind {
	case "tock":
		measured := false
		err := sim.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			for i := 0; i < n; i++ {
				g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, time.Hour) })
			}
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, time.Minute) // every other task is asleep now
				measure()
				measured = true
				return nil
			})
			return g.Wait()
		})
		if err != nil || !measured {
			t.Fatalf("the run failed (%v) or did not measure (%v)", err, measured)
		}
	case "floor":
		nexts := make([]func() (struct{}, bool), n)
		for i := range nexts {
			next, _ := iter.Pull(func(yield func(struct{}) bool) { yield(struct{}{}) })
			next()
			nexts[i] = next
		}
		measure()
		for _, next := range nexts {
			next()
		}
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return fmt.Sprintf("heap %.1f stack %.1f objects %.2f", per(during.HeapInuse, before.HeapInuse),
		per(during.StackInuse, before.StackInuse), per(during.Mallocs-during.Frees, before.Mallocs-before.Frees))
}
