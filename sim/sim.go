// Package sim runs tock programs as deterministic discrete-event simulations.
//
// Inside sim.Run, every tock call follows a virtual clock: one task runs at a
// time; the tasks runnable at one instant run in the order they became
// runnable; the clock jumps to the next timer only when no task is runnable.
// The same program gives the same result on every run, byte for byte.
//
// A simulated task must block only through tock (its primitives, Sleep,
// Group.Wait): a sync.Mutex held across a wait, a channel receive or
// time.Sleep would stall the whole simulation. A watchdog catches that: a
// task that does not give control back within StallTimeout (10 s of wall
// time by default) ends the run with a *StallError naming it, with its
// stack. Misuse panics naming the rule: a blocking tock call with a ctx that
// carries no task (context.Background()) inside a simulated task, and a
// simulated task's ctx used by a goroutine the simulation does not run (at
// once when no task runs or the task has ended; in every case under
// Checked). The tockvet analyzer finds more of these before a run. Contexts derived from a task's
// context with context.WithCancel, WithValue, tock.WithTimeout and
// tock.WithDeadline are deterministic; callbacks registered with
// context.AfterFunc run on their own goroutine, as the context package
// specifies, so they must not touch simulation state.
//
// A run whose tasks are all blocked, with no timer pending, can never go on:
// Run returns a *DeadlockError that names each blocked task (name tasks with
// tock.Name), what it waits on, and who holds that where the primitive knows
// (a Lock's owner, a CapacityLimiter's borrowers, the running tasks of the
// Group a Group.Wait waits for), with the wait-for cycle, if there is one,
// named first.
//
// Tasks are cheap. A task runs on a coroutine that it takes when it first
// runs and hands on to the next task to start when it ends, so a spawned task
// that has not run yet holds no stack, and a model that starts and finishes
// many short tasks reuses a few coroutines; a sleeping task costs about 3 KB.
// Goroutine-local state a task leaves behind (pprof labels it set, an OS
// thread it locked and did not unlock) therefore carries over to the next
// task on its coroutine.
//
// A run follows one schedule: FIFO within an instant. Explore runs a program
// under many schedules (Random, PCT), shrinks a failing one to the fewest
// deviations from FIFO and returns it as a *ScheduleError whose Seed replays
// it exactly (Replay, or TOCK_SEED in Test); Test is the testing.TB front.
package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal"
)

// DefaultStart is the instant a simulation starts at unless Start is given:
// 2000-01-01T00:00:00Z.
var DefaultStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrWallClockDeadline is returned by a simulated wait whose context has a
// wall-clock deadline (from context.WithTimeout or context.WithDeadline)
// anywhere in its chain, which a simulation cannot honour: also under a
// tock.WithTimeout whose virtual deadline is earlier (the wait's end would
// otherwise depend on the machine's speed). Use tock.WithTimeout or
// tock.WithDeadline.
var ErrWallClockDeadline = internal.ErrWallClockDeadline

// Option configures Run, Explore and Test. A nil Option is a programming
// error: Run panics.
type Option func(*config)

type config struct {
	start    time.Time
	until    time.Time
	hasUntil bool
	forD     time.Duration
	hasFor   bool
	stall    time.Duration
	checked  bool

	x *exploreConfig // exploration options (explore.go); nil: none
}

// DefaultStallTimeout is the stall watchdog's limit unless StallTimeout is
// given.
const DefaultStallTimeout = 10 * time.Second

// StallTimeout sets the stall watchdog's limit: a task that does not give
// control back to the scheduler for d of wall time (it blocks outside tock,
// or computes without calling tock) ends the run with a *StallError. The
// default is DefaultStallTimeout; 0 disables the watchdog, and Run then waits
// for a stuck task for ever, also when its ctx is cancelled. It panics if d
// is negative.
func StallTimeout(d time.Duration) Option {
	if d < 0 {
		panic("tock/sim: StallTimeout: the limit " + d.String() + " is negative (0 disables the watchdog)")
	}
	return func(c *config) { c.stall = d }
}

// Checked turns on the misuse checks that cost more than a comparison (on
// the order of a microsecond per tock call): a tock call made with a
// simulated task's ctx by another goroutine while that task runs is then
// caught too, by goroutine ID. The cheap checks are always on: a call with a
// task's ctx from anything but that task while it is not running, and a
// blocking call with a ctx that carries no task (context.Background()) from
// inside a simulated task, panic naming the rule.
func Checked() Option { return func(c *config) { c.checked = true } }

// Start sets the virtual instant the simulation starts at (default
// DefaultStart).
func Start(t time.Time) Option { return func(c *config) { c.start = t } }

// Until stops the simulation at t: everything scheduled at exactly t still
// runs, then every task's context is cancelled, the tasks unwind (the clock
// never passes t), and Run returns nil (or main's error, if it is not that
// cancellation). If main returns earlier, Run returns then. Of Until and For,
// the last given wins. A t before the start makes Run panic: the clock
// cannot run backwards.
func Until(t time.Time) Option {
	return func(c *config) { c.until, c.hasUntil, c.hasFor = t, true, false }
}

