package tock

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tockgo/tock/internal"
)

// Pipe is a shared bandwidth (μSim's Pipe): a link, a disk, a CPU share
// with a throughput in units per second. Each Transfer asks for a rate (by
// default the whole throughput); while the rates asked for add up to more
// than the throughput, every transfer is slowed by the same factor
// (throughput / sum of the rates asked for), a weighted fair share. The
// shares are recomputed whenever a transfer starts or ends, so each transfer
// finishes at its exact instant on ctx's clock (rounded to the nanosecond).
// Make one with NewPipe. Every transfer of one Pipe must run on one runtime.
type Pipe struct {
	mu         sync.Mutex
	throughput float64
	active     []*transfer
	last       time.Time
	mons       atomic.Pointer[Monitors] // see Watch (watch.go)
}

type transfer struct {
	remaining float64
	want      float64
	rate      float64
	finish    time.Time
	capped    bool // finish was capped (see seconds): not the real end
	q         internal.Queue[struct{}]
}

// NewPipe returns a pipe with the given throughput in units per second
// (math.Inf(1) for no limit). It panics if throughput is not positive.
func NewPipe(throughput float64) *Pipe {
	if !(throughput > 0) {
		panic("tock: NewPipe: the throughput " + ftoa(throughput) + " is not positive")
	}
	return &Pipe{throughput: throughput}
}

// Throughput is the pipe's throughput in units per second.
func (p *Pipe) Throughput() float64 { return p.throughput }

// Transfer moves total units through the pipe at up to its whole
// throughput, and blocks until they are through (see TransferAt, whose
// panics it shares).
func (p *Pipe) Transfer(ctx context.Context, total float64) error {
	panicIfNilCtx("Pipe.Transfer", ctx)
	return p.TransferAt(ctx, total, p.throughput)
}

// TransferAt moves total units through the pipe asking for rate units per
// second, and blocks until they are through: at the asked rate while the
// asked rates add up to no more than the throughput, and otherwise at the
// asked rate times throughput / (sum of the asked rates), so a transfer
// asking for more gets a larger share (an ask above the throughput is not
// capped first; an unlimited ask counts as the throughput). A total of 0 (or an unlimited rate on an unlimited pipe) is
// a Yield. It returns ctx's error if ctx is done when it is called or before
// the transfer ends; the units moved so far are then lost and the others'
// shares grow at once. It panics if total is negative, NaN or infinite, if
// rate is not positive, if ctx is nil, or if the Pipe was not made with
// NewPipe. A panic of ctx's methods (a ctx of the user's own type) takes
// the transfer out of the pipe before it goes on to the caller. Transfers
// hand nothing to each other: one's return is not ordered after another's,
// even when the clock ends it later.
func (p *Pipe) TransferAt(ctx context.Context, total, rate float64) error {
	panicIfNilCtx("Pipe.TransferAt", ctx)
	if m := p.mons.Load(); m != nil {
		return p.transferAtWatched(m, ctx, total, rate)
	}
	return p.transferAt(ctx, total, rate)
}

