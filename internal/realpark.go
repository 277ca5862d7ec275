//go:build !race && !asan && !msan

package internal

import (
	"sync/atomic"
	"unsafe"
)

// signal is how a task parked on the real runtime is woken: a count of
// signals sent and not yet received, with the parked goroutine handed to
// the Go scheduler directly (runtime.gopark and runtime.goready, which the
// runtime keeps for packages outside the standard library: go.dev/issue/67401).
// A channel's receive and send do the same with the channel's lock and a
// sudog on each side; this measured a third faster per hand-off (a
// contended lock's, a ping-pong's). A park that must also wait on a ctx's
// Done (a select) switches the signal to a channel for the rest of the
// wait (see recvOr). Under the race detector (and asan, msan) the signal
// is a channel (realpark_chan.go): the detector sees the synchronization
// of channels, not the runtime's.
//
// At most one goroutine receives at a time (the parked task); any number
// may send. A send never blocks.
type signal struct {
	// n is the count of signals sent and not received (>= 0), or
	// sigParked (a receiver is parked: its goroutine is g), or
	// sigSelecting (the receiver selects: signals go to ch).
	n     atomic.Int32
	woken bool    // set by the send that readied the parked receiver
	g     uintptr // the parked receiver's goroutine (a *g, kept alive by the runtime)
	ch    chan struct{}
	// bubbled: made inside a testing/synctest bubble, s is a channel for
	// good (see newSignal)
	bubbled bool
}

const (
	sigParked    = -1
	sigSelecting = -2
)

//go:linkname gopark runtime.gopark
func gopark(unlockf func(gp uintptr, s unsafe.Pointer) bool, s unsafe.Pointer, reason uint8, traceReason uint8, traceskip int)

//go:linkname goready runtime.goready
func goready(gp uintptr, traceskip int)

// newSignal returns a signal with nothing sent. One made inside a
// testing/synctest bubble is a channel for good (the selecting state,
// never reset): the bubble counts a goroutine blocked on a channel made in
// it as durably blocked, and advances its fake clock once all are, while a
// goroutine the runtime parks for a package outside the standard library
// counts as running (the bubble would never go idle, and a time.Sleep in
// it would never end). See inBubble, and Parker.readySignal, which makes
// a bubble's signal serve one wait only.
func newSignal() *signal {
	s := new(signal)
	if inBubble() {
		s.ch = make(chan struct{}, 2)
		s.n.Store(sigSelecting)
		s.bubbled = true
	}
	return s
}

// reset readies s for a new wait, at a Prepare: a wait that selected
// leaves s in the selecting state (its channel is empty: every signal of
// the wait was received). A bubble's signal is never reset (see
// Parker.readySignal).
func (s *signal) reset() {
	if s.n.Load() == sigSelecting {
		s.n.Store(0)
	}
}

// send sends one signal: it readies the parked receiver, or counts the
// signal for the next receive, or sends it on the channel of a receiver
// that selects (which has room: a wait is sent at most two signals).
func (s *signal) send() {
	for {
		switch n := s.n.Load(); n {
		case sigParked:
			if s.n.CompareAndSwap(sigParked, 0) {
				g := s.g
				s.g = 0
				s.woken = true
				goready(g, 1)
				return
			}
		case sigSelecting:
			s.ch <- struct{}{}
			return
		default:
			if s.n.CompareAndSwap(n, n+1) {
				return
			}
		}
	}
}

// commitPark is gopark's unlock function, run once the receiver's
// goroutine is off its stack: it parks only if no signal came meanwhile.
// It runs on the scheduler's stack: no allocation, no blocking.
func commitPark(gp uintptr, p unsafe.Pointer) bool {
	s := (*signal)(p)
	if commitHook != nil {
		commitHook(s)
	}
	s.g = gp
	if s.n.CompareAndSwap(0, sigParked) {
		return true
	}
	s.g = 0
	return false
}

// commitHook, when set (by tests only, while no other task parks), is
// called by commitPark before it tries to park: a test sends there to
// make the park find a signal that came after recvNow, and be refused.
var commitHook func(s *signal)

// recv receives one signal, parking until one is sent. Block runs the
// same loop in its own frame (see Block).
func (s *signal) recv() {
	for !s.recvNow() {
		gopark(commitPark, unsafe.Pointer(s), 0, 0, 1)
		if s.woken {
			return // the send that readied us was this receive's signal
		}
	}
}

// recvNow receives a signal that needs no park of the goroutine (one
// counted already, or one on the channel of the selecting state, whose
// receive may block), or reports false, with s readied for a park:
// the caller then parks with gopark(commitPark, s), and once it returns
// has the signal if s.woken, or calls recvNow again (commitPark found a
// signal counted meanwhile and did not park).
func (s *signal) recvNow() bool {
	for {
		switch n := s.n.Load(); {
		case n > 0:
			if s.n.CompareAndSwap(n, n-1) {
				return true
			}
		case n == sigSelecting:
			<-s.ch
			return true
		default:
			s.woken = false
			return false
		}
	}
}

// recvOr receives one signal, or returns false once done is closed first;
// with both ready, either may win. From its select on, s sends on its
// channel until the next reset.
func (s *signal) recvOr(done <-chan struct{}) bool {
	for {
		n := s.n.Load()
		if n > 0 {
			if s.n.CompareAndSwap(n, n-1) {
				return true
			}
			continue
		}
		if n == sigSelecting {
			break
		}
		if s.ch == nil {
			s.ch = make(chan struct{}, 2)
		}
		if s.n.CompareAndSwap(0, sigSelecting) {
			break
		}
	}
	select {
	case <-s.ch:
		return true
	case <-done:
		return false
	}
}

// pending is the number of signals sent and not received (for tests).
func (s *signal) pending() int {
	switch n := s.n.Load(); {
	case n == sigSelecting:
		return len(s.ch)
	case n > 0:
		return int(n)
	}
	return 0
}
