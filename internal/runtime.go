// Package internal holds what every tock primitive is written against: the
// FIFO wait queue and the runtime interface, with its two implementations
// (real goroutines on the wall clock, and the deterministic simulation).
package internal

import (
	"context"
	"runtime/debug"
	"strconv"
	"time"
)

// Runtime is what a primitive may do besides guarding its own state: park the
// current task, read the clock, sleep, spawn tasks and derive cancellable
// contexts. Every tock primitive is written once against it.
type Runtime interface {
	// Now is the runtime's clock.
	Now() time.Time
	// Prepare readies p so that a later grant wakes the calling task.
	Prepare(p *Parker)
	// Park blocks the calling task until p is woken (nil) or ctx is done
	// (ctx's error). what names the wait for deadlock reports.
	Park(ctx context.Context, p *Parker, what string) error
	// Checkpoint is the schedule point of AnyIO-style primitives: in a
	// simulation the caller runs again after every task already runnable.
	// On the real runtime it does nothing.
	Checkpoint()
	// Yield is the public tock.Yield after its cancellation check.
	Yield()
	// SleepUntil blocks until the clock reaches t or ctx is done.
	SleepUntil(ctx context.Context, t time.Time) error
	// Sleep blocks for d, or until ctx is done; d <= 0 is a Yield. The
	// caller has checked ctx.
	Sleep(ctx context.Context, d time.Duration) error
	// Spawn starts fn as a new task named name ("" for the default name)
	// whose context derives from parent.
	Spawn(parent context.Context, name string, fn func(ctx context.Context)) *Task
	// WithCancel derives a cancellable context.
	WithCancel(parent context.Context) (context.Context, context.CancelCauseFunc)
	// WithDeadline derives a context cancelled at d on this runtime's clock.
	WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc)
	// Simulated reports whether this is the simulation.
	Simulated() bool
}

type ctxKey int

const (
	taskKey ctxKey = iota // *Task
	rtKey                 // Runtime
	nodeKey               // *node (simulation cancellation node)
)

// Task is the identity of one tock task: what a Lock records as its owner and
// a CapacityLimiter as its default borrower.
type Task struct {
	// The fields a simulated sleep, park and wake-up touch come first, in
	// the first two cache lines: with many tasks, each event finds its
	// task cold in memory.
	s        *Sched  // nil on the real runtime
	tctx     taskCtx // what ctx points to in a simulation
	co       *coro   // running it; nil until it first runs
	state    taskState
	aborting bool
	// cancellation watch while parked: in wnode's parked set, or in the
	// scheduler's polled list when foreign
	wnode *node
	// the node of the task's own context, once it has parked there: the
	// task stays in its parked set until it ends
	home    *node
	timer   timer
	parkSeq uint64 // when it parked: the order cancellation wakes in
	wakeErr error
	what    string
	on      Holding // what it parked on through Block or Wait, for deadlock reports

	ID   uint64 // unique among all tasks of the process, never 0
	name string // as given; "" for "task <num>"
	num  uint64

	fn       func(ctx context.Context) // what the task runs
	ctx      context.Context           // the task's context
	parkIdx  int                       // index in wnode.parked, unless wnode is home
	homeIdx  int                       // index in home.parked
	park     link[Task]                // in the scheduler's polled list
	wctx     context.Context
	foreign  bool
	live     link[Task] // in the scheduler's list of live tasks
	panicked *Panic
}

func (t *Task) String() string {
	if t == nil {
		return "anonymous task"
	}
	return t.Name()
}

// Name is the name the task was given, or "task N": N counts a simulation's
// tasks (so names are the same every run), or is the ID on the real runtime.
// It is built when asked for, not at every spawn.
func (t *Task) Name() string {
	if t.name != "" {
		return t.name
	}
	return "task " + strconv.FormatUint(t.num, 10)
}

// taskCtx is a task's context: its parent plus the task's identity.
type taskCtx struct {
	context.Context
	task *Task
}

func (c *taskCtx) Value(k any) any {
	switch k {
	case taskKey:
		return c.task
	case rtKey:
		if c.task.s != nil {
			return c.task.s
		}
	}
	return c.Context.Value(k)
}

// Err is the parent's: a simulation node's is read directly (it is asked on
// every blocking call).
func (c *taskCtx) Err() error {
	if n, ok := c.Context.(*node); ok {
		return n.Err()
	}
	return c.Context.Err()
}

