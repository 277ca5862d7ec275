package tock

import (
	"context"
	"errors"
	"sync"

	"github.com/tockgo/tock/internal"
)

// ErrNotStarted is returned by Group.Start when the task returned nil without
// calling started.
var ErrNotStarted = errors.New("tock: Group.Start: the task returned without calling started")

// errGroupCancelled is the cause of a group's own cancellation.
var errGroupCancelled = errors.New("tock: group cancelled")

// Group is a structured task group: it starts tasks, and Wait waits for every
// one of them. The first task to fail (return a non-nil error, or panic)
// cancels the group's context, and so every other task; Wait then returns every
// failure, joined (the result has Unwrap() []error), but never the
// cancellations the group caused itself. A Group runs its tasks on the
// runtime of the context it was made with: inside a simulation its tasks are
// simulated tasks.
//
// Make a Group with NewGroup; the zero value is not usable: its methods panic
// naming the rule.
type Group struct {
	rt     internal.Runtime
	parent context.Context
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu        sync.Mutex
	running   int
	errs      []error
	panic     *PanicError
	self      bool // the group cancelled itself (a failure or Cancel)
	byParent  bool // a task returned the cancellation of the parent context
	waiters   internal.Queue[struct{}]
	waited    bool
	waitedErr error
	taskEnd   internal.TaskEnd // every Go task's end (see taskEnded), made once
}

// NewGroup returns a group whose tasks' contexts derive from ctx. It panics
// if ctx is nil.
func NewGroup(ctx context.Context) *Group {
	if ctx == nil {
		panic("tock: NewGroup: nil context (use context.Background(), or the ctx of the calling task)")
	}
	rt := internal.RuntimeOf(ctx)
	gctx, cancel := rt.WithCancel(ctx)
	g := &Group{rt: rt, parent: ctx, ctx: gctx, cancel: cancel}
	g.waiters.Res = (*groupHolding)(g) // Wait waits for the group's tasks
	g.taskEnd = g.taskEnded
	return g
}

// Go starts task in a new task of the group. In a simulation the new task
// runs after every task already runnable at this instant, in the order Go was
// called. Options name the task (see Name). Go panics if Wait has already
// returned, if task is nil, and on a Group not made by NewGroup. Like a go
// statement, Go synchronizes before the start of task.
func (g *Group) Go(task func(ctx context.Context) error, opts ...TaskOption) {
	g.check("Go")
	if task == nil {
		panic("tock: Group.Go: nil task function")
	}
	g.add("Go")
	// task runs in the runtime's own frame, which gives its end to
	// taskEnded: no frame or closure of the group's per task.
	g.rt.Spawn(g.ctx, taskName(opts), task, g.taskEnd)
}

// taskEnded is the TaskEnd of the group's Go tasks: it records the task's
// result (see ended).
func (g *Group) taskEnded(ctx context.Context, returned bool, err error, r any) {
	g.done(ended(ctx, returned, err, r))
}

// Start starts task in a new task of the group and blocks until the task calls
// started, or ends. It returns nil once started has been called; after that,
// the task's result goes to the group like a Go task's. If the task ends
// before calling started, Start returns its error (ErrNotStarted if it
// returned nil) and the group does not see it; if it panics before calling
// started, Start re-raises the panic as a *PanicError; if it ends by runtime.Goexit before
// calling started, Start returns ErrGoexit. Calling started twice
// panics. Start cannot be cancelled: cancel the group, and the task's return
// ends the wait. Options name the task (see Name). Like Go, Start panics if
// Wait has already returned, if task is nil, and on a Group not made by
// NewGroup. What the task did before calling started (or before it ended
// without calling it) happens before Start returns.
func (g *Group) Start(task func(ctx context.Context, started func()) error, opts ...TaskOption) error {
	g.check("Start")
	if task == nil {
		panic("tock: Group.Start: nil task function")
	}
	g.add("Start")
	var (
		q       internal.Queue[struct{}]
		w       internal.Waiter[struct{}]
		started bool
		err     error
		pe      *PanicError
	)
	bg := context.Background()
	g.mu.Lock()
	if err := q.Enqueue(bg, internal.Call{RT: g.rt}, &w, "Group.Start"); err != nil {
		g.mu.Unlock()
		g.done(nil, nil) // the task that add counted will not run
		internal.Unwound(err)
	}
	g.mu.Unlock()
	markStarted := func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if started {
			panic("tock: Group.Start: started called twice")
		}
		started = true
		if w := q.PopLive(); w != nil {
			w.Grant()
		}
	}
	// endedUnstarted hands the task's end to Start, waking it, unless
	// started was called; it reports whether it did. g.mu is released by
	// a deferred call, so that it is not left held whatever panics.
	endedUnstarted := func(terr error, p *PanicError) bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		if started {
			return false
		}
		err, pe = terr, p
		if err == nil && p == nil {
			err = ErrNotStarted
		}
		if w := q.PopLive(); w != nil {
			w.Grant()
		}
		return true
	}
	// the task's end: to Start until started was called, to the group after
	finish := func(ctx context.Context, returned bool, terr error, r any) {
		terr, p := ended(ctx, returned, terr, r)
		if endedUnstarted(terr, p) {
			g.done(nil, nil)
			return
		}
		g.done(terr, p)
	}
	t := g.rt.Spawn(g.ctx, taskName(opts), func(ctx context.Context) error {
		return task(ctx, markStarted)
	}, finish)
	g.mu.Lock()
	q.Res = t // Start waits for t
	internal.Wait(bg, g.rt, &g.mu, &q, &w, "Group.Start")
	g.mu.Lock()
	defer g.mu.Unlock()
	if pe != nil {
		panic(pe)
	}
	return err
}

