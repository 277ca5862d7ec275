package internal

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"
)

// The real runtime: goroutines on the wall clock. A parked task waits on its
// Parker's signal (realpark.go). Parked with a task's own ctx, it waits on
// that signal alone: the task's cancellation watcher signals it there
// (watcher.park); parked with any other ctx, cancellation is a select on the
// ctx's Done.
type realRuntime struct{}

// Real is the real runtime: goroutines on the wall clock. It is a pointer,
// and the methods have pointer receivers: an interface holding a value
// reaches a value method through the compiler's pointer wrapper, one call
// more on every park.
var Real Runtime = &realRuntime{}

// nextTaskID numbers every task of every runtime: a task ID is never reused.
var nextTaskID uint64Counter

func (*realRuntime) Now() time.Time   { return time.Now() }
func (*realRuntime) Simulated() bool  { return false }
func (*realRuntime) Checkpoint() bool { return false }
func (*realRuntime) Yield()           { gosched() }

// Prepare gives p its signal, or readies the one it has. It refuses a
// caller that runs a simulated task: a ctx with no tock task reached a
// blocking call inside a simulation, which would block the whole
// simulation on the wall clock.
func (*realRuntime) Prepare(p *Parker, what string) error {
	if realBlockMisuse() {
		return &refusal{realBlockMessage(what)}
	}
	p.readySignal()
	p.task = nil
	return nil
}

// inBubble reports whether the caller runs inside a testing/synctest
// bubble, recognized by its fake clock, which starts at midnight UTC on
// 2000-01-01: a clock before 2010 is taken for one. It is asked only when
// a signal is made (a machine whose clock is that wrong only parks
// through a channel).
func inBubble() bool { return time.Now().Unix() < bubbleClockBefore }

// bubbleClockBefore is 2010-01-01 00:00:00 UTC, in Unix seconds.
const bubbleClockBefore = 1262304000

// Park receives p's signal. A task's own ctx is watched for cancellation by
// the task's watcher, so the park is a receive of p's signal alone (see
// watcher.park); so is a park with a ctx that is never done (a nil Done
// channel, such as context.Background()'s), and a park with a ctx derived
// from a task's that a watcher sees (see parkDerived). Any other ctx is a
// select on p's signal and its Done.
//
// A park with any ctx but a safe task context (see taskCtx.safe) may run
// the user's code in the ctx's methods; a panic there is returned as a
// *ctxPanic (see Block).
func (*realRuntime) Park(ctx context.Context, p *Parker, what string) error {
	if c, ok := ctx.(*taskCtx); ok && c.safe {
		return parkTask(c, p)
	}
	if isRoot(ctx) {
		p.sig.recv() // never done
		return nil
	}
	return parkAny(ctx, p)
}

// parkTask is Park with a task's own ctx. It is watcher.park for c with
// c's methods called directly, in one frame: a woken task returns through
// every frame above its receive with the CPU's return predictions lost
// to the switch (measured: about 6 ns a frame, a tenth of a contended
// Lock's hand-off at the depth the park had).
func parkTask(c *taskCtx, p *Parker) error {
	if c.never {
		p.sig.recv() // c is never done
		return nil
	}
	w := c.watch.Load()
	if w == nil {
		w = c.arm()
	}
	if w == noWatch || !w.parked.CompareAndSwap(nil, p) {
		return parkSelect(c, p)
	}
	if w.ended.Load() || c.Err() != nil {
		return w.backOut(c, p)
	}
	p.sig.recv()
	return w.leave(c, p)
}

// parkAny is Park with any ctx; a panic from ctx's methods is returned as
// a *ctxPanic.
func parkAny(ctx context.Context, p *Parker) (err error) {
	defer catchCtxPanic(&err)
	if c, ok := ctx.(*taskCtx); ok {
		return parkTask(c, p)
	}
	done := ctx.Done()
	if done == nil {
		p.sig.recv()
		return nil
	}
	return parkDerived(ctx, done, p)
}

// parkSelect parks on p's signal and ctx's Done.
func parkSelect(ctx context.Context, p *Parker) error {
	done := ctx.Done()
	if done == nil {
		p.sig.recv()
		return nil
	}
	return parkSelectDone(ctx, done, p)
}

// parkSelectDone is parkSelect with ctx's Done, done, already read.
func parkSelectDone(ctx context.Context, done <-chan struct{}, p *Parker) error {
	if p.sig.recvOr(done) {
		return nil
	}
	return ctx.Err()
}

