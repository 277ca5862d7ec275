package internal

import (
	"runtime"
	"sync/atomic"
)

type uint64Counter struct{ v atomic.Uint64 }

func (c *uint64Counter) add() uint64 { return c.v.Add(1) }

func gosched() { runtime.Gosched() }

// appendDoubling is append(s, v), growing a full s to twice its length.
// append grows a large slice by about 1.25x, so a slice that grows to n
// entries one at a time has allocated about 5n entries on the way; doubling
// allocates 2n. The scheduler's per-task slices (a timer bucket, a node's
// parked set) grow so with 100,000 tasks set up at once, and that garbage
// was about a tenth of what their set-up allocated.
func appendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		n := make([]T, len(s), 2*len(s)+16)
		copy(n, s)
		s = n
	}
	return append(s, v)
}
