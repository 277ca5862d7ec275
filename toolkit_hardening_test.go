package tock_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
)

// Adversarial tests of the modelling toolkit: PriorityLimiter, the Queue's
// store options (GetWhere, NewPriorityQueue), Container, Pipe (bandwidth),
// Tracked and ResourceGuard.

// noHang runs f and returns an error if it has not returned within 3 s of
// wall time (an internal mutex left held). It may be called inside a
// simulated task: it blocks that task's goroutine for at most 3 s, well
// below the stall watchdog's limit.
func noHang(what string, f func()) error {
	if _, ok := returnsWithin(3*time.Second, func() error { f(); return nil }); !ok {
		return fmt.Errorf("%s: still blocked after 3 s (an internal mutex was left held)", what)
	}
	return nil
}

// ---- Pipe ----

// pipeIdle reports an error unless p's mutex is free (Stats returns) and no
// transfer is active: what a panic in a transfer must leave.
func pipeIdle(p *tock.Pipe) error {
	var st tock.PipeStats
	if err := noHang("Pipe.Stats after the panic", func() { st = p.Stats() }); err != nil {
		return err
	}
	if st.Active != 0 {
		return fmt.Errorf("after the panic %d transfers are active, want 0", st.Active)
	}
	return nil
}

// Fixed. A Transfer whose ctx (of the user's own type) panics in Done: the
// design says such a panic must leave no internal mutex held. Expected: the
// panic reaches the caller and the Pipe stays usable (Stats returns, no
// transfer is left active). Before the fix: Transfer calls rt.WithDeadline(ctx, ...)
// (which calls ctx.Done) with p.mu held (bandwidth.go:100), so the panic
// escapes with the Pipe's mutex held and the transfer left in p.active:
// every later call on the Pipe hangs.
func TestToolkitHardeningPipeCtxDonePanicLeavesMutexHeld(t *testing.T) {
	bothRuntimesLeak(t, false, func(t *testing.T, ctx context.Context, h *H) error {
		p := tock.NewPipe(1 / h.U(1).Seconds())
		msg := panicOf(func() { p.Transfer(&panickyCtx{Context: ctx, doneBoom: true}, 10) })
		if msg != "panickyCtx.Done" {
			return fmt.Errorf("Transfer with a ctx whose Done panics: panic %q, want panickyCtx.Done", msg)
		}
		return pipeIdle(p)
	})
}

// Fixed. A Transfer whose ctx's Err panics (a ctx of the user's own type)
// once the transfer is under way. Expected: the panic reaches the caller,
// the Pipe's mutex is free and the transfer is gone. Before the fix: after each
// wake-up Transfer takes p.mu and then asks ctx.Err() (bandwidth.go:103-105),
// so the panic escapes with p.mu held; every later call on the Pipe hangs.
func TestToolkitHardeningPipeCtxErrPanicLeavesMutexHeld(t *testing.T) {
	bothRuntimesLeak(t, false, func(t *testing.T, ctx context.Context, h *H) error {
		p := tock.NewPipe(1 / h.U(1).Seconds())
		var boom atomic.Bool
		var got atomic.Value
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			// long enough (10,000 units) not to end on its own while the
			// test runs: the state waited on below cannot lapse
			got.Store(panicOf(func() { p.Transfer(&panickyCtx{Context: ctx, nilDone: true, errBoom: &boom}, 10000) }))
			return nil
		})
		h.WaitUntil(ctx, "the transfer started", func() bool { return p.Stats().Active == 1 })
		boom.Store(true)
		// a second transfer re-plans the pipe: the first wakes and asks Err
		if err := p.Transfer(ctx, 1); err != nil {
			return err
		}
		if err := g.Wait(); err != nil {
			return err
		}
		boom.Store(false)
		if s, _ := got.Load().(string); s != "panickyCtx.Err" {
			return fmt.Errorf("the transfer: panic %q, want panickyCtx.Err", s)
		}
		return pipeIdle(p)
	})
}

