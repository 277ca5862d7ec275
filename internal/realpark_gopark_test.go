//go:build !race && !asan && !msan

package internal

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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

// waitFrontParked waits, bounded, until q (guarded by mu) has a waiter and
// the oldest one's receiver has parked, and stops t past the bound.
func waitFrontParked[T any](t *testing.T, mu *sync.Mutex, q *Queue[T]) {
	t.Helper()
	mustQueue(t, mu, q, 1)
	mu.Lock()
	w := q.Front()
	mu.Unlock()
	waitParked(t, w.sig)
}

// A goroutine parked on its signal shows in a goroutine dump as
// "[waiting]" with the signal's recv on its stack (docs/DESIGN.md: what a
// user debugging a hang reads).
func TestSignalParkedInGoroutineDump(t *testing.T) {
	s := newSignal()
	done := make(chan struct{})
	go func() { s.recv(); close(done) }()
	waitParked(t, s)
	dump := goroutineDump()
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
		waitFrontParked(t, &mu, &q)
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

// A real task whose ctx is never done (its parent is a root context) needs
// no watcher, and parks in Block's own frame from its first park on; the
// parks end with their grants, which hand over their values.
func TestBlockParksNeverDoneTaskInItsOwnFrame(t *testing.T) {
	var mu sync.Mutex
	var q Queue[int]
	res := make(chan int, 2)
	spawnFn(Real, context.Background(), "never-done", func(ctx context.Context) {
		for i := 0; i < 2; i++ {
			mu.Lock()
			v, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
			if err != nil {
				v = -1
			}
			res <- v
		}
	})
	for i := 1; i <= 2; i++ {
		waitFrontParked(t, &mu, &q)
		checkParkedInBlock(t)
		mu.Lock()
		w := q.PopLive()
		w.Val = i
		w.Grant()
		mu.Unlock()
		if v := recvBounded(t, res, fmt.Sprintf("park %d", i)); v != i {
			t.Fatalf("park %d: Block returned %d, want the grant's %d", i, v, i)
		}
	}
}

// checkParkedInBlock fails t unless the goroutine dump has a goroutine
// whose top frame is Block's.
func checkParkedInBlock(t *testing.T) {
	t.Helper()
	dump := goroutineDump()
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

// A park that a signal overtakes is refused and the loop receives that
// signal: Block's loop (recvNow, then gopark with commitPark) has the grant
// that comes after recvNow found nothing and before commitPark parks. The
// test grants the waiter from commitPark itself (commitHook), which is
// where the race lands. Block then returns the granted value, the signal
// holds no count afterwards, and the waiter's next park (the waiter is
// reused) parks until its own grant instead of taking the left-over count
// for one.
func TestBlockRefusedParkTakesTheSignal(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var q Queue[int]
	type result struct {
		v   int
		err error
	}
	res := make(chan result, 3)
	next := make(chan struct{}, 3)
	var (
		armed   atomic.Bool
		granted atomic.Pointer[signal]
	)
	commitHook = func(s *signal) {
		// on the parking task's scheduler stack: no blocking
		if !armed.Load() || !mu.TryLock() {
			return
		}
		if w := q.Front(); w != nil && w.sig == s {
			w = q.PopLive()
			w.Val = 42
			w.Grant()
			armed.Store(false)
			granted.Store(s)
		}
		mu.Unlock()
	}
	defer func() { commitHook = nil }()
	spawnFn(Real, parent, "refused-park", func(ctx context.Context) {
		for i := 0; i < 3; i++ {
			<-next
			mu.Lock()
			v, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
			res <- result{v, err}
		}
	})
	// park 0 arms the task's watcher (it parks through parkTask)
	next <- struct{}{}
	if !waitQueued(t, &mu, &q, 1) {
		return
	}
	mu.Lock()
	q.PopLive().Grant()
	mu.Unlock()
	if r := recvBounded(t, res, "park 0"); r.err != nil {
		t.Fatalf("park 0: %v", r.err)
	}
	// park 1, in Block's own loop: granted in commitPark
	armed.Store(true)
	next <- struct{}{}
	r := recvBounded(t, res, "park 1, granted as it parked")
	s := granted.Load()
	if s == nil {
		t.Fatal("park 1 returned, but the hook did not grant it")
	}
	if r.v != 42 || r.err != nil {
		t.Fatalf("park 1 returned (%d, %v), want the grant's (42, nil)", r.v, r.err)
	}
	if n := s.pending(); n != 0 {
		t.Fatalf("after the refused park the signal holds %d signals, want 0", n)
	}
	// park 2: the reused waiter parks for its own grant
	next <- struct{}{}
	waitFrontParked(t, &mu, &q)
	select {
	case r := <-res:
		t.Fatalf("park 2 returned (%d, %v) before any grant", r.v, r.err)
	default:
	}
	mu.Lock()
	w := q.PopLive()
	w.Val = 7
	w.Grant()
	mu.Unlock()
	if r := recvBounded(t, res, "park 2"); r.v != 7 || r.err != nil {
		t.Fatalf("park 2 returned (%d, %v), want (7, nil)", r.v, r.err)
	}
}

// The signal's recv runs the same loop as Block: a send that lands between
// recvNow and commitPark refuses the park, and recv takes that signal,
// leaving no count behind.
func TestSignalRecvRefusedPark(t *testing.T) {
	s := newSignal()
	var sent atomic.Bool
	commitHook = func(x *signal) {
		if x == s && !sent.Swap(true) {
			s.send() // on the receiver's scheduler stack: a count, no wake
		}
	}
	defer func() { commitHook = nil }()
	done := make(chan struct{})
	go func() { s.recv(); close(done) }()
	recvBounded(t, done, "recv after the send that refused its park")
	if !sent.Load() {
		t.Fatal("recv returned without parking")
	}
	if n := s.pending(); n != 0 {
		t.Fatalf("after the refused park the signal holds %d signals, want 0", n)
	}
}
