//go:build !race && !asan && !msan

package internal

import (
	"runtime"
	"strings"
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
