// Package internal holds what every tock primitive is written against: the
// FIFO wait queue and the runtime interface, with its two implementations
// (real goroutines on the wall clock, and the deterministic simulation).
package internal

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
)

// Runtime is the whole contract between tock's primitives and a runtime:
// everything a primitive does besides guarding its own state goes through
// it. A blocking call decodes its ctx once (Decode) into a Call, whose RT is
// one of two implementations, each complete in its own file: the real
// runtime (real.go: goroutines on the wall clock) and the simulation
// (sim.go: the deterministic scheduler). Primitives and the wait queue never
// ask which one they have.
//
// A park is two steps, so that a primitive can queue its waiter under its
// own mutex and park after releasing it: Prepare (mutex held, never panics)
// readies a Parker for the calling task, Park (mutex released) blocks until
// the Parker is woken through the wait queue (Waiter.Grant) or ctx is done.
// A refusal (the caller may not park here, or is being unwound) is an error
// that Queue.abandon raises once the waiter is out of its queue and no mutex
// is held.
type Runtime interface {
	// Now is the runtime's clock.
	Now() time.Time
	// Prepare readies p so that a later grant wakes the calling task. It
	// never panics (the primitive's mutex is held); it returns a refusal
	// (raise it with Unwound after releasing the mutex, without queuing p)
	// when the caller must not block at all.
	Prepare(p *Parker, what string) error
	// Park blocks the calling task until p is woken (nil) or ctx is done
	// (ctx's error). what names the wait for deadlock reports. It returns a
	// refusal instead of parking when the caller may not park, and a
	// *ctxPanic if a method of ctx (one of the user's own type) panicked
	// (see Block).
	Park(ctx context.Context, p *Parker, what string) error
	// ParkUntil is Park that also ends once the clock reaches d: it then
	// returns an error that ParkTimedOut reports (a grant may still have
	// claimed the waiter meanwhile: the caller's claim tells; on the real
	// runtime its signal may still be on its way). A d beyond the clock's
	// range never ends the park. It is a Select's park with a timeout
	// case: a simulation parks on its timer, with no context made for it.
	ParkUntil(ctx context.Context, p *Parker, what string, d time.Time) error
	// Checkpoint is the schedule point of AnyIO-style primitives: in a
	// simulation the caller runs again after every task already runnable.
	// On the real runtime it does nothing. It reports whether other tasks
	// may have run meanwhile (so that the caller's ctx may have been
	// cancelled since it was checked): false on the real runtime, where a
	// cancellation landing now is no different from one landing a moment
	// after the call returns.
	Checkpoint() bool
	// Yield is the public tock.Yield after its cancellation check.
	Yield()
	// SleepUntil blocks until the clock reaches t or ctx is done.
	SleepUntil(ctx context.Context, t time.Time) error
	// Sleep blocks for d, or until ctx is done; d <= 0 is a Yield. The
	// caller has checked ctx.
	Sleep(ctx context.Context, d time.Duration) error
	// Spawn starts fn as a new task named name ("" for the default name)
	// whose context derives from parent. fn runs in the frame of the
	// runtime's own task function, and end (if not nil) is called there
	// with how fn ended (see TaskEnd); with a nil end, fn's result is
	// dropped and a panic of fn is the runtime's (on the real runtime it
	// ends the process; a simulation records it).
	Spawn(parent context.Context, name string, fn func(ctx context.Context) error, end TaskEnd) *Task
	// WithCancel derives a cancellable context.
	WithCancel(parent context.Context) (context.Context, context.CancelCauseFunc)
	// WithDeadline derives a context cancelled at d on this runtime's clock.
	WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc)
	// Label names the task whose ID is id for a panic message or a report
	// (see TaskLabel).
	Label(id uint64) string
	// Simulated reports whether this is the simulation.
	Simulated() bool
}

// TaskEnd receives the end of a task's function, in the frame that called
// it (see Runtime.Spawn), with the task's ctx: returned tells whether the
// function returned (err is its result), and if not, r is the panic the
// frame's deferred call recovered, or nil for runtime.Goexit. For a panic
// or a Goexit it is called from that deferred call, while the stack is
// still the panicking one (a stack trace taken there shows the panic's
// origin) and before a Goexit has unwound the goroutine. A task that
// panicked ends with the call: the panic is end's (a simulation's
// unwinding of an abandoned task is not a panic of the task, and never
// reaches end). A panic of end itself is a panic of the task's code that
// no one recovered.
//
// A group makes its TaskEnd once, and its tasks share it: the runtime
// holds the task's function and its end, and needs no closure of the two
// per task, nor a frame of the group's between its frame and the task's
// (every frame of a parked task is one more the collector scans).
type TaskEnd func(ctx context.Context, returned bool, err error, r any)

