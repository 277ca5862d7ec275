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
// Tasks are cheap. A task runs on a coroutine that it takes when it first
// runs and hands on to the next task to start when it ends, so a spawned task
// that has not run yet holds no stack, and a model that starts and finishes
// many short tasks reuses a few coroutines; a sleeping task costs about 3 KB.
// Goroutine-local state a task leaves behind (pprof labels it set, an OS
// thread it locked and did not unlock) therefore carries over to the next
// task on its coroutine.
package sim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tockgo/tock/internal"
)

// DefaultStart is the instant a simulation starts at unless Start is given:
// 2000-01-01T00:00:00Z.
var DefaultStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrWallClockDeadline is returned by a simulated wait whose context has a
// wall-clock deadline (from context.WithTimeout or context.WithDeadline),
// which a simulation cannot honour. Use tock.WithTimeout or tock.WithDeadline.
var ErrWallClockDeadline = internal.ErrWallClockDeadline

// Option configures Run.
type Option func(*config)

type config struct {
	start    time.Time
	until    time.Time
	hasUntil bool
	forD     time.Duration
	hasFor   bool
	stall    time.Duration
	checked  bool
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
// cancellation). If main returns earlier, Run returns then.
func Until(t time.Time) Option {
	return func(c *config) { c.until, c.hasUntil, c.hasFor = t, true, false }
}

// For is Until(start + d).
func For(d time.Duration) Option {
	return func(c *config) { c.forD, c.hasFor, c.hasUntil = d, true, false }
}

// Run runs main as the first task of a new simulation and returns main's
// error once it returns. Tasks still running when main returns are cancelled
// and allowed to unwind. The ctx main receives is a simulated task's context;
// its values come from ctx, but not its cancellation or deadline.
//
// Run returns a *DeadlockError if tasks are blocked with nothing runnable and
// no timer pending (and no Until instant to reach), a *StallError if a task
// does not give control back to the scheduler within the StallTimeout limit
// (it blocked outside tock), and ctx's error if ctx is cancelled (the run is
// abandoned; with the watchdog on, Run returns promptly even while a task is
// stuck, leaving it behind as a StallError does). If main panics, Run panics with a
// *tock.PanicError carrying the original value and stack. Tasks abandoned by
// a deadlock or an abort are unwound (their deferred calls run; any blocking
// call they make panics to unwind them further) so no goroutine is left.
func Run(ctx context.Context, main func(ctx context.Context) error, opts ...Option) error {
	c := config{start: DefaultStart, stall: DefaultStallTimeout}
	for _, o := range opts {
		o(&c)
	}
	if c.hasFor {
		c.until, c.hasUntil = c.start.Add(c.forD), true
	}
	s := internal.NewSched(c.start, c.until, c.hasUntil)
	s.SetStallTimeout(c.stall)
	if c.checked {
		s.SetChecked()
	}
	res := s.Run(ctx, main)
	if st := res.Stall; st != nil {
		return &StallError{Task: st.Task, At: st.At, Stuck: st.Stuck, Stack: st.Stack}
	}
	if res.Panic != nil {
		panic(res.Panic)
	}
	if res.Deadlock != nil {
		d := &DeadlockError{At: res.At}
		for _, b := range res.Deadlock {
			d.Blocked = append(d.Blocked, BlockedTask{Task: b.Task, WaitsOn: b.On})
		}
		return d
	}
	return res.Err
}

// BlockedTask is one task left waiting at a deadlock.
type BlockedTask struct {
	Task    string // the task's name ("main", "task 2", ...)
	WaitsOn string // what it waits on ("Lock.Lock", "Group.Wait", ...)
}

// DeadlockError is returned by Run when tasks are blocked, nothing is
// runnable and no timer is pending: no task can ever run again.
type DeadlockError struct {
	At      time.Time     // the instant of the deadlock
	Blocked []BlockedTask // every blocked task, in the order they were started
}

// Error names the instant and every blocked task with what it waits on.
func (e *DeadlockError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tock/sim: deadlock at %s: %d task(s) blocked:", e.At.Format(time.RFC3339Nano), len(e.Blocked))
	for _, t := range e.Blocked {
		fmt.Fprintf(&b, "\n\t%s waits on %s", t.Task, t.WaitsOn)
	}
	return b.String()
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
