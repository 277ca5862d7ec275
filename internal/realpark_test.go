package internal

import (
	"runtime"
	"sync"
	"testing"
)

// The real runtime's signal (realpark.go, or realpark_chan.go under the
// race detector): a count of signals sent and not received, at most one
// receiver, sends that never block.

// recvWithin runs s.recv (or recvOr with done) in a goroutine and reports
// its result within 10 s, failing the test past that bound.
func recvWithin(t *testing.T, what string, recv func() bool) bool {
	t.Helper()
	got := make(chan bool, 1)
	go func() { got <- recv() }()
	return recvBounded(t, got, what)
}

// Sends before any receive are counted, each received once, and never block.
func TestSignalCountsSends(t *testing.T) {
	s := newSignal()
	s.send()
	s.send()
	if n := s.pending(); n != 2 {
		t.Fatalf("pending after two sends = %d, want 2", n)
	}
	recvWithin(t, "first receive of two sends", func() bool { s.recv(); return true })
	recvWithin(t, "second receive of two sends", func() bool { s.recv(); return true })
	if n := s.pending(); n != 0 {
		t.Fatalf("pending after two receives = %d, want 0", n)
	}
	// a third receive waits for a third send
	got := make(chan bool, 1)
	go func() { s.recv(); got <- true }()
	waitParked(t, s)
	select {
	case <-got:
		t.Fatal("a receive with nothing sent returned")
	default:
	}
	s.send()
	recvBounded(t, got, "the receive of a send made while it waited")
}

// A receive that parked (realpark.go: its goroutine handed to the
// scheduler) is readied by the next send, every time: a receiver and a
// sender alternate on two signals (a ping-pong) many times, so that the
// sends meet the receiver before, while and after it parks.
func TestSignalPingPong(t *testing.T) {
	const rounds = 200000
	a, b := newSignal(), newSignal()
	done := make(chan bool, 1)
	go func() {
		for i := 0; i < rounds; i++ {
			a.recv()
			b.send()
		}
		done <- true
	}()
	fin := make(chan bool, 1)
	go func() {
		for i := 0; i < rounds; i++ {
			a.send()
			b.recv()
		}
		fin <- true
	}()
	recvBounded(t, done, "the ping-pong's echo side (a lost wake-up?)")
	recvBounded(t, fin, "the ping-pong's driver (a lost wake-up?)")
	if a.pending() != 0 || b.pending() != 0 {
		t.Fatalf("pending after the ping-pong: %d, %d; want 0, 0", a.pending(), b.pending())
	}
}

// Many senders at once (a grant and a watcher, from several goroutines):
// every signal is received exactly once, none lost, none doubled.
func TestSignalConcurrentSenders(t *testing.T) {
	const senders, each = 4, 5000
	for round := 0; round < 3; round++ {
		s := newSignal()
		var wg sync.WaitGroup
		for i := 0; i < senders; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					s.send()
					if j%64 == 0 {
						runtime.Gosched()
					}
				}
			}()
		}
		recvWithin(t, "receiving every signal of concurrent senders", func() bool {
			for i := 0; i < senders*each; i++ {
				s.recv()
			}
			return true
		})
		wg.Wait()
		if n := s.pending(); n != 0 {
			t.Fatalf("round %d: %d signals left over, want 0 (a send counted twice?)", round, n)
		}
	}
}

// recvOr: a signal already sent wins without a select; done closed first
// ends the wait with false, and a send after that (a grant that raced the
// cancellation) is still received by the next recv (the drain); after a
// reset the signal counts again.
func TestSignalRecvOr(t *testing.T) {
	s := newSignal()
	s.send()
	never := make(chan struct{})
	if !recvWithin(t, "recvOr with a signal sent", func() bool { return s.recvOr(never) }) {
		t.Fatal("recvOr with a signal already sent returned false")
	}
	done := make(chan struct{})
	close(done)
	if recvWithin(t, "recvOr with done closed", func() bool { return s.recvOr(done) }) {
		t.Fatal("recvOr with done closed and nothing sent returned true")
	}
	s.send() // the grant that raced
	recvWithin(t, "the drain of a send after a select ended", func() bool { s.recv(); return true })
	if n := s.pending(); n != 0 {
		t.Fatalf("pending after the drain = %d, want 0", n)
	}

	// a select under way is woken by a send
	open := make(chan struct{})
	got := make(chan bool, 1)
	go func() { got <- s.recvOr(open) }()
	s.send()
	if !recvBounded(t, got, "recvOr woken by a send") {
		t.Fatal("recvOr woken by a send returned false")
	}
	// and by a close of done
	go func() { got <- s.recvOr(open) }()
	close(open)
	if recvBounded(t, got, "recvOr woken by done's close") {
		t.Fatal("recvOr woken by done's close returned true")
	}

	s.reset()
	s.send()
	s.send()
	if n := s.pending(); n != 2 {
		t.Fatalf("pending after a reset and two sends = %d, want 2", n)
	}
	recvWithin(t, "receives after a reset", func() bool { s.recv(); s.recv(); return true })
}
