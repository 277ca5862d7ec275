package internal

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

type uint64Counter struct{ v atomic.Uint64 }

func (c *uint64Counter) add() uint64 { return c.v.Add(1) }

func gosched() { runtime.Gosched() }

// spares keeps arrays of T that a simulation grew and let go of, for the
// next growth of one of its own or of a later simulation's (a test suite's
// runs, a parameter sweep's, sim.Explore's schedules): one sync.Pool per
// power-of-two capacity, so that the collector drops the arrays no run
// takes. The scheduler's timer buckets, its run queue and its nodes' parked
// sets grow with the tasks (100,000 tasks set up at once grow them to a few
// megabytes each run).
type spares[T any] struct{ class [40]sync.Pool }

// get returns an empty slice with a capacity of at least n, a power of two.
func (p *spares[T]) get(n int) []T {
	k := bits.Len(uint(n - 1))
	if k < len(p.class) {
		if a, ok := p.class[k].Get().(*[]T); ok {
			return (*a)[:0]
		}
	}
	return make([]T, 0, 1<<k)
}

// put clears s's array and keeps it, if get made it; s must not be used
// again.
func (p *spares[T]) put(s []T) {
	c := cap(s)
	if c == 0 || c&(c-1) != 0 {
		return
	}
	s = s[:c]
	clear(s)
	if k := bits.Len(uint(c - 1)); k < len(p.class) {
		p.class[k].Put(&s)
	}
}

// grow returns s's entries in an array of twice its capacity (at least
// 16), and keeps s's array for later.
func (p *spares[T]) grow(s []T) []T {
	n := p.get(max(2*cap(s), 16))
	n = append(n, s...)
	p.put(s)
	return n
}