// Fixed. A Transfer made (by mistake) with a task-less ctx inside a simulated
// task panics with the misuse message, as every blocking call does. Expected:
// nothing of the call is left behind (the design: a programming-error panic
// leaves no waiter half-queued). Before the fix: the transfer was appended to
// p.active before internal.Block refused the caller (bandwidth.go:97-101),
// and nothing removes it: a ghost transfer stays active for good, takes its
// share of the throughput, and every later transfer is slowed by it.
func TestToolkitHardeningPipeRefusedTransferLeavesGhost(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		p := tock.NewPipe(1)
		msg := panicOf(func() { p.Transfer(context.Background(), 10) }) //tockvet:ignore the misuse under test
		if msg == "" {
			t.Fatal("Transfer with a task-less ctx inside a simulated task did not panic")
		}
		if st := p.Stats(); st.Active != 0 {
			t.Errorf("after the refused Transfer (%q): %d transfers active, want 0", msg, st.Active)
		}
		start := tock.Now(ctx)
		if err := p.Transfer(ctx, 2); err != nil {
			return err
		}
		if d := tock.Now(ctx).Sub(start); d != 2*time.Second {
			t.Errorf("a transfer of 2 units at 1/s after the refused one took %v, want 2s", d)
		}
		return nil
	})
}

// Fixed. A transfer whose planned duration exceeds the ~146 years at which
// bandwidth.go's seconds() caps a duration. Expected: it ends when its
// units are through (here at 200 years), or fails. Before the fix: its deadline
// fires at the cap, and the loop (bandwidth.go:110-113) takes "our own
// deadline" to mean "through": Transfer returns nil after ~146 years with a
// quarter of its units never moved.
func TestToolkitHardeningPipeHugeTransferEndsEarly(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		const year = 365 * 24 * time.Hour
		p := tock.NewPipe(1)
		start := tock.Now(ctx)
		err := p.Transfer(ctx, (200 * year).Seconds())
		if took := tock.Now(ctx).Sub(start); err != nil || (took-200*year).Abs() > time.Microsecond {
			t.Errorf("Transfer of 200 years' worth of units returned %v after %v, want nil after 200 years (to a microsecond: the float rounding of the units left)",
				err, took)
		}
		return nil
	})
}

// ---- PriorityLimiter ----

// Fixed. An Acquire that must wait, made by mistake with a task-less ctx
// inside a simulated task, panics with the misuse message. Expected: the
// limiter keeps no trace of it (Stats().Waiting 0). Before the fix: acquire counts
// the waiter (l.waiting++, prioritylimiter.go:188) before internal.Block,
// and decrements it only if Block returns (:191-193); Block panics instead,
// so Waiting stays 1 for good (and a watched Queue monitor with it).
func TestToolkitHardeningPriorityLimiterRefusedAcquireLeavesWaiting(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		l := tock.NewPriorityLimiter(1)
		hold, err := l.Acquire(ctx, 0)
		if err != nil {
			return err
		}
		msg := panicOf(func() { l.Acquire(context.Background(), 1) }) //tockvet:ignore the misuse under test
		if msg == "" {
			t.Fatal("Acquire with a task-less ctx inside a simulated task did not panic")
		}
		if st := l.Stats(); st.Waiting != 0 || st.InUse != 1 {
			t.Errorf("after the refused Acquire (%q): %+v, want InUse 1 and Waiting 0", msg, st)
		}
		hold.Release()
		return nil
	})
}

