package internal

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"
)

// The real runtime: goroutines on the wall clock. A parked task waits on its
// Parker's channel. Parked with a task's own ctx, it waits on that channel
// alone: the task's cancellation watcher signals it there (taskCtx.park);
// parked with any other ctx, cancellation is a select on the ctx's Done.
type realRuntime struct{}

// Real is the real runtime: goroutines on the wall clock.
var Real Runtime = realRuntime{}

// nextTaskID numbers every task of every runtime: a task ID is never reused.
var nextTaskID uint64Counter

func (realRuntime) Now() time.Time   { return time.Now() }
func (realRuntime) Simulated() bool  { return false }
func (realRuntime) Checkpoint() bool { return false }
func (realRuntime) Yield()           { gosched() }

// Prepare gives p its two-slot channel. It refuses a caller that runs a
// simulated task: a ctx with no tock task reached a blocking call inside a
// simulation, which would block the whole simulation on the wall clock.
func (realRuntime) Prepare(p *Parker, what string) error {
	if realBlockMisuse() {
		return &refusal{realBlockMessage(what)}
	}
	if cap(p.ch) < 2 { // none yet, or the one slot a simulation's Prepare made
		// Two slots: a grant's signal and a cancellation watcher's, so
		// that neither sender ever blocks (see taskCtx.park).
		p.ch = make(chan struct{}, 2)
	}
	p.task = nil
	return nil
}

// Park receives p's signal. A task's own ctx is watched for cancellation by
// the task's watcher, so the park is a receive on p's channel alone (see
// taskCtx.park); so is a park with a ctx that is never done (a nil Done
// channel, such as context.Background()'s). Any other ctx is a select on
// p's channel and its Done.
func (realRuntime) Park(ctx context.Context, p *Parker, what string) error {
	if c, ok := ctx.(*taskCtx); ok {
		return c.park(p)
	}
	return parkSelect(ctx, p)
}

// parkSelect parks on p's channel and ctx's Done.
func parkSelect(ctx context.Context, p *Parker) error {
	done := ctx.Done()
	if done == nil {
		<-p.ch
		return nil
	}
	select {
	case <-p.ch:
		return nil
	case <-done:
		return ctx.Err()
	}
}

func (realRuntime) Label(id uint64) string {
	if t, ok := named.Load(id); ok {
		return t.(*Task).Name()
	}
	return "task " + strconv.FormatUint(id, 10)
}

func (realRuntime) SleepUntil(ctx context.Context, t time.Time) error {
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

func (r realRuntime) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		r.Yield()
		return ctx.Err()
	}
	return r.SleepUntil(ctx, time.Now().Add(d))
}

func (realRuntime) Spawn(parent context.Context, name string, fn func(ctx context.Context)) *Task {
	id := nextTaskID.add()
	t := &Task{ID: id, num: id, name: name}
	ctx := &taskCtx{Context: parent, Call: Call{RT: Real, Task: t}, real: true} // a real group's parent is not a simulation's
	if name != "" {
		goNamed(t, ctx, fn)
		return t
	}
	go runReal(ctx, fn)
	return t
}

// runReal runs fn as the task of ctx, then ends ctx's watcher.
func runReal(ctx *taskCtx, fn func(ctx context.Context)) {
	defer ctx.end()
	fn(ctx)
}

// watcher delivers a real task's cancellation to the task's park: it is
// registered once (context.AfterFunc, at the task's first park) on the
// parent of the task's ctx, whose cancellation is the ctx's, and sends one
// signal to the Parker parked in it. A park with the task's ctx then
// receives on its Parker's channel alone, instead of selecting on it and on
// the parent's Done (which all the tasks of a group share).
type watcher struct {
	parked atomic.Pointer[Parker] // the park under way with the task's ctx
	ended  atomic.Bool            // the task has ended (end)
	stop   func() bool            // the AfterFunc's stop
}

// noWatch is the watcher of a ctx that has none: parks select.
var noWatch = &watcher{}

// fire is the watcher's AfterFunc: the ctx is cancelled (its Err is set). It
// signals the park under way, if any, once; that park's channel has room
// for it beside a grant's signal.
func (w *watcher) fire() {
	if p := w.parked.Swap(nil); p != nil {
		p.ch <- struct{}{}
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
func (c *taskCtx) arm() *watcher {
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

// park is Park with c, a real task's own ctx: its Done is its parent's, so
// c's watcher sees its cancellation. p enters the watcher's slot and the
// task receives on p's channel alone. A signal comes from a grant (at most
// one, counted by the waiter's Granted) or from the watcher (at most one,
// and only if it took p out of the slot, after c's Err was set). So:
// p still in the slot after the receive means the grant's signal, and the
// park succeeds; p taken by the watcher means a cancellation, and the park
// returns c's error with the channel holding, once the watcher has sent,
// exactly one signal if the waiter was granted (which abandon drains) and
// none otherwise, as after a select that chose ctx's Done.
//
// A second park with c under way at the same time (goroutines sharing a
// task's ctx), or one after the task has ended, selects instead.
func (c *taskCtx) park(p *Parker) error {
	w := c.watch.Load()
	if w == nil {
		w = c.arm()
	}
	if w == noWatch || !w.parked.CompareAndSwap(nil, p) {
		return parkSelect(c, p)
	}
	// ended is read after p entered the slot and end reads the slot after
	// setting ended: either this park backs out or end keeps the watcher.
	if !w.ended.Load() && c.Err() == nil {
		<-p.ch
		if w.parked.CompareAndSwap(p, nil) {
			if w.ended.Load() {
				w.stop() // the task ended during this park: end left it to us
			}
			return nil // the grant's signal: the watcher will not send
		}
		return c.Err() // the watcher took p (c is cancelled)
	}
	if hook := testHookParkEnding.Load(); hook != nil {
		(*hook)()
	}
	if w.parked.CompareAndSwap(p, nil) {
		if w.ended.Load() {
			w.stop() // as above; stop is idempotent, end may have stopped it too
		}
		if err := c.Err(); err != nil {
			return err
		}
		return parkSelect(c, p) // the task has ended
	}
	<-p.ch // the watcher took p and sends (or a grant did first)
	return c.Err()
}

// testHookParkEnding, set only by tests (nil in production), runs in
// taskCtx.park on its cold path alone: p is in the watcher's slot but c is
// already cancelled or its task has ended, and the park is about to take p
// back out of the slot (unless the watcher took it first).
var testHookParkEnding atomic.Pointer[func()]

func (realRuntime) WithCancel(parent context.Context) (context.Context, context.CancelCauseFunc) {
	return context.WithCancelCause(parent)
}

func (realRuntime) WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(parent, d)
}