// For is Until(start + d). It panics if d is negative; For(0) runs what is
// scheduled at the start instant, then stops.
func For(d time.Duration) Option {
	if d < 0 {
		panic("tock/sim: For: the duration " + d.String() + " is negative; the clock cannot run backwards")
	}
	return func(c *config) { c.forD, c.hasFor, c.hasUntil = d, true, false }
}

// Run runs main as the first task of a new simulation, named "main", and
// returns main's error once it returns. Tasks still running when main
// returns are cancelled and allowed to unwind. The ctx main receives is a
// simulated task's context; its values come from ctx, but not its
// cancellation or deadline.
//
// Run returns a *DeadlockError if tasks are blocked with nothing runnable and
// no timer pending (and no Until instant to reach), a *StallError if a task
// does not give control back to the scheduler within the StallTimeout limit
// (it blocked outside tock), and ctx's error if ctx is cancelled (the run is
// abandoned; with the watchdog on, Run returns promptly even while a task is
// stuck, leaving it behind as a StallError does). If main panics, Run panics
// with a *tock.PanicError carrying the original value and stack: exactly one,
// also when the panic comes from a task of a Group (however deeply nested)
// that main waited for. If main ends by runtime.Goexit (t.Fatal on its
// goroutine), Run returns tock.ErrGoexit. Tasks abandoned by a deadlock, an abort, the end of
// main or the Until instant are unwound: every context of the run is
// cancelled, their deferred calls run, and any blocking call they make (also
// after recovering the unwinding panic) panics to unwind them further, after
// releasing the primitive it was made on, so no goroutine is left and Run
// never hangs on a cleanup that blocks through tock.
//
// Run panics, before running anything, on a programming error: a nil ctx
// (use context.Background()), a nil main, a nil Option, or an Until instant
// before the start.
func Run(ctx context.Context, main func(ctx context.Context) error, opts ...Option) error {
	c := checkRun("Run", ctx, main, opts)
	s := internal.NewSched(c.start, c.until, c.hasUntil)
	s.SetStallTimeout(c.stall)
	if c.checked {
		s.SetChecked()
	}
	if c.x != nil { // exploration hook: the schedule this run follows
		s.SetSchedule(c.x.schedule())
	}
	res := s.Run(ctx, main)
	if st := res.Stall; st != nil {
		return &StallError{Task: st.Task, At: st.At, Stuck: st.Stuck, Stack: st.Stack}
	}
	if res.Panic != nil {
		panic(panicError(res.Panic))
	}
	if res.Deadlock != nil {
		return newDeadlockError(res)
	}
	return res.Err
}

// checkRun panics, naming op, on Run's programming errors (see Run), and
// returns the configuration opts make.
func checkRun(op string, ctx context.Context, main func(ctx context.Context) error, opts []Option) config {
	if ctx == nil {
		panic("tock/sim: " + op + ": nil ctx; use context.Background()")
	}
	if main == nil {
		panic("tock/sim: " + op + ": main is nil; " + op + " needs a function to run as the first task")
	}
	c := config{start: DefaultStart, stall: DefaultStallTimeout}
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("tock/sim: %s: option %d (counting from 0) is nil", op, i))
		}
		o(&c)
	}
	if c.hasFor {
		c.until, c.hasUntil = c.start.Add(c.forD), true
	} else if c.hasUntil && c.until.Before(c.start) {
		panic("tock/sim: " + op + ": Until(" + c.until.Format(time.RFC3339Nano) + ") is before the start " + c.start.Format(time.RFC3339Nano) + "; the clock cannot run backwards")
	}
	return c
}

// panicError is the one *tock.PanicError of a panic recovered from main: the
// value itself if it is one already (a Group.Wait re-raised it), so nesting
// adds no layer.
func panicError(p *internal.Panic) *tock.PanicError {
	if pe, ok := p.Value.(*tock.PanicError); ok {
		return pe
	}
	return &tock.PanicError{Value: p.Value, Stack: p.Stack}
}

// StallError is returned by Run when a task did not give control back to the
// scheduler within the StallTimeout limit. A simulated task must block only
// through tock: a channel operation, a sync.Mutex, sync.WaitGroup or
// sync.Cond wait, time.Sleep or blocking I/O inside it holds the whole
// simulation, as does a long computation that never calls tock.
//
// Run returns without unwinding the stuck task, which cannot be interrupted:
// its goroutine, and the goroutines of the run's other tasks, are left
// behind. Should the stuck task ever give control back, the run unwinds every
// task (their deferred calls run) and its goroutines end.
type StallError struct {
	Task  string        // the stuck task's name
	At    time.Time     // the virtual instant it was resumed at
	Stuck time.Duration // how long it had not given control back (at least the limit)
	Stack string        // the stuck task's goroutine stack, trimmed to the user's frames
}

// Error names the task, the instant and the usual causes, followed by the
// stuck goroutine's stack.
func (e *StallError) Error() string {
	return fmt.Sprintf("tock/sim: stall at %s: task %q has not given control back to the scheduler for %s "+
		"(it must block only through tock: a channel operation, a sync.Mutex, WaitGroup or Cond wait, "+
		"time.Sleep or blocking I/O inside a simulated task holds the whole simulation; use tock's primitives and tock.Sleep)\n\n%s",
		e.At.Format(time.RFC3339Nano), e.Task, e.Stuck.Round(time.Millisecond), e.Stack)
}
