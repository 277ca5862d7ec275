package tock

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tockgo/tock/internal"
)

// Container is a level of some continuous or countable stuff (fuel in a
// tank, money in an account, parts in a bin) between 0 and a capacity. Put
// adds to it, blocking until the amount fits; Get takes from it, blocking
// until the amount is there. Each side is served FIFO: a Put (or Get) waits
// while an earlier one waits, even if its own amount would fit, so a large
// request is never starved by small ones. Make one with NewContainer.
//
// In a simulation, a Put or Get that does not wait is a checkpoint (the
// tasks already runnable run first), as a Semaphore's Acquire is.
type Container struct {
	mu       sync.Mutex
	level    float64
	capacity float64
	puts     internal.Queue[float64]
	gets     internal.Queue[float64]
	mons     atomic.Pointer[Monitors] // see Watch (watch.go)
}

// ContainerStats is a snapshot of a Container.
type ContainerStats struct {
	Level       float64
	Capacity    float64
	WaitingPuts int // tasks blocked in Put
	WaitingGets int // tasks blocked in Get
}

// NewContainer returns a container of the given capacity (math.Inf(1) for
// no limit) holding initial. It panics if capacity is not positive, or
// initial is negative, NaN or above capacity.
func NewContainer(capacity, initial float64) *Container {
	if !(capacity > 0) {
		panic("tock: NewContainer: the capacity " + ftoa(capacity) + " is not positive")
	}
	if !(initial >= 0) || initial > capacity {
		panic("tock: NewContainer: the initial level " + ftoa(initial) + " is not between 0 and the capacity " + ftoa(capacity))
	}
	return &Container{level: initial, capacity: capacity}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (c *Container) checkAmount(op string, amount float64) {
	if c.capacity == 0 {
		panic("tock: Container." + op + ": the Container was not made with NewContainer")
	}
	if !(amount >= 0) || math.IsInf(amount, 1) {
		panic("tock: Container." + op + ": the amount " + ftoa(amount) + " is not a finite non-negative number")
	}
	if amount > c.capacity {
		panic("tock: Container." + op + ": the amount " + ftoa(amount) + " exceeds the capacity " + ftoa(c.capacity) + " (it could never fit)")
	}
}

// Put adds amount to the level, blocking while it does not fit under the
// capacity or an earlier Put waits. It returns ctx's error, adding nothing,
// if ctx is done before the amount is added (even if it fits); once added,
// Put returns nil even if ctx is cancelled meanwhile. It panics if amount is
// negative, NaN, infinite or above the capacity, and if ctx is nil. A Put
// happens before the Gets it lets through return.
func (c *Container) Put(ctx context.Context, amount float64) error {
	panicIfNilCtx("Container.Put", ctx)
	if m := c.mons.Load(); m != nil {
		return c.putWatched(m, ctx, amount)
	}
	return c.op(ctx, amount, true)
}

// Get takes amount from the level, blocking while the level is below amount
// or an earlier Get waits, with the cancellation rules and panics of Put. A
// Get happens before the Puts it makes room for return.
func (c *Container) Get(ctx context.Context, amount float64) error {
	panicIfNilCtx("Container.Get", ctx)
	if m := c.mons.Load(); m != nil {
		return c.getWatched(m, ctx, amount)
	}
	return c.op(ctx, amount, false)
}

func (c *Container) op(ctx context.Context, amount float64, put bool) error {
	name, q := "Get", &c.gets
	if put {
		name, q = "Put", &c.puts
	}
	c.checkAmount(name, amount)
	if err := ctx.Err(); err != nil {
		return err
	}
	call := internal.DecodeRT(ctx) // before the mutex: a misuse check may panic
	c.mu.Lock()
	if q.FrontLive() == nil && c.fits(amount, put) {
		c.apply(ctx, amount, put)
		c.dispatch(ctx)
		c.mu.Unlock()
		call.RT.Checkpoint()
		return nil
	}
	// A waiter that left (it gave up, or its park panicked: a ctx of the
	// user's own type, a simulation unwinding the task) may have held back
	// the ones behind it.
	served := false
	defer func() {
		if !served {
			c.mu.Lock()
			c.dispatch(ctx)
			c.mu.Unlock()
		}
	}()
	_, err := internal.Block(ctx, call, &c.mu, q, amount, "Container."+name)
	served = err == nil
	return err
}

// TryPut adds amount if it fits now and no Put waits, and reports whether it
// did. It panics as Put does. A Get happens before the TryPut it makes room
// for returns, and a TryPut before the Gets it lets through return.
func (c *Container) TryPut(amount float64) bool { return c.try(amount, true) }

// TryGet takes amount if the level holds it now and no Get waits, and
// reports whether it did. It panics as Get does. A Put happens before the
// TryGet it lets through returns, and a TryGet before the Puts it makes
// room for return.
func (c *Container) TryGet(amount float64) bool { return c.try(amount, false) }

func (c *Container) try(amount float64, put bool) bool {
	name, q := "TryGet", &c.gets
	if put {
		name, q = "TryPut", &c.puts
	}
	c.checkAmount(name, amount)
	c.mu.Lock()
	defer c.mu.Unlock()
	if q.FrontLive() != nil || !c.fits(amount, put) {
		return false
	}
	c.apply(nil, amount, put)
	c.dispatch(nil)
	return true
}

func (c *Container) fits(amount float64, put bool) bool {
	if put {
		return c.level+amount <= c.capacity
	}
	return c.level >= amount
}

func (c *Container) apply(ctx context.Context, amount float64, put bool) {
	if put {
		c.level += amount
	} else {
		c.level -= amount
	}
	c.mons.Load().level(c.level)
}

// dispatch serves the heads of both queues while they fit, with c.mu held.
func (c *Container) dispatch(ctx context.Context) {
	for progress := true; progress; {
		progress = false
		if w := c.gets.FrontLive(); w != nil && c.fits(w.Val, false) {
			c.gets.Remove(w)
			if w.Claim() { // a Select case that lost is passed over
				c.apply(ctx, w.Val, false)
				w.Grant()
			}
			progress = true
		}
		if w := c.puts.FrontLive(); w != nil && c.fits(w.Val, true) {
			c.puts.Remove(w)
			if w.Claim() {
				c.apply(ctx, w.Val, true)
				w.Grant()
			}
			progress = true
		}
	}
}

// Level is the current level.
func (c *Container) Level() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.level
}

// Monitor makes m follow the level (call it before the container is used;
// nil detaches): Watch with only Level changed.
func (c *Container) Monitor(m *Monitor) {
	var w Monitors
	if old := c.mons.Load(); old != nil {
		w = *old
	}
	w.Level = m
	c.Watch(&w)
}

// Capacity is the container's capacity.
func (c *Container) Capacity() float64 { return c.capacity }

// Stats returns a snapshot of the container.
func (c *Container) Stats() ContainerStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ContainerStats{Level: c.level, Capacity: c.capacity, WaitingPuts: c.puts.Len(), WaitingGets: c.gets.Len()}
}

// putWatched is Put timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (c *Container) putWatched(m *Monitors, ctx context.Context, amount float64) error {
	return timed(m, ctx, func() error { return c.op(ctx, amount, true) })
}

// getWatched is Get timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (c *Container) getWatched(m *Monitors, ctx context.Context, amount float64) error {
	return timed(m, ctx, func() error { return c.op(ctx, amount, false) })
}
