//go:build !race && !asan && !msan

package internal

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitParked waits, bounded, until s's receiver has parked (its goroutine
// handed to the scheduler), and fails t past the bound.
func waitParked(t *testing.T, s *signal) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.n.Load() != sigParked {
		if time.Now().After(deadline) {
			t.Fatal("the receiver did not park within 10 s")
		}
		runtime.Gosched()
	}
}

// A goroutine parked on its signal shows in a goroutine dump as
// "[waiting]" with the signal's recv on its stack (docs/DESIGN.md: what a
// user debugging a hang reads).
func TestSignalParkedInGoroutineDump(t *testing.T) {
	s := newSignal()
	done := make(chan struct{})
	go func() { s.recv(); close(done) }()
	waitParked(t, s)
	buf := make([]byte, 1<<20)
	dump := string(buf[:runtime.Stack(buf, true)])
	found := false
	for _, g := range strings.Split(dump, "\n\n") {
		if strings.Contains(g, "internal.(*signal).recv") && !strings.Contains(g, "TestSignalParkedInGoroutineDump(") {
			found = true
			if head, _, _ := strings.Cut(g, "\n"); !strings.HasSuffix(head, "[waiting]:") {
				t.Errorf("a parked receiver's dump header is %q; want it to end in [waiting]:", head)
			}
		}
	}
	if !found {
		t.Errorf("no goroutine in the dump is parked in signal.recv:\n%s", dump)
	}
	s.send()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver was not woken within 10 s")
	}
}

// A real task parked with its own watched ctx parks in Block's own frame:
// in its goroutine's stack Block's frame is the top one shown (the
// runtime's gopark is not), not the signal's recv (docs/DESIGN.md: every
// frame between a primitive's call and its park is paid again when the
// woken task returns through it). The watcher is armed at the task's first
// park, which parks through parkTask; the test looks at the second. The
// parks still receive their grants and their cancellation.
func TestBlockParksInItsOwnFrame(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var q Queue[int]
	res := make(chan error, 3)
	spawnFn(Real, parent, "parked-in-block", func(ctx context.Context) {
		for i := 0; i < 3; i++ {
			mu.Lock()
			_, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
			res <- err
		}
	})
	for i, want := range []error{nil, nil, context.Canceled} {
		if !waitQueued(t, &mu, &q, 1) {
			return
		}
		mu.Lock()
		w := q.Front()
		mu.Unlock()
		waitParked(t, w.sig)
		if i == 1 {
			checkParkedInBlock(t)
		}
		if want == nil {
			mu.Lock()
			q.PopLive().Grant()
			mu.Unlock()
		} else {
			cancel()
		}
		if err := recvBounded(t, res, fmt.Sprintf("park %d", i)); !errors.Is(err, want) {
			t.Fatalf("park %d: Block returned %v, want %v", i, err, want)
		}
	}
}

// checkParkedInBlock fails t unless the goroutine dump has a goroutine
// whose top frame is Block's.
func checkParkedInBlock(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	dump := string(buf[:runtime.Stack(buf, true)])
	for _, g := range strings.Split(dump, "\n\n") {
		if !strings.Contains(g, "internal.Block[") {
			continue
		}
		// lines: the header, then a function's line and its file's per frame
		if lines := strings.Split(g, "\n"); len(lines) < 2 || !strings.Contains(lines[1], "internal.Block[") {
			t.Errorf("a task parked in Block: the top frame is not Block's:\n%s", g)
		}
		return
	}
	t.Errorf("no goroutine in the dump is parked in Block:\n%s", dump)
}
