package tock_test

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// TestSimMemoryPerTask: what a sleeping simulated task holds, heap and stack,
// measured on 100,000 of them asleep at once (Group.Go, then tock.Sleep),
// after a GC, with the default options (the stall watchdog on). A task is a
// coroutine (a goroutine's g and a 2 KB stack, as a parked goroutine has)
// plus the scheduler's state of it; the bounds leave about a fifth of
// margin over what it holds now (heap ~1,150 B, of which the g is 480, and
// the stack 2,048 B), so a per-task field or allocation of a few hundred
// bytes, or a park deep enough to grow every task's stack, fails here.
//
// It runs in a fresh process of its own with GODEBUG=adaptivestackstart=0:
// the runtime otherwise starts new goroutines with a stack sized by the
// stacks its last GC scanned, which depends on what else the process ran,
// and a stack that a task's park grows past 2 KB would hide in a 4 KB
// start. Memory is counted, never time. Under the race detector (which
// gives every goroutine more) it is skipped.
func TestSimMemoryPerTask(t *testing.T) {
	const (
		n          = 100_000
		heapBound  = 1400      // bytes of heap per task
		stackBound = 2048 + 64 // bytes of stack per task: one 2 KB stack
		child      = "TOCK_MEMORY_CHILD"
	)
	if os.Getenv(child) == "" {
		if raceEnabled {
			t.Skip("memory per task is not measured under the race detector")
		}
		godebug := "adaptivestackstart=0"
		if g := os.Getenv("GODEBUG"); g != "" {
			godebug = g + "," + godebug
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestSimMemoryPerTask$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), child+"=1", "GODEBUG="+godebug)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestSimMemoryPerTask") {
			t.Fatalf("child run: %v\n%s", err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if i := strings.Index(l, "per task:"); i >= 0 {
				t.Log(l[i:])
			}
		}
		return
	}
	var before, during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	measured := false
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for i := 0; i < n; i++ {
			g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, time.Hour) })
		}
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, time.Minute) // every other task is asleep now
			runtime.GC()                 // what is live, not garbage not yet collected
			runtime.ReadMemStats(&during)
			measured = true
			return nil
		})
		return g.Wait()
	})
	if err != nil || !measured {
		t.Fatalf("the run failed (%v) or did not measure (%v)", err, measured)
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / n }
	heap, stack := per(during.HeapInuse, before.HeapInuse), per(during.StackInuse, before.StackInuse)
	objects := (float64(during.Mallocs-during.Frees) - float64(before.Mallocs-before.Frees)) / n
	t.Logf("per task: heap %.0f B, stack %.0f B, %.1f heap objects (%d tasks asleep)", heap, stack, objects, n)
	if heap > heapBound {
		t.Errorf("a sleeping task holds %.0f B of heap, over the bound %d", heap, heapBound)
	}
	if stack > stackBound {
		t.Errorf("a sleeping task holds %.0f B of stack, over the bound %d: its park grows a 2 KB stack?", stack, stackBound)
	}
}
