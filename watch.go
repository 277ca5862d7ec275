package tock

import (
	"context"

	"github.com/tockgo/tock/internal"
)

// Monitors are the statistics a watched primitive keeps about itself. Every
// primitive has a Watch method that attaches them:
//
//	use, queue := tock.NewMonitor(ctx, 0), tock.NewMonitor(ctx, 0)
//	var waits tock.Tally
//	l.Watch(&tock.Monitors{Use: use, Queue: queue, Wait: &waits})
//	... // run the model
//	fmt.Println(use.Mean(), queue.Mean(), waits.Stats().Mean) // utilisation, mean queue length, mean wait
//
// Any field may be nil (that statistic is not kept). The monitors must be
// made by NewMonitor (Watch panics on a zero Monitor, which has no clock),
// with a ctx of the runtime and simulation the primitive is used in; the
// Tally's zero value is ready to use. The primitive records
// each change exactly when it happens, under its own lock, so the monitors
// see the changes in the order they took effect, on the clock of the ctx
// each monitor was made with (virtual time in a simulation, the wall clock
// on the real runtime). What each field follows depends on the primitive
// (see its Watch method):
//
//   - Use: how much of the primitive is held: 1 while a Lock is held and 0
//     while it is free; the tokens borrowed from a CapacityLimiter or held
//     from a PriorityLimiter; the throughput in use of a Pipe. Its Mean is
//     the utilisation (divide by the total or the throughput).
//   - Queue: the number of tasks blocked in the primitive's waits (a
//     Select's waiting case counts as one; a Pipe's transfers in progress).
//   - Level: what the primitive holds: a Container's level, a Semaphore's
//     value, the items buffered in a Queue, stream or Subscription, 1 once
//     an Event is set.
//   - Wait: the duration of each blocking call that succeeded (0 for one
//     that did not have to wait), in seconds on the call's clock. Calls that
//     fail (cancelled, reneged, closed) are not recorded; neither are the
//     operations of a Select (whose own wait may be timed with Tally.Time).
//
// A primitive with no Monitors attached pays one nil check per operation.
//
// Every Watch takes the mutex the primitive's operations change its state
// under (a Condition's: its Lock's) and publishes the monitors atomically,
// so it synchronizes with the primitive's operations: it
// records into the monitors at once the state the operations before it
// left (only where it differs from a monitor's value, so the monitors need
// not be made with the right initial value), and every operation started
// after Watch returns (in the happens-before sense) is recorded. An
// operation concurrent with Watch is safe but may or may not be recorded:
// attach the monitors before the primitive is used. An operation's changes
// are recorded before it returns, so Stats read after it include them.
//
// Watch(nil) detaches: the monitors keep what they recorded and follow the
// primitive no more, except that a blocking call in progress when Watch
// returns still records its wait in the Wait tally it started with (and a
// Channel's Receive its end in the Queue monitor it was counted in, which
// keeps that monitor consistent). A Watch with other Monitors detaches the
// old ones in the same way. One Monitors may be attached to one primitive
// at a time.
type Monitors struct {
	Use   *Monitor
	Queue *Monitor
	Level *Monitor
	Wait  *Tally
}

// Watchable is what every tock primitive implements: Lock, Semaphore,
// CapacityLimiter, PriorityLimiter, Container, Pipe, Queue, SendStream,
// ReceiveStream, Subscription, Channel, Event, Condition, Tracked and Flag.
// Code that builds a model can attach statistics to primitives of any kind
// through it.
type Watchable interface {
	Watch(m *Monitors)
}

// check panics, before any primitive's mutex is taken, if a monitor of m
// is a zero Monitor (not made by NewMonitor: it has no clock to weigh its
// values by, and would fail at the primitive's first change, under its
// mutex).
func (m *Monitors) check(op string) {
	if m == nil {
		return
	}
	for _, f := range []struct {
		name string
		mon  *Monitor
	}{{"Use", m.Use}, {"Queue", m.Queue}, {"Level", m.Level}} {
		if f.mon != nil && f.mon.rt == nil {
			panic("tock: " + op + ": Monitors." + f.name + " is a zero Monitor; make it with NewMonitor(ctx, initial)")
		}
	}
}

// The recording helpers take a nil *Monitors (nothing attached) and nil
// fields.

func (m *Monitors) use(v int) {
	if m != nil && m.Use != nil {
		m.Use.record(float64(v), nil)
	}
}

func (m *Monitors) useRate(v float64) {
	if m != nil && m.Use != nil {
		m.Use.record(v, nil)
	}
}

