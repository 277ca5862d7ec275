//go:build race || asan || msan

package internal

import "unsafe"

// signal is realpark.go's, as a channel: under the race detector (and
// asan, msan), whose instrumentation sees a channel's synchronization but
// not the runtime's park and ready, and must not run on the scheduler's
// stack, where realpark.go's commit runs. Two slots: a wait is sent at most
// two signals (a grant's and a cancellation watcher's), and a send never
// blocks.
type signal struct {
	ch      chan struct{}
	bubbled bool // made inside a testing/synctest bubble (see inBubble)
	woken   bool // never set: recvNow always receives
}

func newSignal() *signal { return &signal{ch: make(chan struct{}, 2), bubbled: inBubble()} }

func (s *signal) reset() {}

func (s *signal) send() { s.ch <- struct{}{} }

func (s *signal) recv() { <-s.ch }

// recvNow receives the signal: a park through the channel, so Block's
// loop never reaches its gopark.
func (s *signal) recvNow() bool {
	<-s.ch
	return true
}

// gopark and commitPark are realpark.go's, never called in this build
// (recvNow always receives).
func gopark(func(uintptr, unsafe.Pointer) bool, unsafe.Pointer, uint8, uint8, int) {
	panic("tock: internal error: gopark in the channel build")
}

func commitPark(uintptr, unsafe.Pointer) bool { return false }

func (s *signal) recvOr(done <-chan struct{}) bool {
	select {
	case <-s.ch:
		return true
	case <-done:
		return false
	}
}

// pending is the number of signals sent and not received (for tests).
func (s *signal) pending() int { return len(s.ch) }
