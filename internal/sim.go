package internal

import (
	"context"
	"errors"
	"iter"
	"math"
	"sync/atomic"
	"time"
)

type taskState uint8

const (
	stRunnable taskState = iota
	stRunning
	stParked
	stEnding // in its TaskEnd, after its function returned
	stDone
)

// abortPanic unwinds a task's stack when the simulation abandons it (end of
// run, deadlock, outer cancellation). It never escapes the task.
type abortPanic struct{}

// ErrWallClockDeadline is returned by a simulated wait whose context carries a
// deadline that the simulation does not control (context.WithTimeout or
// context.WithDeadline on the wall clock) anywhere above it (node.wall).
// Inside a simulation, derive deadlines with tock.WithTimeout or
// tock.WithDeadline.
var ErrWallClockDeadline = errors.New("tock/sim: a wall-clock deadline (context.WithTimeout/WithDeadline) reached a simulated wait; use tock.WithTimeout or tock.WithDeadline inside a simulation")

// Result is how a simulation ended.
type Result struct {
	Err       error     // main's error (or the outer context's)
	Deadlock  []Blocked // non-nil on deadlock
	Cycle     []int     // on deadlock, a wait-for cycle (indices into Deadlock), if any
	At        time.Time // the instant the run ended
	Panic     *Panic
	Events    uint64 // task resumptions
	Remaining int    // tasks abandoned at the end
	// Stall is set when the watchdog found a task that did not give
	// control back to the scheduler within the limit.
	Stall *Stall
	// Abandoned: Run returned without the loop (a stall, or the outer
	// context cancelled while a task did not give control back); the
	// loop unwinds every task if control ever comes back.
	Abandoned bool
}

// simTask is the scheduler's state of one simulated task, with the task's
// identity (Task) inside it. The fields an event touches (resuming the
// task, a sleep, a park and its wake-up) come first, in the first cache
// lines: with many tasks, each event finds its task cold in memory, and the
// coroutine's two ends (next, yield) are read from here: a coroutine has no
// object of its own (see newCoro).
//
// A simulation may hold a million of these at once: state that most tasks
// never need lives behind a pointer, made when first needed (rare), and
// the struct stays within the 288-byte size class (288 bytes now; see
// TestSimTaskSize).
type simTask struct {
	next     func() (bool, bool) // its coroutine's resume; nil until it first runs
	s        *Sched
	yield    func(ended bool) bool // its coroutine's switch back to the loop; nil until it first runs
	state    taskState
	aborting bool
	goexit   bool  // it ended by runtime.Goexit
	fired    bool  // its last timed park ended by its timer (see ParkUntil)
	parkIdx  int32 // index in wnode.parked, unless wnode is home
	homeIdx  int32 // index in home.parked
	// its coroutine's goroutine ID in checked mode, its low 32 bits (two
	// goroutines alike there only make the misuse check miss, never
	// accuse; see callerState); 0 until it first runs
	goid uint32
	// cancellation watch while parked: in wnode's parked set, or in the
	// scheduler's polled list when polled.ctx is set
	wnode *node
	// the node of the task's own context, once it has parked there: the
	// task stays in its parked set until it ends
	home    *node
	timer   timer
	parkSeq uint64 // when it parked: the order cancellation wakes in
	wakeErr error
	what    string
	on      Holding // what it parked on through Block or Wait, for deadlock reports

	Task
	tctx taskCtx                         // the task's context
	fn   func(ctx context.Context) error // what the task runs
	end  TaskEnd                         // where fn's end goes (see Spawn); nil for none
	live link[simTask]                   // in the scheduler's list of live tasks
	rare *rareState                      // nil until the task first needs it
}

// rareState is what few tasks ever need, made when a task first does and
// kept until it ends: a park on a context whose cancellation tock does not
// control (see Sched.watch), which the scheduler polls after every step,
// and the panic of a task with no TaskEnd (the main task's).
type rareState struct {
	pollLink link[simTask]   // in the scheduler's polled list, while parked so
	pollCtx  context.Context // polled; nil when not parked so
	panicked *Panic          // what the task panicked with, if it did
}

// rareState returns t's rare state, made at its first use.
func (t *simTask) rareState() *rareState {
	if t.rare == nil {
		t.rare = new(rareState)
	}
	return t.rare
}

// panicked is what t panicked with, if it had no TaskEnd; nil otherwise.
func (t *simTask) panicked() *Panic {
	if t.rare == nil {
		return nil
	}
	return t.rare.panicked
}