// Cancel cancels the group's context: every task's ctx is done. The
// cancellations this causes are not failures: Wait does not report them.
// If the group's context was done already (its parent was cancelled, or a
// task failed), Cancel changes nothing: Wait still reports that. It panics
// on a Group not made by NewGroup. Cancel synchronizes before the return
// of every wait that the cancellation ends.
func (g *Group) Cancel() {
	g.check("Cancel")
	g.mu.Lock()
	if g.ctx.Err() == nil {
		g.self = true
	}
	g.mu.Unlock()
	g.cancel(errGroupCancelled)
}

// Wait blocks until every task of the group has returned, including tasks
// started while it waits (also one accepted while Wait is waking up: Wait
// returns only once, under the group's lock, no accepted task is running,
// and from then on Go and Start are refused), then returns the failures
// joined in the order they happened (nil if none). If the group's parent
// context was cancelled and tasks returned that cancellation, Wait returns
// the parent's error. If a task panicked, Wait panics with that
// *PanicError. A task that ended by runtime.Goexit (t.Fatal on its
// goroutine) counts as a failure, ErrGoexit. Wait cannot be cancelled: cancel the group instead. After
// Wait returns, the group's context is cancelled and Go and Start panic.
// Wait panics on a Group not made by NewGroup. Everything every task of the
// group did happens before Wait returns (or panics).
func (g *Group) Wait() error {
	g.check("Wait")
	g.mu.Lock()
	for g.running > 0 {
		var w internal.Waiter[struct{}]
		bg := context.Background()
		if err := g.waiters.Enqueue(bg, internal.Call{RT: g.rt}, &w, "Group.Wait"); err != nil {
			g.mu.Unlock()
			internal.Unwound(err)
		}
		internal.Wait(bg, g.rt, &g.mu, &g.waiters, &w, "Group.Wait")
		g.mu.Lock()
	}
	// running is 0 and g.mu is held: marking the group waited here is atomic
	// with that check, so no Go can slip in between.
	if !g.waited {
		g.waited = true
		switch {
		case len(g.errs) > 0:
			g.waitedErr = errors.Join(g.errs...)
		case g.byParent:
			g.waitedErr = g.parent.Err()
		}
	}
	err, p := g.waitedErr, g.panic
	g.mu.Unlock()
	g.cancel(context.Canceled)
	if p != nil {
		panic(p)
	}
	return err
}

// check panics on a nil Group or one not made by NewGroup.
func (g *Group) check(op string) {
	if g == nil {
		panic("tock: Group." + op + ": nil *Group")
	}
	if g.rt == nil {
		panic("tock: Group." + op + ": the zero Group is not usable; make it with NewGroup(ctx)")
	}
}

func (g *Group) add(op string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.waited {
		panic("tock: Group." + op + ": Wait has already returned; a group cannot be reused")
	}
	g.running++
}

// ended is the result of a group's task, from its TaskEnd (called by the
// runtime in the frame that called the task's function: see Go), given
// whether the function returned, what it returned, and what the runtime's
// deferred call recovered. A panic becomes a *PanicError (ended runs
// during the panic, so its stack is the panicking one); a task that
// neither returned nor panicked ended by runtime.Goexit (t.Fatal in a
// task), which ended is called while it unwinds: the result is ErrGoexit,
// and nothing waits for the task forever. A simulation's abandoning of the
// task (its unwinding panic) never reaches a TaskEnd: the run is over, and
// no one waits for the task. ended also ends the task's ctx (internal.EndTask: a
// real task's watcher is stopped), inside a recover of its own: stopping a
// watcher of a derived ctx of the user's own type calls that type's code
// (its AfterFunc's stop), whose panic then reaches Wait as the task's
// *PanicError (a panic of the task itself comes first) instead of ending
// the process on the task's goroutine.
func ended(ctx context.Context, returned bool, err error, r any) (error, *PanicError) {
	switch {
	case returned:
		return err, endTask(ctx)
	case r != nil:
		p := asPanicError(r) // one layer: a nested Group's *PanicError as it is
		endTask(ctx)
		return nil, p
	default: // runtime.Goexit
		return ErrGoexit, endTask(ctx)
	}
}

// endTask ends ctx's task (see call), returning a panic of the user's code
// it called as a *PanicError.
func endTask(ctx context.Context) (p *PanicError) {
	defer func() {
		if r := recover(); r != nil {
			if internal.IsAbort(r) {
				panic(r)
			}
			p = asPanicError(r)
		}
	}()
	internal.EndTask(ctx)
	return nil
}

func isCancellation(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// done records a task's result and wakes Wait when it was the last.
func (g *Group) done(err error, p *PanicError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case p != nil:
		if g.panic == nil {
			g.panic = p
		}
		g.failLocked()
	case err == nil:
	case g.ctx.Err() != nil && isCancellation(err):
		if !g.self {
			g.byParent = true
		}
	default:
		g.errs = append(g.errs, err)
		g.failLocked()
	}
	g.running--
	if g.running == 0 {
		for w := g.waiters.PopLive(); w != nil; w = g.waiters.PopLive() {
			w.Grant()
		}
	}
}

func (g *Group) failLocked() {
	if !g.self && g.ctx.Err() == nil {
		g.self = true
		g.cancel(errGroupCancelled)
	}
}