// AfterFunc lets the context package propagate a cancellation to the
// standard-library contexts derived from this one synchronously, as it does
// for its own (it prefers a parent's AfterFunc to a goroutine of its own).
// Inside a simulation it is the node's AfterFunc; over any other context it
// is that context's AfterFunc if it has one, else context.AfterFunc.
func (c *taskCtx) AfterFunc(f func()) func() bool {
	if a, ok := c.Context.(interface {
		AfterFunc(func()) func() bool
	}); ok {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(c.Context, f)
}

// WithTask returns ctx carrying task t.
func WithTask(ctx context.Context, t *Task) context.Context { return &taskCtx{ctx, t} }

// TaskOf returns the task in ctx, or nil for an anonymous caller.
// For a simulated task it checks that the caller is that task (checkCaller).
func TaskOf(ctx context.Context) *Task {
	if c, ok := ctx.(*taskCtx); ok {
		if c.task.s != nil {
			checkCaller(c.task)
		}
		return c.task
	}
	t, _ := ctx.Value(taskKey).(*Task)
	if t != nil && t.s != nil {
		checkCaller(t)
	}
	return t
}

// SimOf returns the simulation of ctx's task, or nil, checking that the
// caller is that task.
func SimOf(ctx context.Context) *Sched {
	if c, ok := ctx.(*taskCtx); ok {
		if s := c.task.s; s != nil {
			checkCaller(c.task)
			return s
		}
	}
	return nil
}

// RuntimeOf returns ctx's runtime: the simulation ctx belongs to, or the real
// runtime. For a simulated task's own ctx it checks that the caller is that
// task; the blocking calls check derived contexts when they park.
func RuntimeOf(ctx context.Context) Runtime {
	if c, ok := ctx.(*taskCtx); ok && c.task.s != nil {
		checkCaller(c.task)
		return c.task.s
	}
	if r, ok := ctx.Value(rtKey).(Runtime); ok {
		if _, sim := r.(*Sched); sim {
			TaskOf(ctx) // a ctx derived from a task's: its task must be the caller
		}
		return r
	}
	return Real
}

// Panic is a panic recovered from a simulated task: the value and the stack
// of the task at the panic. Package sim re-raises the main task's as a
// *tock.PanicError (internal cannot import tock).
type Panic struct {
	// Value is what the task passed to panic (a *tock.PanicError re-raised by
	// a Group.Wait is kept as it is: one layer however deep the nesting).
	Value any
	// Stack is the panicking task's stack, as debug.Stack formats it.
	Stack []byte
}

// Recovered captures r with the current stack; call it in the deferred
// function that recovered r, so that the stack is the panicking one.
func Recovered(r any) *Panic { return &Panic{Value: r, Stack: debug.Stack()} }

// ---- the real runtime ----

type realRuntime struct{}

// Real is the real runtime: goroutines on the wall clock.
var Real Runtime = realRuntime{}

// nextTaskID numbers every task of every runtime: a task ID is never reused.
var nextTaskID uint64Counter

func (realRuntime) Now() time.Time  { return time.Now() }
func (realRuntime) Simulated() bool { return false }
func (realRuntime) Checkpoint()     {}
func (realRuntime) Yield()          { gosched() }

func (realRuntime) Prepare(p *Parker) {
	if p.ch == nil {
		p.ch = make(chan struct{}, 1)
	}
	p.task = nil
}

func (realRuntime) Park(ctx context.Context, p *Parker, what string) error {
	done := ctx.Done()
	if done == nil {
		<-p.ch
		return nil
	}
	return p.parkReal(ctx, done)
}

func (realRuntime) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	if realBlockMisuse() {
		panicRealBlock("Sleep")
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
	ctx := WithTask(parent, t)
	if name != "" {
		goNamed(t, ctx, fn)
		return t
	}
	go fn(ctx)
	return t
}

func (realRuntime) WithCancel(parent context.Context) (context.Context, context.CancelCauseFunc) {
	return context.WithCancelCause(parent)
}

func (realRuntime) WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(parent, d)
}

// Checkpoint is the schedule point of AnyIO-style primitives on ctx's
// runtime: nothing on the real runtime.
func Checkpoint(ctx context.Context) {
	if c, ok := ctx.(*taskCtx); ok {
		if c.task.s != nil {
			checkCaller(c.task)
			c.task.s.Checkpoint()
		}
		return
	}
	if r, ok := ctx.Value(rtKey).(Runtime); ok {
		if _, sim := r.(*Sched); sim {
			TaskOf(ctx)
		}
		r.Checkpoint()
	}
}

// TaskID returns the ID of the task in ctx, or 0 for an anonymous caller.
func TaskID(ctx context.Context) uint64 {
	if t := TaskOf(ctx); t != nil {
		return t.ID
	}
	return 0
}

// IDOrZero is t's ID, or 0 for a nil (anonymous) task.
func (t *Task) IDOrZero() uint64 {
	if t == nil {
		return 0
	}
	return t.ID
}