// ParkUntil parks with a ctx that ends at d (the real runtime's timer is
// a context's); it reports the deadline (errParkTimedOut) when the park
// ended by it while ctx itself is not done.
func (r *realRuntime) ParkUntil(ctx context.Context, p *Parker, what string, d time.Time) error {
	wctx, cancel := r.WithDeadline(ctx, d)
	defer cancel()
	err := r.Park(wctx, p, what)
	if err != nil && !Refused(err) && ctx.Err() == nil && wctx.Err() != nil {
		return errParkTimedOut
	}
	return err
}

func (*realRuntime) Label(id uint64) string {
	if t, ok := named.Load(id); ok {
		return t.(*Task).Name()
	}
	return "task " + strconv.FormatUint(id, 10)
}

func (*realRuntime) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	if realBlockMisuse() {
		panic(realBlockMessage("Sleep"))
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *realRuntime) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		r.Yield()
		return ctx.Err()
	}
	return r.SleepUntil(ctx, time.Now().Add(d))
}

func (*realRuntime) Spawn(parent context.Context, name string, fn func(ctx context.Context) error, end TaskEnd) *Task {
	id := nextTaskID.add()
	t := &Task{ID: id, num: id, name: name}
	ctx := newRealCtx(parent, Call{RT: Real, Task: t}) // a real group's parent is not a simulation's
	if name != "" {
		goNamed(t, ctx, fn, end)
		return t
	}
	go runReal(ctx, fn, end)
	return t
}

// runReal runs fn as the task of ctx, calls end (if not nil) with how fn
// ended (see TaskEnd: a panic or a Goexit from the deferred call, during
// it), then ends ctx's watcher, in a deferred call of its own (a panic of
// end does not skip it). With a nil end, a panic of fn goes on and ends
// the process.
func runReal(ctx *taskCtx, fn func(ctx context.Context) error, end TaskEnd) {
	defer ctx.end()
	returned := false
	defer func() {
		if !returned && end != nil {
			end(ctx, false, nil, recover())
		}
	}()
	err := fn(ctx)
	returned = true
	if end != nil {
		end(ctx, true, err, nil)
	}
}

// watcher delivers a real task's cancellation to the task's park: it is
// registered once (context.AfterFunc, at the task's first park) on the
// parent of the task's ctx, whose cancellation is the ctx's, and sends one
// signal to the Parker parked in it. A park with the task's ctx then
// receives its Parker's signal alone, instead of selecting on it and on
// the parent's Done (which all the tasks of a group share).
//
// A task's watcher may hold a second one, for a ctx derived from the task's
// with a cancellation of its own (context.WithCancel, tock.WithTimeout)
// that the task parks with again and again: see parkDerived.
type watcher struct {
	parked atomic.Pointer[Parker] // the park under way
	ended  atomic.Bool            // retired: the task has ended, or a derived watcher was replaced
	stop   func() bool            // the AfterFunc's stop

	// a task's watcher only:
	derived atomic.Pointer[watcher] // the derived ctx's watcher, if one is armed
	last    atomic.Uintptr          // the Done of the derived ctx parked with last (an identity only)
	runs    atomic.Int32            // how many parks in a row had that Done
	// a derived watcher only: the Done of the ctx it watches
	done <-chan struct{}
}

// noWatch is the watcher of a ctx that has none: parks select.
var noWatch = &watcher{}

// stopNothing is the stop of a watcher with no AfterFunc (see arm).
func stopNothing() bool { return false }

// fire is the watcher's AfterFunc: the ctx is cancelled (its Err is set). It
// signals the park under way, if any, once, beside a grant's signal (a
// signal counts both).
func (w *watcher) fire() {
	if p := w.parked.Swap(nil); p != nil {
		p.sig.send()
	}
}

// watchable reports whether parent's cancellation can be watched with an
// AfterFunc that the context package registers synchronously (no goroutine
// of its own): parent is, or reaches with the same Done, a
// standard-library cancellable context, or it has an AfterFunc method.
//
// A tock task context's AfterFunc is its parent's (or context.AfterFunc
// over it), so a task context is watchable as its parent is: over a
// context of the user's own type with neither, context.AfterFunc would
// start a goroutine for each watcher.
func watchable(parent context.Context) bool {
	for {
		c, ok := parent.(*taskCtx)
		if !ok {
			break
		}
		parent = c.Context
	}
	d := parent.Done()
	if d == nil {
		return false
	}
	if _, ok := parent.(interface {
		AfterFunc(func()) func() bool
	}); ok {
		return true
	}
	cc, ok := parent.Value(cancelCtxKey).(interface{ Done() <-chan struct{} })
	return ok && cc.Done() == d
}