// Call is a tock call's ctx decoded once: the runtime the call runs on and
// the task it runs as. Cancellation stays with the ctx (its Err and Done).
type Call struct {
	RT   Runtime
	Task *Task // nil for an anonymous caller (a ctx with no tock task)
}

// ID is the task's ID, or 0 for an anonymous caller.
func (c Call) ID() uint64 { return c.Task.IDOrZero() }

// Decode reads ctx's runtime and task, in one look-up: a task's own ctx is
// recognised by its type; any other ctx is asked once for the nearest task
// context above it, which records its runtime. A ctx with no tock task is
// an anonymous caller on the real runtime. For a simulated task it checks
// that the caller is that task (checkCaller): Decode is the one place the
// check runs, before the call takes any mutex.
func Decode(ctx context.Context) Call {
	// A real task's own ctx is decoded inline; the rest (a simulated
	// task's, whose check must not be inlined: see callerState) by decode.
	if c, ok := ctx.(*taskCtx); ok && c.real {
		return c.Call
	}
	return decode(ctx)
}

// Err is ctx.Err(), read with no call for a real task's ctx whose parent
// is never done (its Err is nil for good): a blocking call's first check.
func Err(ctx context.Context) error {
	if t, ok := ctx.(*taskCtx); ok && t.never {
		return nil
	}
	return ctx.Err()
}

// DecodeRT is Decode for a call whose waiters need no owner (an Event, a
// Semaphore, a stream's or a queue's ends): the same runtime, and the same
// task wherever the call can use it, but on the real runtime a ctx that is
// not a task's own is not searched for its task while no simulation was
// ever made in the process (none of its contexts can exist then, so the
// runtime is the real one, and such a call reads its waiters' Task only in
// a simulation). A service that never simulates skips the walk up a
// derived ctx's chain on every call; a process that simulated walks it as
// Decode does, and makes the same checks.
func DecodeRT(ctx context.Context) Call {
	if c, ok := ctx.(*taskCtx); ok && c.real {
		return c.Call
	}
	if !everSimulated.Load() {
		return Call{RT: Real}
	}
	return decode(ctx)
}

// everSimulated is set by the process's first NewSched, before any context
// of a simulation exists: until then every ctx runs on the real runtime.
var everSimulated atomic.Bool

func decode(ctx context.Context) Call {
	c, ok := ctx.(*taskCtx)
	if !ok {
		if c, _ = ctx.Value(taskKey).(*taskCtx); c == nil {
			return Call{RT: Real}
		}
	}
	if st := c.Task.sim; st != nil {
		checkCaller(st)
		return Call{RT: st.s, Task: c.Task}
	}
	return c.Call
}

// ctxKey is the type of tock's context keys: a pointer, so that a look-up
// compares two words, with no call, at every context it passes.
type ctxKey struct{ name string }

var (
	taskKey = &ctxKey{"task"} // *taskCtx: the nearest task context
	nodeKey = &ctxKey{"node"} // *node: the nearest simulation node
)

