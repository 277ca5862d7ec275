package internal

import (
	"context"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Parker is how one parked task is woken: through the scheduler's run queue
// when it was prepared by a simulation, through a signal (realpark.go) when
// it was prepared by the real runtime. A grant wakes it at most once per
// park; on the real runtime a task's cancellation watcher may send it a
// second signal (see watcher.park). Copies of a Parker (a Select's cases)
// share its signal.
type Parker struct {
	task *simTask // simulation: the task to make runnable
	sig  *signal  // real runtime: a grant's signal, and the watcher's
}

// wake makes the parked task runnable. It is called at most once per park,
// by the granter: with the lock of the primitive that owns the waiter held
// (Grant), or just after releasing it (Hand, then Wake). Which pays depends
// on the primitive, as measured: a Semaphore's Release wakes under its lock
// (Semaphore8on2: 395 against 505 ns a Release and Acquire waking after),
// a CapacityLimiter's Release after its lock (64 tasks on 4 tokens: 17%
// faster in three runs, the lock released before the Go scheduler is
// called to ready the waiter) and so does a Lock's Unlock (8 goroutines:
// 2-5% faster than its peer in four runs; 64: within the spread).
func (p *Parker) wake() {
	if t := p.task; t != nil {
		t.s.wake(t)
		return
	}
	p.sig.send()
}

// readySignal gives p a signal with nothing sent for a wait on the real
// runtime: its own, reset, or a new one. A signal made inside a
// testing/synctest bubble serves one wait only: the waiter may be reused
// outside the bubble (or in another one), where its channel could not be
// used at all (the runtime ends the process).
func (p *Parker) readySignal() {
	if p.sig == nil || p.sig.bubbled {
		p.sig = newSignal()
	} else {
		p.sig.reset()
	}
}

// drain consumes the signal of a grant that raced with a cancellation.
func (p *Parker) drain() {
	if p.sig != nil {
		p.sig.recv()
	}
}

// Waiter is one task parked in a Queue. Val carries the hand-off value (an
// item, a notification) in either direction.
type Waiter[T any] struct {
	link link[Waiter[T]]

	// Ctx is the waiting call's context: a waiter whose Ctx is done when the
	// resource is handed out is skipped (it was cancelled first).
	Ctx context.Context
	// Task is the waiting task (nil for an anonymous caller).
	Task *Task
	// Granted is set, under the primitive's lock, by whoever hands the waiter
	// what it waits for; a granted waiter's call succeeds even if its context
	// is cancelled afterwards ("the wake-up wins").
	Granted bool
	// Val is the hand-off value.
	Val T
	// Sel, if set, is the Select this waiter is case SelIdx of: it may be
	// served only by whoever claims Sel first (see Claim).
	Sel    *Claim
	SelIdx int
	Parker
}

// Queue is the FIFO wait queue every tock primitive parks its waiters on.
// It is not safe for concurrent use: the owning primitive guards it with its
// own mutex. Removal is O(1). The zero value is an empty queue.
type Queue[T any] struct {
	l     dlist[Waiter[T]]
	spare atomic.Pointer[Waiter[T]] // one finished waiter kept for reuse
	// Res is what the waiters wait on, for deadlock reports (nil: nobody is
	// known to hold it); the primitive sets it with its lock held.
	Res Holding
	// OnLen, if set, is called with the primitive's lock held after every
	// Push and Remove, with the new length: how a watched primitive's
	// monitor follows its waiters (tock's Watch methods set it).
	OnLen func(n int)
}

// AppendHolders is q.Res's, or appends nothing: a simulated task parked on
// q records q as what it waits on.
func (q *Queue[T]) AppendHolders(dst []Holder) []Holder {
	if q.Res == nil {
		return dst
	}
	return q.Res.AppendHolders(dst)
}

// Alloc returns a waiter to Enqueue: the one last given to Free, or a new
// one. Call it with the primitive's lock held.
func (q *Queue[T]) Alloc() *Waiter[T] {
	if q.spare.Load() != nil {
		if w := q.spare.Swap(nil); w != nil {
			return w
		}
	}
	return new(Waiter[T])
}

// Free keeps w for the next Alloc; it needs no lock. w must have left the
// queue and its Wait must have returned; its parker's signal is then empty
// (every signal sent to it, a grant's and a watcher's, was received or
// drained), so it can be reused as is.
func (q *Queue[T]) Free(w *Waiter[T]) {
	var zero T
	w.Val, w.Ctx, w.Task, w.Granted, w.Sel = zero, nil, nil, false, nil
	q.spare.CompareAndSwap(nil, w)
}

// Len is the number of queued waiters.
func (q *Queue[T]) Len() int { return q.l.n }

// Front is the oldest queued waiter, or nil.
func (q *Queue[T]) Front() *Waiter[T] { return q.l.front() }

// Next is the waiter queued after w, or nil.
func (w *Waiter[T]) Next() *Waiter[T] { return w.link.after() }

// Queued reports whether w is still in its queue.
func (w *Waiter[T]) Queued() bool { return w.link.in() }

// Push appends w.
func (q *Queue[T]) Push(w *Waiter[T]) {
	q.l.pushBack(&w.link, w)
	if q.OnLen != nil {
		q.OnLen(q.l.n)
	}
}

// Remove takes w out of the queue; it reports false if w was not queued.
func (q *Queue[T]) Remove(w *Waiter[T]) bool {
	ok := q.l.remove(&w.link)
	if ok && q.OnLen != nil {
		q.OnLen(q.l.n)
	}
	return ok
}

// PopLive removes and returns the oldest waiter whose context is not done,
// claiming its Select if it is a case of one: the caller must grant it.
// Waiters whose context is done are removed on the way: they were cancelled
// before the hand-off and will return their context's error; so are the
// cases of a Select that another case already won.
func (q *Queue[T]) PopLive() *Waiter[T] {
	for w := q.l.front(); w != nil; w = q.l.front() {
		q.Remove(w)
		if CtxLive(w.Ctx) && w.Claim() {
			return w
		}
	}
	return nil
}

// CtxLive reports whether ctx, a waiter's (nil for one that no longer
// gives up), is not done. A granter asks it of another task's ctx with the
// primitive's mutex held, so a panic in the Err of a ctx of the user's own
// type is recovered here: the waiter counts as live, and is granted (its
// own call then returns what it was handed; see parkPanicked).
func CtxLive(ctx context.Context) bool {
	if ctx == nil {
		return true
	}
	if t, ok := ctx.(*taskCtx); ok && t.safe {
		return t.Err() == nil
	}
	if stdErr(ctx) {
		return ctx.Err() == nil
	}
	return ctxLive(ctx)
}

func ctxLive(ctx context.Context) bool {
	err := guarded(ctx.Err)
	_, panicked := err.(*ctxPanic)
	return err == nil || panicked
}

// Grant hands w what it waits for and wakes it. Call it under the lock that
// guards the queue w was popped from, after setting w.Val: the grant is final
// from then on.
func (w *Waiter[T]) Grant() {
	w.Granted = true
	w.wake()
}

// Hand is Grant without the wake: under the lock that guards the queue w
// was popped from, after setting w.Val, it makes the grant final; the
// caller must then call w.Wake once, after releasing the lock (nothing in
// between may panic or block). Meanwhile w's wait cannot end: a
// cancellation of its ctx that comes first finds w granted and waits for
// the wake's signal (see Queue.abandon), and a simulated task runs no
// other task in between.
func (w *Waiter[T]) Hand() { w.Granted = true }

// Wake wakes w, which Hand granted, once the caller has released the lock.
func (w *Waiter[T]) Wake() { w.wake() }

// Enqueue prepares w for the call c (with its ctx) and appends it to q. It
// never panics (it is called with the primitive's mutex held): if the
// runtime refuses the caller, w is not queued and Enqueue returns the
// refusal, which the caller raises with Unwound once it has released the
// mutex. A caller that may not park for a reason found only at the park is
// refused by the park that follows (see Wait).
func (q *Queue[T]) Enqueue(ctx context.Context, c Call, w *Waiter[T], what string) error {
	if err := c.RT.Prepare(&w.Parker, what); err != nil {
		return err
	}
	w.Ctx, w.Task = ctx, c.Task
	q.Adopt(w)
	return nil
}

// Unwound raises err if it is a runtime's refusal (see Runtime) and returns
// err otherwise.
func Unwound(err error) error { return unwound(err) }

// Adopt appends w, prepared already (a waiter that Prepare readied before
// the primitive's lock was taken, or one moved here from another queue), and
// records, for a simulated task, that it now waits on q (deadlock reports).
func (q *Queue[T]) Adopt(w *Waiter[T]) {
	if w.task != nil {
		w.task.on = q
	}
	q.Push(w)
}

// Wait parks the caller on w, which the caller has enqueued in q with mu held.
// Wait unlocks mu, parks, and returns nil once w is granted. If ctx is done
// first, w leaves the queue and Wait returns ctx's error, unless w was granted
// in the meantime, in which case the grant wins and Wait returns nil.
// mu is not held when Wait returns. If the caller may not park (it is not a
// task of ctx's simulation, or the simulation abandons it), Wait takes w out
// of q and then panics, with mu not held.
func Wait[T any](ctx context.Context, rt Runtime, mu *sync.Mutex, q *Queue[T], w *Waiter[T], what string) error {
	mu.Unlock()
	if err := rt.Park(ctx, &w.Parker, what); err != nil {
		return q.abandon(mu, w, err)
	}
	return nil
}

// abandon ends a wait that ctx cut short with err: w leaves q and the wait
// fails with err, unless a grant came first, in which case the grant wins
// and the wait succeeds. It is called without mu held and returns (or
// panics) so.
//
// If err is a park's refusal, abandon panics once w is out of q and mu is
// released: with the rule broken for a caller outside the simulation (even if
// granted); to unwind an abandoned task unless it was granted first (then the
// grant wins: the task has what it waited for, and its next blocking call
// unwinds it).
//
// If err is a *ctxPanic (a method of ctx, of the user's own type, panicked
// in the park), a grant that came first wins as it wins over a
// cancellation, and the panic is dropped (the ctx's owner meets it again
// at the ctx's next use); otherwise w leaves q and the panic goes on. w
// must not be reused then: a watcher may still signal it.
func (q *Queue[T]) abandon(mu *sync.Mutex, w *Waiter[T], err error) error {
	mu.Lock()
	if p, ok := err.(*ctxPanic); ok {
		granted := w.Granted
		if !granted {
			q.Remove(w)
		}
		mu.Unlock()
		if !granted {
			panic(p.v)
		}
		return nil
	}
	if w.Granted {
		mu.Unlock()
		w.drain()
		if r, ok := err.(*refusal); ok && r != errAbort {
			r.raise()
		}
		return nil
	}
	q.Remove(w)
	mu.Unlock()
	return unwound(err)
}

// FrontLive drops the cancelled waiters at the head of q and returns the
// oldest waiter whose context is not done, or nil. TryX calls use it to tell
// whether anyone is really waiting.
func (q *Queue[T]) FrontLive() *Waiter[T] {
	for w := q.l.front(); w != nil; w = q.l.front() {
		if w.Live() {
			return w
		}
		q.Remove(w)
	}
	return nil
}

// Block is the whole wait of a primitive: called with mu held, after the
// caller found it must wait, it queues a waiter carrying val on q, parks on
// c's runtime until the waiter is granted or ctx is done (see Wait), and
// returns the waiter's final value (what a granter handed over) with Wait's
// error. c is ctx decoded (Decode), once, by the caller. The waiter is
// reused afterwards. mu is not held when Block returns, nor when it panics
// because the caller may not park (see Wait).
//
// Once the wait is over, w is the caller's alone (it left the queue, and a
// granter wrote w.Val before the signal the wait received or drained), so
// its value is read without the lock.
func Block[T any](ctx context.Context, c Call, mu *sync.Mutex, q *Queue[T], val T, what string) (T, error) {
	w := q.Alloc()
	if err := q.Enqueue(ctx, c, w, what); err != nil {
		mu.Unlock()
		q.Free(w)
		unwound(err)
	}
	w.Val = val
	mu.Unlock()
	var err error
	if t, ok := ctx.(*taskCtx); ok && t.real && t.safe {
		// A real task's own ctx, the usual wait, parks here, in this
		// frame: parkTask's steps for an armed watcher or a ctx that is
		// never done (see parkTask; a woken waiter returns through every
		// frame above its receive). The first park of a task that can
		// be cancelled arms its watcher, in parkTask.
		p := &w.Parker
		wt := t.watch.Load()
		if t.never || wt != nil && wt != noWatch && wt.parked.CompareAndSwap(nil, p) {
			if !t.never && (wt.ended.Load() || t.Err() != nil) {
				err = wt.backOut(t, p)
			} else {
				// p.sig.recv(), written out: the woken task
				// returns from its park into this frame (a
				// never-done task's ctx needs no watcher)
				for s := p.sig; !s.recvNow(); {
					gopark(commitPark, unsafe.Pointer(s), 0, 0, 1)
					if s.woken {
						break
					}
				}
				if !t.never {
					err = wt.leave(t, p)
				}
			}
		} else {
			err = parkTask(t, p)
		}
	} else {
		err = c.RT.Park(ctx, &w.Parker, what)
	}
	if err != nil {
		if _, ok := err.(*ctxPanic); ok {
			q.abandon(mu, w, err) // panics unless granted
			return w.Val, nil     // w is not reused (see abandon)
		}
		err = q.abandon(mu, w, err)
	}
	v := w.Val
	q.Free(w)
	return v, err
}
