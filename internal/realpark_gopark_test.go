//go:build !race && !asan && !msan

package internal

import (
	"runtime"
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