// Sched is the deterministic simulation runtime: one task runs at a time, in
// FIFO order within an instant; the virtual clock jumps to the next timer only
// when nothing is runnable.
type Sched struct {
	start    time.Time
	now      int64
	seq      uint64
	parks    uint64 // numbers parks on a node, for the order cancellation wakes in
	runq     ring
	timers   timerQueue
	cur      *simTask
	nextID   uint64
	root     *node
	until    int64
	hasUntil bool
	stopping bool
	stopped  bool // Until reached
	aborted  atomic.Bool
	events   uint64
	stall    time.Duration // the watchdog's limit; 0: no watchdog
	checked  bool          // the checks that cost more (Checked)
	beat     atomic.Uint32 // the watchdog's poke, cleared when control comes back (see progress)

	// every live task, in creation order
	live dlist[simTask]
	// parked tasks whose context's cancellation tock does not control, and
	// nodes whose parent it does not control: polled after every step
	polled   dlist[simTask]
	fnodes   []*node
	idle     []func() (bool, bool)       // resumes of coroutines whose task ended, for the next task
	dead     []func() (bool, bool)       // resumes of coroutines whose task called runtime.Goexit (stopDead)
	body     func(yield func(bool) bool) // every coroutine's (see newCoro); nil until the first
	mainTask *simTask
	mainDone bool
	mainErr  error

	x *Schedule // exploration: the choice points' decisions (nil: FIFO); see schedule.go
}

// NewSched makes a simulation starting at start. With hasUntil, the run stops
// at until: work scheduled at exactly until still runs, then every task is
// cancelled.
func NewSched(start time.Time, until time.Time, hasUntil bool) *Sched {
	if !everSimulated.Load() {
		everSimulated.Store(true)
	}
	s := &Sched{start: start}
	if hasUntil {
		s.hasUntil = true
		s.until = int64(until.Sub(start))
	}
	return s
}

func (s *Sched) Simulated() bool { return true }

// SetStallTimeout sets the stall watchdog's limit (0: no watchdog).
func (s *Sched) SetStallTimeout(d time.Duration) { s.stall = d }

// SetChecked turns on the checks that cost more than a comparison: a call
// with a task's ctx from another goroutine while that task runs is caught by
// goroutine ID.
func (s *Sched) SetChecked() { s.checked = true }

// Now is the virtual clock.
func (s *Sched) Now() time.Time { return s.start.Add(time.Duration(s.now)) }

// Events is the number of task resumptions so far.
func (s *Sched) Events() uint64 { return s.events }

// current is the running task, for a call that may switch out but holds no
// lock (Checkpoint): it panics if there is none (the rule broken), or goes
// on unwinding an abandoned task.
func (s *Sched) current(op string) *simTask {
	t := s.cur
	if t == nil || t.aborting {
		refuse(t, op).raise()
	}
	return t
}

// refusal is what park returns instead of parking, when the caller is not a
// task of the simulation (outside) or is a task being unwound (abort). A
// parking primitive holds a queued waiter and may have held its mutex until
// just before: it takes the waiter out of its queue, releases everything,
// and only then raises the refusal's panic (see Queue.abandon). No other
// error is a *refusal.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// raise panics: with the rule broken, or with the panic that unwinds an
// abandoned task.
func (r *refusal) raise() {
	if r == errAbort {
		panic(abortPanic{})
	}
	panic(r.msg)
}

var errAbort = &refusal{"tock/sim: the simulation abandoned this task"}

func refuse(t *simTask, op string) *refusal {
	if t == nil {
		return &refusal{"tock: " + op + " on a simulation's context outside that simulation's tasks (a goroutine the simulation does not run, or after sim.Run returned?)"}
	}
	return errAbort
}

// Unwound panics if err is a refusal (see refusal) and returns err otherwise:
// callers that park with no queue and no lock raise at once.
func unwound(err error) error {
	if r, ok := err.(*refusal); ok {
		r.raise()
	}
	return err
}

// Prepare binds p to the current task. It never panics (it is called with
// the primitive's mutex held) and never refuses: with no current task, or
// one being unwound, it gives p a channel, so that a grant before park
// refuses neither blocks nor wakes another task, and park then refuses.
func (s *Sched) Prepare(p *Parker, what string) error {
	if t := s.cur; t != nil && !t.aborting {
		p.task, p.sig = t, nil
		return nil
	}
	p.task = nil
	p.readySignal()
	return nil
}

