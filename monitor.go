package tock

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/tockgo/tock/internal"
)

// Monitor is a time-weighted statistic of a value that changes over time: a
// queue's length, a resource's use, a level. Its Mean weighs each value by
// how long it was held on the clock of the ctx given to NewMonitor (the
// virtual clock in a simulation). Change it with Set or Add, or attach it to
// any primitive through Monitors and the primitive's Watch method, which
// then records every change exactly when it happens. It is safe for
// concurrent use. Its zero value is not usable: make it with NewMonitor
// (Set, Add and Reset panic on a zero Monitor, and so does a Watch given
// one).
type Monitor struct {
	mu       sync.Mutex
	rt       internal.Runtime
	start    time.Time
	last     time.Time
	v        float64
	area     float64 // integral of v dt, in value-seconds
	area2    float64 // integral of v² dt
	min, max float64
	changes  int
}

// NewMonitor returns a monitor holding initial from Now(ctx) on, on ctx's
// clock.
func NewMonitor(ctx context.Context, initial float64) *Monitor {
	rt := internal.RuntimeOf(ctx)
	now := rt.Now()
	return &Monitor{rt: rt, start: now, last: now, v: initial, min: initial, max: initial}
}

// usable panics, before m.mu is taken, on a zero Monitor.
func (m *Monitor) usable() {
	if m.rt == nil {
		panic("tock: Monitor: the zero Monitor is not usable; make it with NewMonitor(ctx, initial)")
	}
}

// advance accumulates the current value up to now, with m.mu held.
func (m *Monitor) advance() time.Time {
	now := m.rt.Now()
	if dt := now.Sub(m.last).Seconds(); dt > 0 {
		m.area += m.v * dt
		m.area2 += m.v * m.v * dt
		m.last = now
	}
	return now
}

// record changes the value to v from now on (Set, and the primitives'
// changes).
func (m *Monitor) record(v float64, _ context.Context) {
	m.usable()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.change(v)
}

// add changes the value by d from now on and returns the new value, reading
// and changing it under one hold of m.mu, so that concurrent adds are not
// lost (Add, and a Channel's Queue monitor).
func (m *Monitor) add(d float64) float64 {
	m.usable()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.change(m.v + d)
	return m.v
}

// change is the one change of the value, to v, with m.mu held: it
// accumulates the old value up to now, then counts the change and widens
// the extremes.
func (m *Monitor) change(v float64) {
	m.advance()
	m.v = v
	m.min = math.Min(m.min, v)
	m.max = math.Max(m.max, v)
	m.changes++
}

// Set changes the value to v from now on.
func (m *Monitor) Set(v float64) { m.record(v, nil) }

// Add changes the value by d from now on (Add(1) when a server becomes busy,
// Add(-1) when it becomes idle) and returns the new value. The read and the
// change are one step: concurrent Adds are never lost.
func (m *Monitor) Add(d float64) float64 { return m.add(d) }

// Reset forgets the history (a warm-up period) and starts again from now
// with the current value.
func (m *Monitor) Reset() {
	m.usable()
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.rt.Now()
	m.start, m.last, m.area, m.area2, m.min, m.max, m.changes = now, now, 0, 0, m.v, m.v, 0
}

// MonitorStats is a snapshot of a Monitor.
type MonitorStats struct {
	Value    float64       // the current value
	Mean     float64       // time-weighted mean since the start (the current value if no time passed)
	StdDev   float64       // time-weighted standard deviation
	Min, Max float64       // extremes of the value since the start
	Duration time.Duration // time observed
	Changes  int           // number of Set, Add or attached changes
}

// Stats returns the statistics from the start (or the last Reset) to now.
// It panics on the zero Monitor.
func (m *Monitor) Stats() MonitorStats {
	m.usable()
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.advance()
	d := now.Sub(m.start)
	s := MonitorStats{Value: m.v, Mean: m.v, Min: m.min, Max: m.max, Duration: d, Changes: m.changes}
	if secs := d.Seconds(); secs > 0 {
		s.Mean = m.area / secs
		s.StdDev = math.Sqrt(math.Max(0, m.area2/secs-s.Mean*s.Mean))
	}
	return s
}

// Mean is Stats().Mean: the time-weighted mean up to now. It panics on
// the zero Monitor.
func (m *Monitor) Mean() float64 { return m.Stats().Mean }

// Value is the current value.
func (m *Monitor) Value() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.v
}

// Tally is a distribution of observations (wait times, sizes): count, mean,
// standard deviation, extremes and quantiles. The zero value is empty and
// ready to use; it is safe for concurrent use. It keeps every observation
// (for Quantile).
type Tally struct {
	mu      sync.Mutex
	samples []float64
	sum     float64
	sorted  bool
}

// Add records one observation.
func (t *Tally) Add(x float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.samples = append(t.samples, x)
	t.sum += x
	t.sorted = false
}

// AddDuration records d in seconds.
func (t *Tally) AddDuration(d time.Duration) { t.Add(d.Seconds()) }

// Time runs wait (any blocking tock call: a Get, an Acquire, a Lock) and,
// if it returns nil, records how long it blocked, in seconds on ctx's
// clock. It returns wait's error. Monitors.Wait records the waits of a
// primitive's own blocking calls; Time measures any wait (a Select, a
// Pipe transfer, a sequence of calls).
func (t *Tally) Time(ctx context.Context, wait func(ctx context.Context) error) error {
	start := Now(ctx)
	err := wait(ctx)
	if err == nil {
		t.AddDuration(Now(ctx).Sub(start))
	}
	return err
}

// TallyStats is a snapshot of a Tally.
type TallyStats struct {
	Count    int
	Mean     float64 // 0 if Count is 0
	StdDev   float64 // sample standard deviation (n-1); 0 if Count < 2
	Min, Max float64 // 0 if Count is 0
}

// Stats returns a snapshot of the tally.
func (t *Tally) Stats() TallyStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.samples)
	s := TallyStats{Count: n}
	if n == 0 {
		return s
	}
	s.Mean = t.sum / float64(n)
	s.Min, s.Max = t.samples[0], t.samples[0]
	var ss float64
	for _, x := range t.samples {
		s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
		ss += (x - s.Mean) * (x - s.Mean)
	}
	if n > 1 {
		s.StdDev = math.Sqrt(ss / float64(n-1))
	}
	return s
}

// Quantile returns the q-quantile (0 <= q <= 1) of the observations, by
// linear interpolation between the closest ranks; NaN if there are none. It
// panics if q is outside [0, 1].
func (t *Tally) Quantile(q float64) float64 {
	if !(q >= 0 && q <= 1) {
		panic("tock: Tally.Quantile: q must be between 0 and 1")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.samples)
	if n == 0 {
		return math.NaN()
	}
	if !t.sorted {
		slices.Sort(t.samples)
		t.sorted = true
	}
	pos := q * float64(n-1)
	i := int(pos)
	if i >= n-1 {
		return t.samples[n-1]
	}
	f := pos - float64(i)
	return t.samples[i]*(1-f) + t.samples[i+1]*f
}