// arm makes c's watcher at c's first park, or records that c has none.
// A ctx that is never done gets a watcher with nothing to watch, which only
// holds the watcher of a derived ctx (see parkDerived): its own parks
// receive their signal alone (see parkTask).
func (c *taskCtx) arm() *watcher {
	if c.never {
		w := &watcher{stop: stopNothing}
		if !c.watch.CompareAndSwap(nil, w) {
			return c.watch.Load() // another goroutine with c armed it first, or c ended
		}
		return w
	}
	if !watchable(c.Context) {
		c.watch.CompareAndSwap(nil, noWatch)
		return c.watch.Load()
	}
	w := new(watcher)
	w.stop = context.AfterFunc(c.Context, w.fire)
	if !c.watch.CompareAndSwap(nil, w) {
		w.stop() // another goroutine with c armed it first, or c ended
		return c.watch.Load()
	}
	return w
}

// end ends c's watcher when c's task has returned. A park with c under way
// (a goroutine that outlives the task and shares its ctx) keeps the watcher
// registered, so that the park still sees the cancellation, and that park
// stops it when it returns; later parks select.
func (c *taskCtx) end() {
	w := c.watch.Swap(noWatch)
	if w == nil || w == noWatch {
		return
	}
	w.retire()
	if d := w.derived.Swap(nil); d != nil {
		d.retire()
	}
}

// retire ends w: its AfterFunc is stopped now, or, if a park is under way
// in w, by that park when it returns (so that the park still sees its
// cancellation); later parks with w back out (see watcher.park). ended is
// set before the slot is read, and a park reads ended after entering the
// slot: either the park backs out or retire leaves the stop to it. It is
// idempotent.
func (w *watcher) retire() {
	w.ended.Store(true)
	if w.parked.Load() == nil {
		w.stop()
	}
}

// EndTask ends ctx's task's watcher, for a task context made by WithTask
// once its function returned; any other ctx is left alone.
func EndTask(ctx context.Context) {
	if c, ok := ctx.(*taskCtx); ok && c.real {
		c.end()
	}
}

// watcher returns c's watcher, arming it at c's first park.
func (c *taskCtx) watcher() *watcher {
	if w := c.watch.Load(); w != nil {
		return w
	}
	return c.arm()
}

// park parks p in w, whose AfterFunc watches ctx's cancellation: ctx is a
// real task's own ctx (its Done is its parent's, which the task's watcher
// watches), or one derived from it (see parkDerived). p enters w's slot
// and the task receives p's signal alone. A signal comes from a grant
// (at most one, counted by the waiter's Granted) or from the watcher (at
// most one, and only if it took p out of the slot, after ctx's Err was
// set). So: p still in the slot after the receive means the grant's
// signal, and the park succeeds; p taken by the watcher means a
// cancellation, and the park returns ctx's error with the signal holding,
// once the watcher has sent, exactly one signal if the waiter was granted
// (which abandon drains) and none otherwise, as after a select that chose
// ctx's Done.
//
// A second park in w under way at the same time (goroutines sharing a
// ctx), or one after w was retired (its task ended), selects instead.
func (w *watcher) park(ctx context.Context, p *Parker) error {
	if !w.parked.CompareAndSwap(nil, p) {
		return parkSelect(ctx, p)
	}
	// ended is read after p entered the slot and retire reads the slot
	// after setting ended: either this park backs out or retire leaves the
	// stop to it.
	if w.ended.Load() || ctx.Err() != nil {
		return w.backOut(ctx, p)
	}
	p.sig.recv()
	return w.leave(ctx, p)
}

// leave ends a park in w that received p's signal.
func (w *watcher) leave(ctx context.Context, p *Parker) error {
	if w.parked.CompareAndSwap(p, nil) {
		if w.ended.Load() {
			w.stop() // retired during this park: retire left it to us
		}
		return nil // the grant's signal: the watcher will not send
	}
	return cancelled(ctx) // the watcher took p (ctx is cancelled)
}