func (m *Monitors) queue(n int) {
	if m != nil && m.Queue != nil {
		m.Queue.record(float64(n), nil)
	}
}

func (m *Monitors) level(v float64) {
	if m != nil && m.Level != nil {
		m.Level.record(v, nil)
	}
}

// initUse, initQueue and initLevel record a primitive's state when
// monitors are attached: only what differs from the monitor's value, so
// that a monitor made with the right initial value records no change.
func (m *Monitors) initUse(v int) {
	if m != nil {
		m.Use.resync(float64(v))
	}
}

func (m *Monitors) initQueue(n int) {
	if m != nil {
		m.Queue.resync(float64(n))
	}
}

func (m *Monitors) initLevel(v float64) {
	if m != nil {
		m.Level.resync(v)
	}
}

// resync records v if it differs from the value (m may be nil).
func (m *Monitor) resync(v float64) {
	if m != nil && m.Value() != v {
		m.record(v, nil)
	}
}

// onLen is the wait-queue hook (internal.Queue.OnLen) that makes m.Queue
// follow a primitive's waiters; n reports their number (the sum of several
// queues, for a primitive that has more than one). Nil if nothing follows
// them.
func (m *Monitors) onLen(n func() int) func(int) {
	if m == nil || m.Queue == nil {
		return nil
	}
	return func(int) { m.queue(n()) }
}