// Park suspends the current task until woken or ctx is done. It returns a
// *refusal instead of parking when the caller may not park (see refusal).
func (s *Sched) Park(ctx context.Context, p *Parker, what string) error {
	return s.park(ctx, what, false, 0)
}

// park suspends the current task, blocked in what, until it is woken, ctx is
// done, or, if timed, the virtual clock reaches when (a when not after now is
// a Checkpoint). It never panics: with no current task, or when the task is
// abandoned (now or while parked), it returns a *refusal, which the caller
// raises once it holds no lock and no queued waiter.
//
// Every simulated wait switches out here, and the blocking calls reach it
// through as few frames as possible: each frame between a task's code and
// the switch costs a mispredicted return when the task resumes (measured:
// about a tenth of a sleep event).
func (s *Sched) park(ctx context.Context, what string, timed bool, when int64) error {
	t := s.cur
	if t == nil || t.aborting {
		return refuse(t, what)
	}
	if timed {
		if when <= s.now {
			s.Checkpoint()
			return nil
		}
		if s.x != nil { // exploration hook: jitter
			when = s.x.late(when)
		}
		// If this task is the next event (nothing runnable, nothing polled,
		// no timer due at or before when, and no Until before it), it goes
		// on at once: the same result as parking and being woken, without a
		// switch.
		if s.alone() && (!s.hasUntil || when <= s.until) {
			if next, ok := s.timers.next(); !ok || next.when > when {
				if sleepsThrough(ctx) {
					s.now = when
					s.events++
					s.progress()
					t.fired = true
					return nil
				}
			}
		}
		t.timer.task = t
		s.setTimer(&t.timer, when)
	}
	if err := s.watch(ctx, t); err != nil {
		s.stopTimer(&t.timer)
		return err
	}
	t.what = what
	t.state = stParked
	t.wakeErr = nil
	t.yield(false)
	t.fired = timed && t.timer.seq == 0 // the loop fired it (a grant leaves it armed)
	s.unwatch(t)
	s.stopTimer(&t.timer)
	if t.aborting {
		// abandoned while parked (abortAll resumed it so): unwound from
		// here on
		t.state = stRunning
		return errAbort
	}
	return t.wakeErr
}

// ParkUntil is Park on the task's timer at d, with no context made for
// it: errParkTimedOut once the timer fired (or would have: the task was
// the next event). A d beyond the clock's range parks with no timer, as
// WithDeadline makes none.
func (s *Sched) ParkUntil(ctx context.Context, p *Parker, what string, d time.Time) error {
	when, ok := s.deadlineAt(d)
	if !ok {
		return s.park(ctx, what, false, 0)
	}
	if when <= s.now {
		return errParkTimedOut
	}
	if err := s.park(ctx, what, true, when); err != nil {
		return err
	}
	if s.cur.fired {
		return errParkTimedOut
	}
	return nil
}

// suspend hands control back to the scheduler until t is resumed; it panics
// to unwind t if the simulation abandons it meanwhile. Only calls that hold
// no lock and no queued waiter use it.
func (s *Sched) suspend(t *simTask) {
	if t.yield(false); t.aborting {
		t.state = stRunning
		panic(abortPanic{})
	}
}

// wake makes a parked task runnable (a grant or a timer).
func (s *Sched) wake(t *simTask) {
	if t.state == stParked {
		t.state = stRunnable
		s.runq.push(t)
	}
}

// wakeErr makes a parked task runnable with a cancellation error.
func (s *Sched) wakeWith(t *simTask, err error) {
	if t.state == stParked {
		t.wakeErr = err
		t.state = stRunnable
		s.runq.push(t)
	}
}

// alone reports whether the running task would be resumed next if it
// yielded now: nothing is runnable, no context is polled after a step, and
// the run is not ending. (Every timer is after the current instant.)
func (s *Sched) alone() bool {
	return s.runq.n == 0 && s.polled.n == 0 && len(s.fnodes) == 0 && !s.stopping && !s.aborted.Load()
}

// Checkpoint lets every task already runnable at this instant run first. If
// there is none, the task goes on without a switch: the same result.
func (s *Sched) Checkpoint() bool {
	t := s.current("checkpoint")
	if s.alone() {
		s.events++
		s.progress()
		return false
	}
	if s.x != nil && s.x.goOn(s) { // exploration hook: the checkpoint goes on
		s.events++
		s.progress()
		return false
	}
	t.state = stRunnable
	s.runq.push(t)
	s.suspend(t)
	return true
}

// Yield is Checkpoint for tock.Yield.
func (s *Sched) Yield() { s.Checkpoint() }