func (p *Pipe) transferAt(ctx context.Context, total, rate float64) error {
	if p.throughput == 0 {
		panic("tock: Pipe.Transfer: the Pipe was not made with NewPipe")
	}
	if !(total >= 0) || math.IsInf(total, 1) {
		panic("tock: Pipe.Transfer: the total " + ftoa(total) + " is not a finite non-negative number")
	}
	if !(rate > 0) {
		panic("tock: Pipe.TransferAt: the rate " + ftoa(rate) + " is not positive")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if math.IsInf(rate, 1) {
		rate = p.throughput // an unlimited ask takes what one transfer can
	}
	rt := internal.RuntimeOf(ctx)
	if total == 0 || math.IsInf(rate, 1) {
		rt.Yield()
		return ctx.Err()
	}
	t := &transfer{remaining: total, want: rate}
	p.mu.Lock()
	now := rt.Now()
	p.progress(now)
	p.active = append(p.active, t)
	p.plan(now, t)
	p.mu.Unlock()
	// p.mu is not held from here on but where it is taken and given back
	// around plain bookkeeping: ctx's methods (WithDeadline's, Err) and the
	// park, which may panic (a ctx of the user's own type, a refused
	// caller, a simulation unwinding its task), run without it, and a
	// panic takes t out of the pipe.
	through := false
	defer func() {
		if !through {
			p.mu.Lock()
			p.leave(rt.Now(), t)
			p.mu.Unlock()
		}
	}()
	for {
		err, done := p.wait(ctx, rt, t)
		if err != nil || done {
			p.mu.Lock()
			p.leave(rt.Now(), t)
			through = true
			p.mu.Unlock()
			return err
		}
	}
}

// wait waits once for t's planned finish, or a re-plan (another transfer
// started or ended), and reports ctx's error if ctx is done, or whether t
// is through. It is called and returns without p.mu held.
func (p *Pipe) wait(ctx context.Context, rt internal.Runtime, t *transfer) (error, bool) {
	p.mu.Lock()
	finish := t.finish
	if now := rt.Now(); !finish.After(now) {
		p.mu.Unlock()
		return nil, true
	}
	p.mu.Unlock()
	dctx, cancel := rt.WithDeadline(ctx, finish)
	defer cancel()
	p.mu.Lock()
	if !t.finish.Equal(finish) {
		p.mu.Unlock()
		return nil, false // re-planned meanwhile: wait for the new finish
	}
	_, err := internal.Block(dctx, internal.DecodeRT(dctx), &p.mu, &t.q, struct{}{}, "Pipe.Transfer")
	if cerr := ctx.Err(); cerr != nil {
		return cerr, false
	}
	if err == nil {
		return nil, false // woken by a re-plan
	}
	// Our own deadline: the transfer waited its whole planned time without
	// a re-plan, so it is through (whatever rounding left), unless that
	// time was capped (a finish beyond the Duration's range): then it goes
	// on from here.
	p.mu.Lock()
	defer p.mu.Unlock()
	if !t.capped {
		return nil, true
	}
	now := rt.Now()
	p.progress(now)
	t.plan(now)
	return nil, false
}

// progress accounts the units moved since the last re-plan, with p.mu held.
func (p *Pipe) progress(now time.Time) {
	if dt := now.Sub(p.last).Seconds(); dt > 0 {
		for _, t := range p.active {
			t.remaining = math.Max(0, t.remaining-t.rate*dt)
		}
	}
	p.last = now
}

// plan recomputes every transfer's rate and finish, and wakes the waiting
// ones (all but self) to re-arm their timers.
func (p *Pipe) plan(now time.Time, self *transfer) {
	var sum float64
	for _, t := range p.active {
		sum += t.want
	}
	// Over the throughput, each gets throughput * want / sum, computed with
	// the asks divided by the largest first, so that a sum beyond the
	// float range (asks near math.MaxFloat64) does not overflow.
	var top, rel float64
	for _, t := range p.active {
		top = math.Max(top, t.want)
	}
	for _, t := range p.active {
		rel += t.want / top
	}
	for _, t := range p.active {
		if sum > p.throughput {
			t.rate = p.throughput * (t.want / top) / rel
		} else {
			t.rate = t.want
		}
		t.plan(now)
		if t != self {
			if w := t.q.Front(); w != nil {
				t.q.Remove(w)
				w.Grant()
			}
		}
	}
	if m := p.mons.Load(); m != nil {
		m.useRate(math.Min(sum, p.throughput))
		m.queue(len(p.active))
	}
}

// plan sets t's finish from its rate, as of now: capped if it is beyond a
// Duration's range (about 146 years; see seconds).
func (t *transfer) plan(now time.Time) {
	d := seconds(t.remaining / t.rate)
	t.capped = d == maxWait
	t.finish = now.Add(d)
}

// leave removes t and re-plans the others, with p.mu held.
func (p *Pipe) leave(now time.Time, t *transfer) {
	p.progress(now)
	for i, a := range p.active {
		if a == t {
			p.active = append(p.active[:i], p.active[i+1:]...)
			break
		}
	}
	p.plan(now, nil)
}

// seconds converts s seconds to a Duration, rounded to the nanosecond and
// capped at about 146 years.
func seconds(s float64) time.Duration {
	ns := math.Round(s * 1e9)
	if ns >= maxWait {
		return maxWait
	}
	return time.Duration(ns)
}

// maxWait is the longest wait seconds returns.
const maxWait = math.MaxInt64 / 2

// PipeStats is a snapshot of a Pipe.
type PipeStats struct {
	Throughput float64
	Active     int     // transfers in progress
	Rate       float64 // the sum of their current rates
}

// Stats returns a snapshot of the pipe.
func (p *Pipe) Stats() PipeStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := PipeStats{Throughput: p.throughput, Active: len(p.active)}
	for _, t := range p.active {
		s.Rate += t.rate
	}
	return s
}

// transferAtWatched is TransferAt timed into m.Wait, apart so that an unwatched
// call is a nil check and a direct call.
func (p *Pipe) transferAtWatched(m *Monitors, ctx context.Context, total, rate float64) error {
	return timed(m, ctx, func() error { return p.transferAt(ctx, total, rate) })
}