// timed runs f, a blocking call with ctx, and records its duration in
// m.Wait if it succeeds (see timedV).
func timed(m *Monitors, ctx context.Context, f func() error) error {
	_, err := timedV(m, ctx, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// timedV runs f, a blocking call with ctx that returns a value, and records
// its duration, on ctx's clock, in m.Wait if it succeeds. With no Wait
// tally (or no ctx, for a call that panics on it) it is f().
func timedV[T any](m *Monitors, ctx context.Context, f func() (T, error)) (T, error) {
	if m.Wait == nil || ctx == nil {
		return f()
	}
	rt := internal.RuntimeOf(ctx)
	start := rt.Now()
	v, err := f()
	if err == nil {
		m.Wait.AddDuration(rt.Now().Sub(start))
	}
	return v, err
}

// ---- Watch for each primitive ----

// Watch attaches m to the lock (nil detaches): Use is 1 while the lock is
// held (by anyone, at any depth) and 0 while it is free; Queue is the
// tasks waiting to take it (including a Condition's notified waiters);
// Wait is the time each successful Lock took. Level is not used. A watched Lock takes its internal mutex on every
// Lock, TryLock and Unlock (the unwatched fast paths are single atomic
// operations), so that the monitors see the changes in order. Values are
// weighed on each monitor's clock and waits timed on the call's; Watch
// synchronizes with the lock's operations, and Watch(nil) detaches, as
// Monitors says.
func (l *Lock) Watch(m *Monitors) {
	m.check("Lock.Watch")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mons.Store(m)
	l.q.OnLen = m.onLen(l.q.Len)
	if l.Locked() {
		m.initUse(1)
	} else {
		m.initUse(0)
	}
	m.initQueue(l.q.Len())
}

// tryLockWatched is TryLock for a watched lock.
func (l *Lock) tryLockWatched(id uint64) bool {
	if id != 0 && ownerOf(l.state.Load()) == id {
		if internal.CheckedReal {
			l.checkReentry("TryLock")
		}
		l.extra.Add(1)
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.state.CompareAndSwap(0, id<<ownerShift|lockedBit) {
		return false
	}
	l.mons.Load().use(1)
	if internal.CheckedReal {
		l.g.Store(internal.CurGoid())
	}
	return true
}

// Watch attaches m to the semaphore (nil detaches): Level is its value
// (the units available), Queue the tasks waiting in Acquire, Wait the time
// each successful Acquire took. Use is not used (a Semaphore does not know
// how many units exist). Values are weighed on each monitor's clock and
// waits timed on the call's; Watch synchronizes with the semaphore's
// operations, and Watch(nil) detaches, as Monitors says.
func (s *Semaphore) Watch(m *Monitors) {
	m.check("Semaphore.Watch")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mons.Store(m)
	s.q.OnLen = m.onLen(s.q.Len)
	m.initLevel(float64(s.value))
	m.initQueue(s.q.Len())
}

// Watch attaches m to the limiter (nil detaches): Use is the number of
// tokens borrowed (divide its Mean by the total for the utilisation),
// Queue the borrowers waiting in Acquire or AcquireFor, Wait the time each
// successful Acquire or AcquireFor took. Level is not used. Values are
// weighed on each monitor's clock and waits timed on the call's; Watch
// synchronizes with the limiter's operations, and Watch(nil) detaches, as
// Monitors says.
func (l *CapacityLimiter) Watch(m *Monitors) {
	m.check("CapacityLimiter.Watch")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mons.Store(m)
	l.q.OnLen = m.onLen(l.q.Len)
	m.initUse(len(l.held))
	m.initQueue(l.q.Len())
}

// Watch attaches m to the limiter (nil detaches): Use is the number of
// tokens held (divide its Mean by the total for the utilisation), Queue
// the tasks waiting in Acquire or AcquireTimeout, Wait the time each
// successful Acquire or AcquireTimeout took (a preemption is immediate:
// 0). Level is not used. MonitorUse and MonitorQueue set one field each.
// Values are weighed on each monitor's clock and waits timed on the
// call's; Watch synchronizes with the limiter's operations, and Watch(nil)
// detaches, as Monitors says.
func (l *PriorityLimiter) Watch(m *Monitors) {
	m.check("PriorityLimiter.Watch")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mons.Store(m)
	m.initUse(len(l.holders))
	m.initQueue(l.waiting)
}

// Watch attaches m to the container (nil detaches): Level is the level,
// Queue the tasks waiting in Put and Get together, Wait the time each
// successful Put or Get took. Use is not used. Container.Monitor sets
// Level alone. Values are weighed on each monitor's clock and waits timed
// on the call's; Watch synchronizes with the container's operations, and
// Watch(nil) detaches, as Monitors says.
func (c *Container) Watch(m *Monitors) {
	m.check("Container.Watch")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mons.Store(m)
	n := func() int { return c.puts.Len() + c.gets.Len() }
	c.puts.OnLen, c.gets.OnLen = m.onLen(n), m.onLen(n)
	m.initLevel(c.level)
	m.initQueue(n())
}

// watch attaches m to a pipe (Queue, stream, Subscription).
func (p *pipe[T]) watch(m *Monitors) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mons.Store(m)
	n := func() int { return p.recvq.Len() + p.sendq.Len() }
	p.recvq.OnLen, p.sendq.OnLen = m.onLen(n), m.onLen(n)
	p.buf.lvl = nil
	if m != nil {
		p.buf.lvl = m.Level
	}
	m.initLevel(float64(p.buf.n))
	m.initQueue(n())
}

// Watch attaches m to the queue (nil detaches): Level is the number of
// items in it, Queue the tasks waiting in Get or GetWhere, Wait the time
// each successful Get or GetWhere took. Use is not used. Values are
// weighed on each monitor's clock and waits timed on the call's; Watch
// synchronizes with the queue's operations, and Watch(nil) detaches, as
// Monitors says.
func (q *Queue[T]) Watch(m *Monitors) {
	m.check("Queue.Watch")
	q.p.watch(m)
}

// Watch attaches m to the stream (either end: they share it; nil
// detaches): Level is the number of items buffered, Queue the tasks
// blocked in Send and Receive together, Wait the time each successful Send
// and Receive took (through any handle of the stream). Use is not used.
// Values are weighed on each monitor's clock and waits timed on the
// call's; Watch synchronizes with the stream's operations, through any of
// its handles, and Watch(nil) detaches, as Monitors says.
func (s *SendStream[T]) Watch(m *Monitors) {
	m.check("SendStream.Watch")
	s.state("Watch").p.watch(m)
}

// Watch attaches m to the stream (either end: they share it; nil
// detaches); see SendStream.Watch.
func (r *ReceiveStream[T]) Watch(m *Monitors) {
	m.check("ReceiveStream.Watch")
	r.state("Watch").p.watch(m)
}

// Watch attaches m to the subscription (nil detaches): Level is the number
// of messages buffered, Queue the tasks waiting in Receive, Wait the time
// each successful Receive took. Use is not used. Values are weighed on
// each monitor's clock and waits timed on the call's; Watch synchronizes
// with the subscription's operations (and the channel's Puts into it),
// and Watch(nil) detaches, as Monitors says. It panics for a zero
// Subscription.
func (s *Subscription[T]) Watch(m *Monitors) {
	m.check("Subscription.Watch")
	s.check("Watch")
	s.p.watch(m)
}

// Watch attaches m to the channel (nil detaches): Queue is the number of
// tasks in Receive (plain Receive calls only, made after Watch: a Select's
// OnChannel case and a Subscription's Receive are not counted), Wait the
// time each successful Receive took. Level and Use are not used (a
// Channel holds nothing; watch a Subscription for what it buffers). A
// Receive counts itself in the Queue monitor it found attached when it
// started, and leaves that one when it returns, even if Watch changed the
// monitors meanwhile (attaching a Queue monitor again starts it from the
// Receives under way that counted themselves in it). Values are weighed on
// each monitor's clock and waits timed on the call's; Watch synchronizes
// with the channel's operations, and Watch(nil) detaches, as Monitors says.
func (c *Channel[T]) Watch(m *Monitors) {
	m.check("Channel.Watch")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mons.Store(m)
	if m != nil && m.Queue != nil {
		m.initQueue(c.counted[m.Queue]) // the Receives under way counted in it
	}
}

// Watch attaches m to the event (nil detaches): Level is 0 until Set and 1
// from then on, Queue the tasks waiting in Wait, Wait the time each
// successful Wait took. Use is not used. Values are weighed on each
// monitor's clock and waits timed on the call's; Watch synchronizes with
// the event's operations, and Watch(nil) detaches, as Monitors says.
func (e *Event) Watch(m *Monitors) {
	m.check("Event.Watch")
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mons.Store(m)
	e.q.OnLen = m.onLen(e.q.Len)
	if e.set {
		m.initLevel(1)
	} else {
		m.initLevel(0)
	}
	m.initQueue(e.q.Len())
}

// Watch attaches m to the condition (nil detaches): Queue is the number of
// tasks waiting in Wait for a notification, Wait the time each successful
// Wait took (until it holds the lock again; WaitFor records each Wait it
// makes). Use and Level are not used: watch the underlying Lock for its
// use. Values are weighed on each monitor's clock and waits timed on the
// call's; Watch takes the Lock's internal mutex, so it synchronizes with
// the condition's operations, and Watch(nil) detaches, as Monitors says.
func (c *Condition) Watch(m *Monitors) {
	m.check("Condition.Watch")
	l := c.lock()
	l.mu.Lock()
	defer l.mu.Unlock()
	c.mons.Store(m)
	c.q.OnLen = m.onLen(c.q.Len)
	m.initQueue(c.q.Len())
}

// Watch attaches m to the value (nil detaches): Queue is the number of
// tasks waiting in WaitUntil, Wait the time each successful WaitUntil
// took. Use and Level are not used (a value of type T need not be a
// number: record it with a Monitor's Set where it changes). Values are
// weighed on each monitor's clock and waits timed on the call's; Watch
// synchronizes with the value's operations, and Watch(nil) detaches, as
// Monitors says.
func (t *Tracked[T]) Watch(m *Monitors) {
	m.check("Tracked.Watch")
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mons.Store(m)
	t.q.OnLen = m.onLen(t.q.Len)
	m.initQueue(t.q.Len())
}

// Watch attaches m to the flag (nil detaches), as Tracked.Watch does (Wait
// and WaitClear are its WaitUntil), and Level is 1 while the flag is set
// and 0 while it is clear. Values are weighed on each monitor's clock and
// waits timed on the call's; Watch synchronizes with the flag's
// operations, and Watch(nil) detaches (the Level too), as Monitors says.
func (f *Flag) Watch(m *Monitors) {
	m.check("Flag.Watch")
	f.t.Watch(m)
	f.t.mu.Lock()
	defer f.t.mu.Unlock()
	f.t.onChange = nil
	if m != nil && m.Level != nil {
		f.t.onChange = func(on bool) {
			if on {
				m.level(1)
			} else {
				m.level(0)
			}
		}
		if f.t.v {
			m.initLevel(1)
		} else {
			m.initLevel(0)
		}
	}
}

// Watch attaches m to the pipe (nil detaches): Use is the throughput in
// use, the sum of the transfers' current rates (divide its Mean by
// Throughput for the utilisation), Queue the number of transfers in
// progress, Wait the duration of each Transfer or TransferAt that went
// through (one cancelled midway is not recorded). Level is not used. Use
// and Queue change when a transfer starts or ends, when the shares are
// planned again. Values are weighed on each monitor's clock and waits
// timed on the call's; Watch synchronizes with the pipe's operations, and
// Watch(nil) detaches, as Monitors says.
func (p *Pipe) Watch(m *Monitors) {
	m.check("Pipe.Watch")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mons.Store(m)
	var rate float64
	for _, t := range p.active {
		rate += t.rate
	}
	if m != nil {
		m.Use.resync(rate)
	}
	m.initQueue(len(p.active))
}