// SleepUntil parks the current task until the virtual clock reaches t.
func (s *Sched) SleepUntil(ctx context.Context, at time.Time) error {
	return slept(s.park(ctx, "Sleep", true, int64(at.Sub(s.start))))
}

// slept is the result of a Sleep's park: a refusal or a panic of a method of
// ctx (a *ctxPanic) is raised, with no lock or queued waiter held.
func slept(err error) error {
	RaiseCtxPanic(err)
	return unwound(err)
}

// Sleep parks the current task for d of virtual time.
// A d past the end of the clock's range sleeps until that end (now is never
// negative, so the subtraction cannot overflow).
func (s *Sched) Sleep(ctx context.Context, d time.Duration) error {
	return slept(s.park(ctx, "Sleep", true, s.now+min(int64(d), math.MaxInt64-s.now)))
}

// sleepsThrough reports whether a timed park with ctx that is the next
// event may go on without parking: ctx is a node or a task's context over
// one (its deadline is the simulation's), or the park's watch would accept
// ctx as it is (see foreignNode: not done, no deadline of the wall clock).
// A ctx of the user's own type whose methods panic is not slept through:
// the park's watch meets the panic again, and the caller raises it.
func sleepsThrough(ctx context.Context) bool {
	if n := directNode(ctx); n != nil {
		return !n.wall // a wall-clock deadline above: the watch refuses it
	}
	return guarded(func() error {
		_, _, err := foreignNode(ctx)
		return err
	}) == nil
}

// Label names a live task of the simulation by its name (see TaskLabel); an ID
// not live is "a task that has ended" (IDs differ from run to run).
func (s *Sched) Label(id uint64) string {
	for t := s.live.front(); t != nil; t = t.live.after() {
		if t.ID == id {
			return t.Name()
		}
	}
	return endedTask
}

// Spawn starts fn as a new simulated task, runnable after every task already
// runnable at this instant; its end goes to end (see TaskEnd), in the
// frame of its coroutine's body (see newCoro).
func (s *Sched) Spawn(parent context.Context, name string, fn func(ctx context.Context) error, end TaskEnd) *Task {
	return &s.spawn(parent, name, fn, end).Task
}

func (s *Sched) spawn(parent context.Context, name string, fn func(ctx context.Context) error, end TaskEnd) *simTask {
	s.nextID++
	t := &simTask{s: s, Task: Task{ID: nextTaskID.add(), name: name, num: s.nextID}}
	t.Task.sim = t
	t.tctx = taskCtx{Context: parent, Call: Call{RT: s, Task: &t.Task}, safe: safeParent(parent)}
	t.fn, t.end = fn, end
	s.live.pushBack(&t.live, t)
	t.state = stRunnable
	s.runq.push(t)
	return t
}

// newCoro makes a coroutine that runs tasks, one after another, and
// returns its resume. A task gets one when it first runs, and a task that
// ends hands its coroutine back to the scheduler for the next task to
// start: a spawn creates no goroutine, and a task spawned but not started
// holds no stack.
//
// The task a coroutine runs is the scheduler's current one (s.cur) when it
// is resumed to start it: the loop sets s.cur before every resume, and a
// coroutine resumed with no current task returns (stopIdle). The coroutine
// has no object of its own: its task holds both ends (next, yield), and it
// is never stopped through iter.Pull's stop, only resumed to its end, so
// that a yield always comes back with the loop's next resume: an abandoned
// task finds t.aborting set when it is resumed (see park), and an idle
// coroutine finds no current task.
//
// Every coroutine of a run runs the same body, made once (s.body): it keeps
// its state (its task, its goroutine's ID) in its own frame, so that a new
// coroutine allocates nothing but iter.Pull's own.
//
// A task's function runs in the body's frame, and its end (TaskEnd) is
// called there: returned, after the function; panicked or exited, from the
// body's deferred call (see endUnwound). A task that panicked ends its
// coroutine with it.
func (s *Sched) newCoro() func() (bool, bool) {
	if s.body != nil {
		next, _ := iter.Pull(s.body)
		return next
	}
	s.body = func(yield func(bool) bool) {
		var goid uint32
		if s.checked {
			goid = uint32(curGoid())
		}
		// The tasks run in this frame, with no frame of their own between
		// it and the task's function (see park): the deferred recovery is
		// the coroutine's, and a task that panics or exits ends its
		// coroutine with it. The deferred call finds the task and where
		// it is from the scheduler (see unwoundBody): no local of the
		// frame is shared with it, so the frame holds one stack object for
		// the collector to track in every parked task's stack (the
		// deferred call's own), not one per shared local.
		defer s.unwoundBody()
		for {
			t := s.cur
			if t == nil {
				return // stopIdle
			}
			t.yield, t.goid = yield, goid
			err := t.fn(&t.tctx)
			if t.end != nil {
				t.state = stEnding
				t.end(&t.tctx, true, err, nil)
			}
			t.state = stDone
			if t.aborting || len(s.idle) >= maxIdle {
				return // returning ends the task (see loop)
			}
			yield(true)
		}
	}
	return s.newCoro()
}

