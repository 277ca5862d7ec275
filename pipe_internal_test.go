package tock

import (
	"context"
	"testing"
)

// Issue 12, defect 7 (white box): a ring buffer gives its memory back. The
// capacity never exceeds max(ringMin, 4n) for n items, after any sequence
// of pushes and pops, and returns to ringMin once drained.
func TestRingShrinks(t *testing.T) {
	var r ring[int]
	check := func(when string) {
		t.Helper()
		if c := len(r.b); c > max(ringMin, 4*r.n) || (c&(c-1)) != 0 {
			t.Fatalf("%s: %d items in %d slots; want at most max(%d, 4n), a power of two", when, r.n, c, ringMin)
		}
	}
	next, want := 0, 0 // FIFO: pops see 0, 1, 2, ... in order
	push := func(k int) {
		for i := 0; i < k; i++ {
			r.push(next)
			next++
			check("push")
		}
	}
	pop := func(k int) {
		for i := 0; i < k; i++ {
			if v := r.pop(); v != want {
				t.Fatalf("pop = %d, want %d", v, want)
			}
			want++
			check("pop")
		}
	}
	// bursts of different sizes, with the head wrapped around
	for _, burst := range []int{5, 100, 3, 10000, 17, 1 << 16} {
		push(burst)
		pop(burst / 3)
		push(burst / 2)
		pop(r.n)
		if len(r.b) != ringMin {
			t.Fatalf("drained after a burst of %d: %d slots, want %d", burst, len(r.b), ringMin)
		}
	}
	// steady traffic at a small length does not keep resizing the buffer
	push(3)
	for i := 0; i < 1000; i++ {
		push(1)
		pop(1)
	}
	if len(r.b) != ringMin {
		t.Fatalf("steady state: %d slots", len(r.b))
	}
}

type item64 [64]byte

// A Queue, a stream and a Subscription drained after a burst of 64-byte
// items keep ringMin slots, not the burst's peak.
func TestBuffersShrinkAfterBurst(t *testing.T) {
	ctx := context.Background()
	const n = 1_000_000
	q := NewQueue[item64]()
	for i := 0; i < n; i++ {
		q.Put(ctx, item64{byte(i)})
	}
	if c := len(q.p.buf.b); c < n {
		t.Fatalf("queue holding %d items has %d slots", n, c)
	}
	for i := 0; i < n; i++ {
		if v, err := q.Get(ctx); err != nil || v[0] != byte(i) {
			t.Fatalf("Get %d = %d, %v", i, v[0], err)
		}
	}
	if c := len(q.p.buf.b); c != ringMin {
		t.Fatalf("drained queue keeps %d slots (%d bytes); want %d", c, c*64, ringMin)
	}

	const m = 100_000
	s, r := NewStream[item64](Unbounded)
	for i := 0; i < m; i++ {
		if err := s.TrySend(item64{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < m; i++ {
		if _, err := r.TryReceive(); err != nil {
			t.Fatal(err)
		}
	}
	if c := len(r.st.p.buf.b); c != ringMin {
		t.Fatalf("drained stream keeps %d slots; want %d", c, ringMin)
	}
	// the last receiver closed: what is buffered goes at once
	for i := 0; i < m; i++ {
		s.TrySend(item64{})
	}
	r.Close()
	if c := cap(r.st.p.buf.b); c != 0 {
		t.Fatalf("stream whose receivers are all closed keeps %d slots", c)
	}
	if st := s.Stats(); st.BufferUsed != 0 || st.Discarded != m {
		t.Fatalf("after the last receiver closed: %+v", st)
	}

	ch := NewChannel[item64]()
	sub := ch.Subscribe()
	for i := 0; i < m; i++ {
		ch.Put(ctx, item64{})
	}
	for i := 0; i < m; i++ {
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if c := len(sub.p.buf.b); c != ringMin {
		t.Fatalf("drained subscription keeps %d slots; want %d", c, ringMin)
	}
	sub.Close()
}