// Task is the identity of one tock task: what a Lock records as its owner and
// a CapacityLimiter as its default borrower. A task of the real runtime is
// this and nothing else; a simulated task's Task lives inside the
// scheduler's state for it (simTask, in sim.go).
type Task struct {
	ID   uint64 // unique among all tasks of the process, never 0
	name string // as given; "" for "task <num>"
	num  uint64
	sim  *simTask // the simulation's state of this task; nil on the real runtime
	// LimiterWaits counts the CapacityLimiter waits under way with this
	// task as the borrower, on any limiter: while it is 0 the task waits
	// on none, so a limiter checks a second wait without a look-up.
	LimiterWaits atomic.Int32
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

// taskCtx is a task's context: its parent plus the task's identity and
// runtime (for a real task made inside a simulation's context, that
// simulation).
type taskCtx struct {
	context.Context
	Call      // the task, and the runtime its calls run on
	real bool // a real task's: Decode needs no check
	// never: a real task's whose parent is never done (see neverDone): its
	// Err is nil for good, read with no call.
	never bool
	// safe: no method of c reaches code of the user's (its parent is a
	// simulation's node, a standard-library root or cancellable context,
	// or a safe task context), so a park with c needs no guard against a
	// panic from it (see guarded).
	safe bool
	// watch is a real task's cancellation watcher (see watcher.park in
	// real.go), made at its first park; noWatch once the task has ended
	// or if its parent's cancellation cannot be watched.
	watch atomic.Pointer[watcher]
}

// Value answers taskKey with c itself: Decode finds task and runtime with
// one look-up. Every other key goes to the parent.
func (c *taskCtx) Value(k any) any {
	if k == any(taskKey) {
		return c
	}
	return c.Context.Value(k)
}

// Err is the parent's: a simulation node's is read directly (it is asked on
// every blocking call).
func (c *taskCtx) Err() error {
	if c.never {
		return nil
	}
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

// WithTask returns ctx carrying task t, a task of the real runtime. Over a
// simulation's context the calls made with it run on that simulation, as
// the calls made with ctx itself do.
func WithTask(ctx context.Context, t *Task) context.Context {
	return newRealCtx(ctx, Call{RT: Decode(ctx).RT, Task: t})
}

// newRealCtx is the ctx of a real task over parent.
func newRealCtx(parent context.Context, c Call) *taskCtx {
	return &taskCtx{Context: parent, Call: c, real: true, never: neverDone(parent), safe: safeParent(parent)}
}

// neverDone reports, with no call of parent's methods (parent may be of the
// user's own type, and a spawn must not run its code), that parent is never
// done: context.Background(), context.TODO(), or a task's ctx over one.
func neverDone(parent context.Context) bool {
	if p, ok := parent.(*taskCtx); ok {
		return p.never
	}
	return isRoot(parent)
}

// safeParent reports whether parent's methods run none of the user's code
// (see taskCtx.safe): the standard library's roots and cancellable contexts
// answer Err, Done, the look-up of their own cancelCtx and AfterFunc's
// registration from their own fields.
func safeParent(parent context.Context) bool {
	switch p := parent.(type) {
	case *taskCtx:
		return p.safe
	case *node:
		return true
	}
	return stdErr(parent)
}

// stdErr reports whether ctx is one of the standard library's root or
// cancellable contexts, whose Err and Done read their own fields (no
// parent's, no code of the user's).
func stdErr(ctx context.Context) bool {
	t := reflect.TypeOf(ctx)
	return t == stdCancelType || t == stdTimerType || isRoot(ctx)
}

// isRoot reports whether ctx is context.Background() or context.TODO().
func isRoot(ctx context.Context) bool {
	t := reflect.TypeOf(ctx)
	return t == stdBackgroundType || t == stdTODOType
}

var (
	stdBackgroundType = reflect.TypeOf(context.Background())
	stdTODOType       = reflect.TypeOf(context.TODO())
	stdCancelType     = func() reflect.Type {
		c, cancel := context.WithCancel(context.Background())
		defer cancel()
		return reflect.TypeOf(c)
	}()
	stdTimerType = func() reflect.Type {
		c, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		return reflect.TypeOf(c)
	}()
)

// ctxPanic is what a park returns when a method of its ctx panicked with
// v: the caller takes its waiter out of the queue (unless a grant came
// first) and then raises v (see Block).
type ctxPanic struct{ v any }

func (p *ctxPanic) Error() string { return fmt.Sprintf("tock: a method of the ctx panicked: %v", p.v) }

// guarded runs f, a call of a ctx's methods (a park, an Err), and returns
// a panic of theirs as a *ctxPanic.
func guarded(f func() error) (err error) {
	defer catchCtxPanic(&err)
	return f()
}

// catchCtxPanic, deferred by a park that may call methods of its ctx,
// turns a panic of theirs into the park's error, a *ctxPanic.
func catchCtxPanic(err *error) {
	if r := recover(); r != nil {
		*err = &ctxPanic{r}
	}
}

// TaskOf returns the task in ctx, or nil for an anonymous caller (see
// Decode).
func TaskOf(ctx context.Context) *Task { return Decode(ctx).Task }

// RuntimeOf returns ctx's runtime (see DecodeRT).
func RuntimeOf(ctx context.Context) Runtime { return DecodeRT(ctx).RT }

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

// ErrGoexit is what a task that ended by runtime.Goexit (t.FailNow, t.Fatal
// or t.SkipNow called on a task's goroutine) returned: it did not return, and
// nothing waiting for it may hang. Package tock exports it as tock.ErrGoexit.
var ErrGoexit = errors.New("tock: the task called runtime.Goexit (t.Fatal, t.FailNow or t.SkipNow on a task's goroutine?) instead of returning")

// Recovered captures r with the current stack; call it in the deferred
// function that recovered r, so that the stack is the panicking one.
func Recovered(r any) *Panic { return &Panic{Value: r, Stack: debug.Stack()} }

// TaskID returns the ID of the task in ctx, or 0 for an anonymous caller.
func TaskID(ctx context.Context) uint64 { return Decode(ctx).ID() }

// IDOrZero is t's ID, or 0 for a nil (anonymous) task.
func (t *Task) IDOrZero() uint64 {
	if t == nil {
		return 0
	}
	return t.ID
}