// backOut ends a park in w that found, with p in w's slot, ctx already
// cancelled or w retired: p leaves the slot, unless the watcher took it
// first, and a retired w's park selects.
func (w *watcher) backOut(ctx context.Context, p *Parker) error {
	if hook := testHookParkEnding.Load(); hook != nil {
		(*hook)()
	}
	if w.parked.CompareAndSwap(p, nil) {
		if w.ended.Load() {
			w.stop() // stop is idempotent, retire may have stopped it too
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return parkSelect(ctx, p) // w is retired
	}
	p.sig.recv() // the watcher took p and sends (or a grant did first)
	return cancelled(ctx)
}

// cancelled is the error of a park the watcher ended: ctx's Err, which its
// cancellation set before the watcher ran (context.Canceled should a ctx of
// the user's own type not say so: the park was not granted, and must fail).
func cancelled(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

// armAfter is how many parks in a row with one derived ctx's Done a task
// makes before that ctx gets a watcher of its own. Arming costs an
// AfterFunc, and the ctx's cancellation then runs the watcher's fire in a
// goroutine of its own (as context.AfterFunc does), which a few parks
// without a select pay for; a ctx made for one call (a request's timeout)
// parks once or twice and keeps selecting.
const armAfter = 8

// parkDerived is Park with ctx, which is not a task's own ctx and whose
// Done is done (not nil). If ctx is derived from a real task's ctx, the
// park receives p's signal alone when a watcher sees ctx's
// cancellation: the task's own watcher if ctx has the task's Done
// (context.WithValue over the task's ctx), or a watcher of ctx's own if the
// task has parked with ctx's Done armAfter times in a row (a worker's
// context.WithCancel of its task's ctx, waited on in a loop). That watcher is
// kept until the task parks armAfter times with another ctx, or ends; it
// holds a reference to ctx until then. Any other park selects.
func parkDerived(ctx context.Context, done <-chan struct{}, p *Parker) error {
	c, _ := ctx.Value(taskKey).(*taskCtx)
	if c == nil || !c.real {
		return parkSelectDone(ctx, done, p)
	}
	w := c.watcher()
	if w == noWatch {
		return parkSelectDone(ctx, done, p)
	}
	if c.Done() == done {
		return w.park(ctx, p) // ctx is cancelled with the task's ctx only
	}
	d := w.derived.Load()
	if d == nil || d.done != done {
		if d = w.armDerived(ctx, done, d); d == nil {
			return parkSelectDone(ctx, done, p)
		}
	}
	return d.park(ctx, p)
}

// armDerived counts a park with ctx, derived from w's task's ctx with a
// Done of its own, done, whose watcher is not old (w's derived watcher, or
// nil), and returns the watcher to park in, or nil to select: after
// armAfter parks in a row with done, it arms a watcher for ctx in old's
// place and retires old. A context whose cancellation cannot be watched
// without a goroutine (see watchable) is never armed.
func (w *watcher) armDerived(ctx context.Context, done <-chan struct{}, old *watcher) *watcher {
	id := chanID(done)
	if w.last.Swap(id) != id {
		w.runs.Store(1)
		return nil
	}
	if w.runs.Add(1) < armAfter || !watchable(ctx) {
		return nil
	}
	d := &watcher{done: done}
	d.stop = context.AfterFunc(ctx, d.fire)
	if !w.derived.CompareAndSwap(old, d) {
		d.stop() // another park of the task armed one first
		return nil
	}
	if old != nil {
		old.retire()
	}
	if w.ended.Load() {
		// The task ended meanwhile: end may have read w.derived before d
		// entered it. Retiring twice is harmless.
		d.retire()
		return nil
	}
	return d
}

// chanID is an identity of ch for armDerived's count: its address, kept as
// a number (it does not keep the channel alive; a reused address only
// miscounts, and arming checks the channel itself).
func chanID(ch <-chan struct{}) uintptr { return *(*uintptr)(unsafe.Pointer(&ch)) }

// testHookParkEnding, set only by tests (nil in production), runs in
// watcher.backOut, the parks' cold path,: p is in the watcher's slot but ctx is
// already cancelled or its task has ended, and the park is about to take p
// back out of the slot (unless the watcher took it first).
var testHookParkEnding atomic.Pointer[func()]

func (*realRuntime) WithCancel(parent context.Context) (context.Context, context.CancelCauseFunc) {
	return context.WithCancelCause(parent)
}

func (*realRuntime) WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(parent, d)
}
