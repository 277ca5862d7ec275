package internal

import (
	"testing"
	"unsafe"
)

// A simulation may hold a million tasks at once: the scheduler's state of a
// task stays within the 288-byte size class (a coroutine has no object of
// its own beyond iter.Pull's: see newCoro; the whole of what a sleeping
// task holds is TestSimMemoryPerTask's, in package tock).
func TestSimTaskSize(t *testing.T) {
	if got := unsafe.Sizeof(simTask{}); got > 288 {
		t.Errorf("simTask is %d bytes, over the 288-byte size class: make rarely used state lazy (see rareState)", got)
	}
}
