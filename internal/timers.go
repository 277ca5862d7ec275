package internal

import "math/bits"

// ---- timers: a radix heap of values, keyed by when, FIFO among equal whens ----
//
// The simulation's clock never goes back, and no timer is ever set at or
// before the current instant, so the pending timers form a monotone priority
// queue: the smallest key only grows. A radix heap exploits that. Entries sit
// in 65 buckets by the highest bit in which their when differs from the
// instant the queue last advanced to: bucket 0 holds whens equal to it,
// bucket b a when whose highest differing bit is b-1. Every entry in a lower
// bucket is earlier than every entry in a higher one, so the earliest timer
// is in the lowest non-empty bucket. Setting a timer is an append. Advancing
// the clock redistributes the lowest bucket into lower ones; an entry only
// ever moves down, so it is moved at most 64 times in its life and, for
// delays of similar size, a few times. A binary heap of 1,000 timers walks
// 10 dependent levels per pop instead, and that walk was a fifth of the cost
// of a sleep event.
//
// Cancelled timers are dropped lazily. Each bucket keeps its earliest
// entry, so when the earliest timer is stopped, finding the new one scans
// the lowest bucket only: a timer set and stopped again and again near the
// clock (a short timeout that is rarely reached) does not rescan the
// timers further out.
//
// Entries with the same when always sit in the same bucket (their bucket is
// a function of when alone), in the order they were set, and every move
// keeps the order of a bucket's entries: timers due at one instant fire in
// the order they were set, with no sequence-number comparison.

// timer is a pending wake-up: a sleeping task's, or a deadline node's. A
// timer is cancelled lazily: its queue entry stays, and is dropped when it is
// next looked at, because its seq no longer matches.
type timer struct {
	seq  uint64 // the live entry's seq; 0 when none is live
	task *simTask
	node *node
}

type hent struct {
	when int64
	seq  uint64
	tm   *timer
}

func (e *hent) live() bool { return e.tm.seq == e.seq }

type timerQueue struct {
	last  uint64     // the when advanced to last; every entry's when is >= it
	mask  uint64     // bit b-1 set: bucket b (1..64) is not empty
	b     [65][]hent // b[0]: the entries due at last, while advance hands them out
	n     int        // entries held, live and stale
	stale int        // entries whose timer was cancelled

	// min[b] is bucket b's earliest entry, or unknown when its tm is nil.
	// It is kept as entries arrive, and checked for liveness before use:
	// stopping a bucket's earliest timer costs a scan of that bucket
	// alone, not of the buckets above it.
	min     [65]hent
	scanned int // entries scanned for a new earliest (for tests)
}

// bucket is the bucket of a timer at when. Whens are after the simulation's
// start (0) and the zero queue is at 0, so they compare as unsigned.
func (h *timerQueue) bucket(when int64) int { return bits.Len64(uint64(when) ^ h.last) }

// add appends e to bucket b (>= 1), keeping b's earliest.
func (h *timerQueue) add(b int, e hent) {
	if len(h.b[b]) == 0 {
		h.min[b] = e
		h.mask |= 1 << (b - 1)
	} else if m := &h.min[b]; m.tm != nil && e.when < m.when {
		*m = e
	}
	if len(h.b[b]) == cap(h.b[b]) {
		h.b[b] = bucketSpares.grow(h.b[b])
	}
	h.b[b] = append(h.b[b], e)
}

// bucketSpares keeps the timer buckets' arrays (see spares): a bucket grows
// by doubling, and its old array goes to the next bucket or run that
// grows. A run's end gives back every bucket's (release).
var bucketSpares spares[hent]

// release gives the buckets' arrays back to bucketSpares; h is empty
// after it.
func (h *timerQueue) release() {
	for i := range h.b {
		bucketSpares.put(h.b[i])
		h.b[i] = nil
	}
	*h = timerQueue{}
}

// push adds e; its when is after the instant the queue last advanced to.
func (h *timerQueue) push(e hent) {
	h.add(h.bucket(e.when), e)
	h.n++
}

// next returns the earliest live entry without advancing the queue. It is
// the lowest non-empty bucket's earliest; if that one was stopped, the
// bucket is swept.
func (h *timerQueue) next() (hent, bool) {
	for h.mask != 0 {
		b := bits.TrailingZeros64(h.mask) + 1
		if m := &h.min[b]; m.tm != nil && m.live() {
			return *m, true
		}
		if m := h.sweep(b); m.tm != nil {
			return m, true
		}
	}
	return hent{}, false
}

// sweep drops bucket b's stale entries, and returns and records its
// earliest live entry (none: tm is nil, and b is now empty).
func (h *timerQueue) sweep(b int) hent {
	s := h.b[b]
	h.scanned += len(s)
	kept := s[:0]
	var min hent
	for _, e := range s {
		if !e.live() {
			continue
		}
		if min.tm == nil || e.when < min.when {
			min = e
		}
		kept = append(kept, e)
	}
	dropped := len(s) - len(kept)
	clear(s[len(kept):])
	h.n -= dropped
	h.stale -= dropped
	h.b[b] = kept
	h.min[b] = min
	if len(kept) == 0 {
		h.mask &^= 1 << (b - 1)
	}
	return min
}

// advance moves the queue to when, which next has just returned, and returns
// the entries due at when in the order they were set. Firing one may stop a
// later one: the caller skips those, taking each off h.stale, then calls
// done.
func (h *timerQueue) advance(when int64) []hent {
	b := bits.TrailingZeros64(h.mask) + 1
	h.last = uint64(when)
	h.mask &^= 1 << (b - 1)
	h.min[b] = hent{}
	// The entries due at when stay in bucket b's array, moved to its front
	// in their order, and that array becomes bucket 0; bucket 0's array
	// (empty: done emptied it) becomes bucket b's. The arrays change
	// buckets instead of the entries being copied into another one, which
	// at 100,000 timers due together was an array grown by doubling to
	// 2.4 MB at each advance.
	src := h.b[b]
	k := 0
	for _, e := range src {
		if !e.live() {
			// dropped now rather than moved and dropped later
			h.n--
			h.stale--
			continue
		}
		// every live entry of bucket b is at or after when: it moves below b
		if nb := h.bucket(e.when); nb > 0 {
			h.add(nb, e)
		} else {
			src[k] = e
			k++
		}
	}
	clear(src[k:])
	h.b[b] = h.b[0][:0]
	h.b[0] = src[:k]
	return h.b[0]
}

// done drops the entries advance handed out; the caller has fired the live
// ones (their seq is now 0) and taken the stale ones off h.stale.
func (h *timerQueue) done() {
	due := h.b[0]
	h.n -= len(due)
	clear(due)
	h.b[0] = due[:0]
}

// compact drops every stale entry. It is not called while advance's
// entries are out (bucket 0 is empty).
func (h *timerQueue) compact() {
	for m := h.mask; m != 0; m &= m - 1 {
		h.sweep(bits.TrailingZeros64(m) + 1)
	}
}

// setTimer arms t at when, which is after the current instant. It compacts
// the queue when over half of it is stale: here, and not in stopTimer, so
// that a timer stopped while advance's entries are being fired leaves them in
// place.
func (s *Sched) setTimer(t *timer, when int64) {
	if h := &s.timers; h.stale > 1024 && h.stale > h.n/2 {
		h.compact()
	}
	s.seq++
	t.seq = s.seq
	s.timers.push(hent{when: when, seq: s.seq, tm: t})
}

// stopTimer disarms t if it is armed.
func (s *Sched) stopTimer(t *timer) {
	if t.seq != 0 {
		t.seq = 0
		s.timers.stale++
	}
}