// Fixed. A waiting Acquire whose ctx (of the user's own type) panics in the
// park. Expected (design: the waiter leaves its queue, then the panic goes
// on): Stats().Waiting is 0 afterwards, and the unused permit's context is
// cancelled. Before the fix: Block panics past the l.waiting-- of
// prioritylimiter.go:191-193, so Waiting stays 1, and p.cancel (:196) is
// skipped, so the permit's context (context.WithCancelCause over the
// user's ctx) is never cancelled: its propagation goroutine leaks.
func TestToolkitHardeningPriorityLimiterCtxPanicLeavesWaiting(t *testing.T) {
	checkLeaks(t)
	_, err := runSim(func(ctx context.Context, h *H) error {
		l := tock.NewPriorityLimiter(1)
		hold, err := l.Acquire(ctx, 0)
		if err != nil {
			return err
		}
		s, err := panicWhenPolled(ctx, h, func(ctx context.Context) { l.Acquire(ctx, 1) },
			func() bool { return l.Stats().Waiting == 1 })
		if err != nil {
			return err
		}
		if s != "panickyCtx.Err" {
			return fmt.Errorf("Acquire whose polled ctx's Err panics: panic %q, want panickyCtx.Err", s)
		}
		if st := l.Stats(); st.Waiting != 0 {
			t.Errorf("after the waiter's ctx panicked: %+v, want Waiting 0", st)
		}
		hold.Release()
		if st := l.Stats(); st.InUse != 0 {
			t.Errorf("after the holder's Release: %+v, want InUse 0 (the token went to the dead waiter?)", st)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ---- Container ----

// Fixed. The head Get of a Container holds back a smaller Get behind it;
// when the head leaves because its ctx's method panicked (a ctx of the
// user's own type), the one behind must be served as when the head is
// cancelled (container.go:107-112 dispatches after a cancelled wait; the
// design: "a Container case that leaves calls dispatch"). Before the fix: Block
// panics, the dispatch is skipped, and the small Get stays blocked though
// the level holds its amount, until some unrelated Put or Get comes.
func TestToolkitHardeningContainerCtxPanicHoldsBackNextWaiter(t *testing.T) {
	checkLeaks(t)
	_, err := runSim(func(ctx context.Context, h *H) error {
		c := tock.NewContainer(10, 0)
		var boom atomic.Bool
		var got atomic.Value
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			own := make(chan struct{})
			got.Store(panicOf(func() { c.Get(&ownDonePanicky{panickyCtx{Context: ctx, errBoom: &boom}, own}, 8) }))
			return nil
		})
		h.WaitUntil(ctx, "the big Get queued", func() bool { return c.Stats().WaitingGets == 1 })
		var small atomic.Bool
		g.Go(func(ctx context.Context) error {
			err := c.Get(ctx, 2)
			small.Store(err == nil)
			return err
		})
		h.WaitUntil(ctx, "the small Get queued", func() bool { return c.Stats().WaitingGets == 2 })
		if err := c.Put(ctx, 3); err != nil { // held back by the big Get at the head
			return err
		}
		boom.Store(true)
		tock.Yield(ctx) // a step: the poll; the big Get's task panics out
		boom.Store(false)
		for range 10 {
			tock.Yield(ctx)
		}
		if s, _ := got.Load().(string); s != "panickyCtx.Err" {
			t.Errorf("the big Get: panic %q, want panickyCtx.Err", s)
		}
		if !small.Load() {
			t.Errorf("the head Get left (its ctx panicked) but the Get(2) behind it still waits at level %g: %+v",
				c.Level(), c.Stats())
			c.TryPut(0) // dispatches: lets the small Get through so that the run ends
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if c.Level() != 1 {
			t.Errorf("level %g, want 1", c.Level())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Fixed. Rates are finite floats, so two asks of math.MaxFloat64 are valid
// input (TransferAt panics only on a rate that is not positive). Expected:
// equal asks share the throughput equally (2 units/s: 1/s each, so 1 unit
// each takes 1 s). Before the fix: plan sums the asks (bandwidth.go:135-137), the
// sum overflows to +Inf, scale = throughput/Inf = 0, every rate is 0, each
// finish is the ~146-year cap, and both transfers "end" (the deadline-means-
// through break) after 146 years.
func TestToolkitHardeningPipeHugeRatesOverflow(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		p := tock.NewPipe(2)
		got := transfers(t, ctx, p, [2]float64{1, math.MaxFloat64}, [2]float64{1, math.MaxFloat64})
		if got != 1 {
			t.Errorf("two transfers of 1 unit asking MaxFloat64 on a 2/s pipe took %.4g s (%.1f years), want 1 s",
				got, got/(365*24*3600))
		}
		return nil
	})
}

// Fixed. The programming error of a nil ctx panics, in every other primitive,
// at the call with "tock: <Type>.<Method>: nil ctx" (badinput_test.go lists
// "nil ctx, every ctx-taking call"; Queue.Get and Queue.Put check it).
// Expected: the same message from the toolkit's ctx-taking calls. Before the fix,
// none of them checks: Queue.GetWhere (store.go:56), Container.Put/Get
// (container.go:94), Pipe.Transfer (bandwidth.go:82), Tracked.WaitUntil and
// Flag.Wait (tracked.go:111) dereference the nil ctx (a bare nil-pointer
// runtime error), PriorityLimiter.TryAcquire/Acquire panic inside
// context.WithCancelCause or on wctx.Err(), and AcquireTimeout panics
// naming WithTimeout instead.
func TestToolkitHardeningToolkitNilCtxNotNamed(t *testing.T) {
	var nilCtx context.Context
	q := tock.NewQueue[int]()
	c := tock.NewContainer(10, 5)
	p := tock.NewPipe(1)
	tr := tock.NewTracked(0)
	var f tock.Flag
	l := tock.NewPriorityLimiter(1)
	for _, c := range []struct {
		want string
		f    func()
	}{
		{"tock: Queue.GetWhere: nil ctx", func() { q.GetWhere(nilCtx, func(int) bool { return true }) }},
		{"tock: Container.Put: nil ctx", func() { c.Put(nilCtx, 1) }},
		{"tock: Container.Get: nil ctx", func() { c.Get(nilCtx, 1) }},
		{"tock: Pipe.Transfer: nil ctx", func() { p.Transfer(nilCtx, 1) }},
		{"tock: Pipe.TransferAt: nil ctx", func() { p.TransferAt(nilCtx, 1, 1) }},
		{"tock: Tracked.WaitUntil: nil ctx", func() { tr.WaitUntil(nilCtx, func(int) bool { return true }) }},
		{"tock: Flag.Wait: nil ctx", func() { f.Wait(nilCtx) }},
		{"tock: Flag.WaitClear: nil ctx", func() { f.WaitClear(nilCtx) }},
		{"tock: PriorityLimiter.Acquire: nil ctx", func() { l.Acquire(nilCtx, 0) }},
		{"tock: PriorityLimiter.TryAcquire: nil ctx", func() { l.TryAcquire(nilCtx, 0) }},
		{"tock: PriorityLimiter.AcquireTimeout: nil ctx", func() { l.AcquireTimeout(nilCtx, 0, time.Second) }},
	} {
		if got := panicOf(c.f); !strings.Contains(got, c.want) {
			t.Errorf("panic %q, want it to contain %q", got, c.want)
		}
	}
	// Whatever the message, the primitives stay usable.
	ctx := context.Background()
	if !c.TryGet(1) || q.Put(ctx, 1) != nil || tr.Get() != 0 {
		t.Error("a primitive is unusable after the nil-ctx panics")
	}
	if pm, ok := l.TryAcquire(ctx, 0); !ok {
		t.Error("PriorityLimiter.TryAcquire failed after the nil-ctx panics")
	} else {
		pm.Release()
	}
}

// Fixed. A PriorityLimiter keeps a wait queue (prioLevel) for every priority
// value any Acquire ever waited with, for good (level(),
// prioritylimiter.go:303-313, inserts; nothing removes), and free() scans
// them all on every Acquire and TryAcquire (:251). With priorities that do
// not repeat (a deadline or an arrival time as the priority: the usual
// EDF-like use) memory grows without bound and each call gets slower.
// Expected (as a drained Queue gives its memory back): after the waits
// are over, the limiter holds about nothing. Before the fix: ~100 B per distinct
// priority ever waited on.
func TestToolkitHardeningPriorityLimiterLevelsNeverFreed(t *testing.T) {
	if raceEnabled {
		t.Skip("memory is not measured under the race detector")
	}
	checkLeaks(t)
	const n = 50_000
	var l *tock.PriorityLimiter
	var before, after runtime.MemStats
	simRun(t, func(ctx context.Context) error {
		l = tock.NewPriorityLimiter(1)
		hold, err := l.Acquire(ctx, 0)
		if err != nil {
			return err
		}
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range n {
			// waits a nanosecond with a priority of its own, and times out
			if _, err := l.AcquireTimeout(ctx, i+1, time.Nanosecond); err == nil {
				return fmt.Errorf("AcquireTimeout %d got a token", i)
			}
		}
		hold.Release()
		if st := l.Stats(); st.InUse != 0 || st.Waiting != 0 {
			return fmt.Errorf("stats %+v", st)
		}
		return nil
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(l)
	if retained > 1<<20 {
		t.Errorf("an idle PriorityLimiter retains %d KB (%.0f B per distinct priority waited on), want about nothing",
			retained>>10, float64(retained)/n)
	}
}

// Fixed. A Permit is only made by a PriorityLimiter; a zero Permit (a value
// kept by mistake, var p tock.Permit) is a programming error. Expected, as
// for the other zero handles (SendStream, Subscription: "zero or nil ..."):
// a panic naming Permit and the rule. Before the fix: Release and Preempted
// dereference the nil p.l (prioritylimiter.go:97, :107): a bare nil-pointer
// runtime error.
func TestToolkitHardeningZeroPermitNotNamed(t *testing.T) {
	var p tock.Permit
	for name, f := range map[string]func(){"Release": p.Release, "Preempted": func() { p.Preempted() }} {
		if got := panicOf(f); !strings.Contains(got, "tock: Permit."+name) {
			t.Errorf("zero Permit.%s: panic %q, want a message naming tock: Permit.%s", name, got, name)
		}
	}
}

// ---- passing checks ----

// A WaitUntil whose ctx (of the user's own type) panics in the park leaves
// its queue before the panic goes on; a later Set wakes the other waiter
// and the value is intact.
func TestToolkitAdversarialTrackedCtxPanicInPark(t *testing.T) {
	checkLeaks(t)
	_, err := runSim(func(ctx context.Context, h *H) error {
		tr := tock.NewTracked(0)
		var boom atomic.Bool
		var got atomic.Value
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			own := make(chan struct{})
			got.Store(panicOf(func() {
				tr.WaitUntil(&ownDonePanicky{panickyCtx{Context: ctx, errBoom: &boom}, own}, func(v int) bool { return v > 0 })
			}))
			return nil
		})
		var other atomic.Int64
		g.Go(func(ctx context.Context) error {
			v, err := tr.WaitUntil(ctx, func(v int) bool { return v > 0 })
			other.Store(int64(v))
			return err
		})
		h.WaitUntil(ctx, "both wait", func() bool { return tr.Stats().Waiting == 2 })
		boom.Store(true)
		tock.Yield(ctx)
		boom.Store(false)
		h.WaitUntil(ctx, "the panicking waiter left", func() bool { return tr.Stats().Waiting == 1 })
		tr.Set(7)
		if err := g.Wait(); err != nil {
			return err
		}
		if s, _ := got.Load().(string); s != "panickyCtx.Err" || other.Load() != 7 || tr.Stats().Waiting != 0 {
			return fmt.Errorf("panic %q (want panickyCtx.Err), other woke with %d (want 7), waiting %d",
				s, other.Load(), tr.Stats().Waiting)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A GetWhere whose ctx panics in the park takes nothing: an item put
// afterwards is buffered (not handed to the dead waiter) and a later
// GetWhere gets it.
func TestToolkitAdversarialGetWhereCtxPanicKeepsItem(t *testing.T) {
	checkLeaks(t)
	_, err := runSim(func(ctx context.Context, h *H) error {
		q := tock.NewPriorityQueue(func(a, b int) bool { return a < b })
		msg, err := panicWhenPolled(ctx, h, func(ctx context.Context) {
			q.GetWhere(ctx, func(v int) bool { return v == 5 })
		}, func() bool { return q.Waiting() == 1 })
		if err != nil {
			return err
		}
		q.Put(ctx, 9)
		q.Put(ctx, 5)
		if q.Len() != 2 || q.Waiting() != 0 {
			return fmt.Errorf("after the panic and two Puts: len %d waiting %d, want 2 and 0", q.Len(), q.Waiting())
		}
		v, err := q.GetWhere(ctx, func(v int) bool { return v == 5 })
		if err != nil || v != 5 {
			return fmt.Errorf("GetWhere: %d %v", v, err)
		}
		if msg != "panickyCtx.Err" {
			return fmt.Errorf("panic %q, want panickyCtx.Err", msg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A holder's deferred Release runs while the simulation unwinds its task
// at the run's end; a waiter cancelled by the same end takes nothing; the
// limiter is left empty.
func TestToolkitAdversarialPermitReleasedWhileUnwound(t *testing.T) {
	checkLeaks(t)
	l := tock.NewPriorityLimiter(1)
	simRun(t, func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			p, err := l.Acquire(ctx, 1)
			if err != nil {
				return err
			}
			defer p.Release()
			return h0.Forever(context.WithoutCancel(ctx))
		})
		g.Go(func(ctx context.Context) error {
			_, err := l.Acquire(ctx, 0)
			return err
		})
		tock.Yield(ctx)
		tock.Yield(ctx)
		if st := l.Stats(); st.InUse != 1 || st.Waiting != 1 {
			return fmt.Errorf("before the end: %+v", st)
		}
		return nil // main returns: the run cancels and unwinds the others
	})
	if st := l.Stats(); st.InUse != 0 || st.Waiting != 0 {
		t.Errorf("after the run: %+v, want nothing held, nobody waiting", st)
	}
}