// maxIdle bounds the idle coroutines kept for later tasks. A task that ends
// while that many are kept ends its coroutine too, in the same switch: an
// idle coroutine keeps its stack until the run ends, and the run's end
// then switches into each one to stop it. Tasks that come and go (a
// source of customers, a Group's short tasks) reuse a few; a model that
// ends 100,000 tasks at once would otherwise keep 100,000 stacks, and pay
// a third switch per task.
const maxIdle = 256

// unwoundBody is a coroutine body's deferred call (see newCoro). The task
// it runs is the scheduler's current one whenever its code runs, and is
// being unwound (by a panic, a Goexit, or the simulation's abandoning of
// it) unless it is done: the body marks it so once its function and its
// TaskEnd returned. With no current task, the body returned idle.
func (s *Sched) unwoundBody() {
	if t := s.cur; t != nil && t.state != stDone {
		s.endUnwound(t, t.state == stEnding, recover())
	}
}

// endUnwound is the end of t, which did not return from its function (or,
// inEnd, from its TaskEnd), given what the coroutine's deferred call
// recovered: a panic or a Goexit of the function goes to its TaskEnd, if
// it has one (a panic of the TaskEnd itself is recorded as the task's, as
// a panic of a task with none is), and a Goexit and the rest to unwound.
// The simulation's unwinding of an abandoned task is no end of the task's:
// it never reaches the TaskEnd.
func (s *Sched) endUnwound(t *simTask, inEnd bool, r any) {
	if !inEnd && t.end != nil && !IsAbort(r) {
		if p := guardedEnd(t, r); p != nil {
			t.rareState().panicked = Recovered(p)
		}
		if r != nil {
			return // the TaskEnd had the panic: the coroutine ends with the task
		}
	}
	s.unwound(t, r)
}

// guardedEnd calls t's TaskEnd for a function that panicked with r (nil:
// runtime.Goexit), from the coroutine's deferred call, and returns what the
// TaskEnd panicked with, if it did.
func guardedEnd(t *simTask, r any) (p any) {
	defer func() { p = recover() }()
	t.end(&t.tctx, false, nil, r)
	return nil
}

// unwound handles the end of t, which did not return from its function,
// with what the deferred call there recovered (see newCoro): a panic other
// than the one that unwinds an abandoned task is recorded.
//
// A task that calls runtime.Goexit cannot be stopped from ending its
// goroutine, and iter.Pull would carry the Goexit on to the loop's goroutine.
// So its coroutine reports the task ended from inside the Goexit's unwinding,
// and is resumed only to let the Goexit finish: the loop retires the task
// (goexit set) and keeps the coroutine, which run resumes to its end on a
// goroutine of its own (stopDead).
func (s *Sched) unwound(t *simTask, r any) {
	if r != nil {
		if _, ok := r.(abortPanic); !ok {
			t.rareState().panicked = Recovered(r)
		}
		return
	}
	if t.aborting {
		return // a Goexit while the run abandons it: abortAll's goroutine resumed it to its end
	}
	t.goexit = true // its coroutine is resumed only by stopDead (see ended)
	t.yield(true)   // stopDead resumes it, and the Goexit goes on
}

// ended retires t, whose function returned, and keeps its coroutine for the
// next task to start.
func (s *Sched) ended(t *simTask) {
	t.state = stDone
	if n := t.home; n != nil {
		n.unregister(int(t.homeIdx))
		t.home = nil
	}
	s.live.remove(&t.live)
	switch {
	case t.goexit:
		s.dead = append(s.dead, t.next) // resumed only by stopDead (see unwound)
	case t.next != nil: // else its coroutine ended with it (see maxIdle)
		s.idle = append(s.idle, t.next)
	}
	t.next, t.yield, t.fn, t.end = nil, nil, nil, nil
	if t == s.mainTask {
		s.mainDone = true
	}
}

// stopIdle ends the idle coroutines' goroutines (resumed with no current
// task, each returns), and those of tasks that called runtime.Goexit.
func (s *Sched) stopIdle() {
	s.cur = nil
	for _, next := range s.idle {
		next()
	}
	s.idle = nil
	s.stopDead()
}

// stopDead ends the goroutines of coroutines whose task called
// runtime.Goexit. Resuming one lets its Goexit finish, and iter.Pull then
// re-raises the Goexit in the goroutine that resumed it: a goroutine of its
// own here, not the loop's.
func (s *Sched) stopDead() {
	for _, next := range s.dead {
		done := make(chan struct{})
		go func() {
			defer close(done)
			next()
		}()
		<-done
	}
	s.dead = nil
}

// WithCancel derives a cancellable simulated context.
func (s *Sched) WithCancel(parent context.Context) (context.Context, context.CancelCauseFunc) {
	n := s.newNode(parent)
	return n, func(cause error) {
		if cause == nil {
			cause = context.Canceled
		}
		n.cancel(context.Canceled, cause)
	}
}

// WithDeadline derives a context cancelled when the virtual clock reaches d.
func (s *Sched) WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	n := s.newNode(parent)
	if n.Err() == nil && (!n.hasDeadline || d.Before(n.deadline)) {
		n.deadline, n.hasDeadline = d, true
		when, ok := s.deadlineAt(d)
		switch {
		case !ok:
			// beyond the clock's range: the clock never gets there, so
			// no timer
		case when <= s.now:
			n.cancel(context.DeadlineExceeded, context.DeadlineExceeded)
		default:
			if s.x != nil { // exploration hook: jitter
				when = s.x.late(when)
			}
			n.timer.node = n
			s.setTimer(&n.timer, when)
		}
	}
	return n, func() { n.cancel(context.Canceled, context.Canceled) }
}

// deadlineAt is deadline d on the virtual clock; ok is false for a d
// beyond the clock's range (d.Sub(s.start) saturates), which the clock
// never reaches: a deadline there sets no timer (WithDeadline, ParkUntil).
func (s *Sched) deadlineAt(d time.Time) (when int64, ok bool) {
	if d.After(s.start.Add(math.MaxInt64)) {
		return 0, false
	}
	return int64(d.Sub(s.start)), true
}

// ---- cancellation watch ----

func (s *Sched) watch(ctx context.Context, t *simTask) error {
	var n *node
	own := false // ctx is t's own context
	switch c := ctx.(type) {
	case *taskCtx:
		n, _ = c.Context.(*node)
		own = c.Task == &t.Task
	case *node:
		n = c
	}
	if n != nil {
		// ctx is n, or a task's context over n: its Err and Deadline are n's
		if err := n.Err(); err != nil {
			return err
		}
		if n.wall {
			return ErrWallClockDeadline
		}
	} else {
		// a ctx of the user's own type may panic: returned as a *ctxPanic
		var stop bool
		err := guarded(func() (err error) {
			n, stop, err = foreignNode(ctx)
			return err
		})
		if stop || err != nil {
			return err
		}
	}
	if n != nil {
		s.parks++
		t.wnode, t.parkSeq = n, s.parks
		switch {
		case n == t.home:
			// registered already
		case own && t.home == nil:
			// A task parks on its own context most of the time: it stays in
			// that node's set from its first park there until it ends, so
			// such a park and its wake-up touch no other task.
			t.home, t.homeIdx = n, n.register(t)
		default:
			t.parkIdx = n.register(t)
		}
		return nil
	}
	// foreign: polled after every step
	p := t.rareState()
	p.pollCtx = ctx
	s.polled.pushBack(&p.pollLink, t)
	return nil
}

// foreignNode is watch for a ctx that is neither a node nor a task's
// context over one: the node whose cancellation is ctx's (nil: poll ctx),
// or stop with the park's result (ctx is never done, or is done already,
// or has a deadline of the wall clock).
func foreignNode(ctx context.Context) (n *node, stop bool, err error) {
	done := ctx.Done()
	if done == nil {
		if _, ok := ctx.Deadline(); ok {
			return nil, true, ErrWallClockDeadline
		}
		return nil, true, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, true, err
	}
	n = nodeOf(ctx)
	if dl, ok := ctx.Deadline(); ok && (n == nil || n.wall || !n.hasDeadline || !dl.Equal(n.deadline)) {
		return nil, true, ErrWallClockDeadline
	}
	if n != nil && n.Done() != done {
		n = nil // ctx's cancellation is not (only) tock's: poll it
	}
	return n, false, nil
}

func (s *Sched) unwatch(t *simTask) {
	if n := t.wnode; n != nil {
		if n != t.home {
			n.unregister(int(t.parkIdx))
		}
		t.wnode = nil
	} else if p := t.rare; p != nil && p.pollCtx != nil {
		s.polled.remove(&p.pollLink)
		p.pollCtx = nil
	}
}

// parentErr is the Err of a foreign node's parent, polled by the loop: a
// panic of a ctx of the user's own type there is recovered (the node is
// not cancelled; the ctx's owner meets the panic at its own next call), so
// that it does not end the scheduler's goroutine.
func parentErr(parent context.Context) error {
	err := guarded(parent.Err)
	if _, panicked := err.(*ctxPanic); panicked {
		return nil
	}
	return err
}

// parentCause is context.Cause of a foreign node's parent, done with err:
// a panic of the parent's methods there (Value, of a ctx of the user's own
// type) is recovered, and the cause is err.
func parentCause(parent context.Context, err error) (cause error) {
	cause = err
	guarded(func() error {
		cause = context.Cause(parent)
		return nil
	})
	if cause == nil {
		cause = err
	}
	return cause
}

// scanForeign wakes the parked tasks, and cancels the nodes, whose foreign
// context was cancelled during the last step.
func (s *Sched) scanForeign() {
	for i := 0; i < len(s.fnodes); i++ {
		n := s.fnodes[i]
		if err := parentErr(n.parent); err != nil {
			n.cancel(err, parentCause(n.parent, err))
			i = -1 // the list changed; rescan from the start
		}
	}
	for t := s.polled.front(); t != nil; t = t.rare.pollLink.after() {
		if t.state == stParked {
			if err := guarded(t.rare.pollCtx.Err); err != nil {
				s.wakeWith(t, err) // a *ctxPanic if Err panicked: raised in t
			}
		}
	}
}

// ---- the run loop ----

// Run runs main as the simulation's first task until every task is done, the
// Until instant is reached, a deadlock, or outer is cancelled.
func (s *Sched) Run(outer context.Context, main func(ctx context.Context) error) Result {
	if err := outer.Err(); err != nil {
		return Result{Err: err, At: s.Now()}
	}
	stop := context.AfterFunc(outer, func() { s.aborted.Store(true) })
	defer stop()
	simsRunning.Add(1)
	defer simsRunning.Add(-1)
	s.root = newRoot(s, outer)
	s.mainTask = s.spawn(s.root, "main", func(ctx context.Context) error { s.mainErr = main(ctx); return nil }, nil)
	if s.stall <= 0 {
		return s.run(outer)
	}
	// With a watchdog, the loop runs on a goroutine of its own, so that Run
	// can return while a task holds it (see supervise).
	done := make(chan Result, 1)
	loopG := make(chan uint64, 1)
	go func() {
		loopG <- curGoid() // the watchdog tells this run's task goroutines by their creator
		done <- s.run(outer)
	}()
	return s.supervise(outer, <-loopG, done)
}

// run drives the loop to its end and completes the result.
func (s *Sched) run(outer context.Context) Result {
	res := s.loop()
	s.stopIdle()
	// the run queue and the timers are empty: their arrays go to the next
	// run (see spares)
	runqSpares.put(s.runq.buf)
	s.runq = ring{}
	s.timers.release()
	res.At = s.Now()
	res.Events = s.events
	if s.aborted.Load() && res.Deadlock == nil && !s.mainDone {
		res.Err = outer.Err()
	}
	return res
}

func (s *Sched) loop() Result {
	var res Result
	for {
		for s.runq.n > 0 {
			if s.aborted.Load() {
				res.Remaining = s.abortAll()
				return res
			}
			// resume, written out so that no frame lies between the loop
			// and the switch (see park)
			var t *simTask
			if s.x == nil {
				t = s.runq.pop()
			} else { // exploration hook: which runnable task runs next
				t = s.x.next(s)
			}
			if t.next == nil {
				if n := len(s.idle); n > 0 {
					t.next = s.idle[n-1]
					s.idle[n-1] = nil
					s.idle = s.idle[:n-1]
				} else {
					t.next = s.newCoro()
				}
			}
			s.cur = t
			t.state = stRunning
			s.events++
			s.progress()
			ended, running := t.next()
			if !running { // its coroutine ended with it (see maxIdle)
				ended = true
				t.next = nil
			}
			s.cur = nil
			if s.x != nil && s.x.trace != 0 { // exploration hook: the trace
				s.x.step(s, t, ended)
			}
			if ended {
				s.ended(t)
			}
			if s.polled.n > 0 || len(s.fnodes) > 0 {
				s.scanForeign()
			}
			if s.mainDone && !s.stopping {
				s.stop()
			}
		}
		if s.live.n == 0 {
			break
		}
		first, ok := s.timers.next()
		if !ok || (s.hasUntil && first.when > s.until) {
			if s.hasUntil && !s.stopping {
				if s.until > s.now {
					s.now = s.until
				}
				s.stopped = true
				s.stop()
				continue
			}
			if s.stopping {
				res.Remaining = s.abortAll()
				break
			}
			res.Deadlock, res.Cycle = s.blocked()
			res.Remaining = s.abortAll()
			return res
		}
		s.now = first.when
		due := s.timers.advance(first.when)
		if s.x != nil && len(due) > 1 { // exploration hook: same-instant timer order
			s.x.order(due)
		}
		for i := range due {
			e := &due[i]
			if !e.live() {
				s.timers.stale-- // stopped by an earlier one (a deadline's cancel)
				continue
			}
			e.tm.seq = 0
			if e.tm.task != nil {
				s.wake(e.tm.task)
			} else {
				e.tm.node.cancel(context.DeadlineExceeded, context.DeadlineExceeded)
			}
		}
		s.timers.done()
		if s.polled.n > 0 || len(s.fnodes) > 0 {
			s.scanForeign()
		}
	}
	res.Err = s.mainErr
	if s.stopped && errors.Is(res.Err, context.Canceled) {
		res.Err = nil
	}
	if p := s.mainTask.panicked(); p != nil {
		res.Panic = p
	}
	if s.mainTask.goexit {
		res.Err = ErrGoexit
	}
	return res
}

// stop cancels every task (Until reached, or main returned). The tasks that
// wait on a polled context derived from theirs (a context.WithCancel child)
// are woken at once with its error, like the others: not abandoned later.
func (s *Sched) stop() {
	s.stopping = true
	s.root.cancel(context.Canceled, context.Canceled)
	if s.polled.n > 0 || len(s.fnodes) > 0 {
		s.scanForeign()
	}
}

// errAbandoned is the cause of the cancellation of every task's context when
// the run abandons its tasks: a cleanup that loops while its ctx is not done
// ends.
var errAbandoned = errors.New("tock/sim: the run ended and abandoned its tasks")

// abortAll unwinds every live task's stack and ends its coroutine. Every
// context of the run is cancelled first; a task that recovers the unwinding
// panic and blocks again is unwound again (park refuses it).
func (s *Sched) abortAll() int {
	if s.live.head != nil {
		s.root.cancel(context.Canceled, errAbandoned)
	}
	// A started task is resumed with t.aborting set, which unwinds it from
	// its park (see park) to the end of its coroutine (see newCoro); it
	// cannot park again (park refuses an aborting task). The resumes run on
	// a goroutine of their own: a task that calls runtime.Goexit while it
	// unwinds (a deferred t.FailNow) cannot be kept from ending its
	// coroutine, and iter.Pull re-raises that Goexit in the goroutine that
	// resumed it. It ends the stopping goroutine instead of the loop's, and
	// the next one goes on with the next task.
	n := 0
	for s.live.head != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for s.live.head != nil {
				t := s.live.front()
				if !t.aborting { // else its resume ended the last stopping goroutine
					t.aborting = true
					if t.next != nil {
						s.cur = t
						s.progress()
						t.next()
					}
				}
				s.cur = nil
				t.state = stDone
				s.live.remove(&t.live)
				n++
			}
		}()
		<-done
	}
	s.runq = ring{}
	return n
}

// ---- run queue ----

// runqSpares keeps run queues' arrays (see spares).
var runqSpares spares[*simTask]

type ring struct {
	buf     []*simTask
	head, n int
}

func (r *ring) push(t *simTask) {
	if r.n == len(r.buf) {
		nb := runqSpares.get(max(2*len(r.buf), 64))
		nb = nb[:cap(nb)]
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		runqSpares.put(r.buf)
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = t
	r.n++
}

func (r *ring) pop() *simTask {
	t := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return t
}

// IsAbort reports whether a recovered panic value is the simulation unwinding
// an abandoned task; such a panic must be re-raised, not handled.
func IsAbort(r any) bool {
	_, ok := r.(abortPanic)
	return ok
}
