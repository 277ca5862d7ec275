package internal

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ---- the stall watchdog ----
//
// A simulated task must give control back to the scheduler through tock. One
// that blocks outside tock (a channel, a sync.Mutex, time.Sleep, I/O) or
// computes without calling tock holds the scheduler's loop inside its resume
// forever. With a stall limit, Run drives the loop on a goroutine of its own
// and watches it: every period the watchdog pokes s.beat, and the loop clears
// the poke whenever control comes back to it (a resume, or a shortcut that
// goes on without a switch). A poke left uncleared for the limit is a stall:
// Run returns a stall result without waiting for the loop.
//
// The loop pays one atomic load (a plain load on amd64) per event; the
// watchdog wakes four times per limit.

// Stall describes a task that did not give control back to the scheduler.
type Stall struct {
	Task  string        // the task's name
	At    time.Time     // the virtual instant it was resumed at
	Stuck time.Duration // how long it had been stuck when the watchdog gave up (a lower bound)
	Stack string        // its goroutine's stack, trimmed to the user's frames
}

// progress clears a pending poke of the watchdog: control is back in the
// scheduler.
func (s *Sched) progress() {
	if s.beat.Load() != 0 {
		s.beat.Store(0)
	}
}

// supervise waits for the loop's result (done), watching the loop for a
// stall and outer for cancellation. If the loop stalls, or if outer is
// cancelled while the running task does not give control back, it returns
// without the loop, which is left to end by itself (see abandonRun).
func (s *Sched) supervise(outer context.Context, loopG uint64, done <-chan Result) Result {
	period := s.stall / 4
	if period < time.Millisecond {
		period = time.Millisecond
	}
	tk := time.NewTicker(period)
	defer tk.Stop()
	var (
		odone     = outer.Done()
		poked     time.Time // when the pending poke was made
		stuckFrom time.Time // the first poke left uncleared; zero while the loop progresses
		abortFrom time.Time // when outer was seen cancelled
	)
	const grace = 100 * time.Millisecond // how long an abort may wait for a task that does not give control back
	for {
		select {
		case res := <-done:
			return res
		case <-odone:
			odone = nil
			abortFrom = time.Now()
			tk.Reset(grace / 10)
			s.beat.Store(1)
			poked, stuckFrom = abortFrom, time.Time{}
			continue
		case now := <-tk.C:
			if s.beat.Load() == 0 {
				stuckFrom = time.Time{}
				s.beat.Store(1)
				poked = now
				continue
			}
			if stuckFrom.IsZero() {
				stuckFrom = poked
			}
			stuck := now.Sub(stuckFrom)
			if !abortFrom.IsZero() && stuck >= grace {
				s.abandonRun()
				return Result{Err: outer.Err(), At: s.stalledNow(), Abandoned: true}
			}
			if abortFrom.IsZero() && stuck >= s.stall {
				st := s.stalled(stuck, loopG)
				if st == nil {
					continue // control came back just now
				}
				s.abandonRun()
				return Result{Stall: st, At: st.At, Abandoned: true}
			}
		}
	}
}

// abandonRun makes the loop, should the stuck task ever give control back,
// unwind every task and end instead of going on with nobody waiting for it.
func (s *Sched) abandonRun() { s.aborted.Store(true) }

// stalled describes the stuck task, or returns nil if control came back to
// the scheduler meanwhile.
func (s *Sched) stalled(stuck time.Duration, loopG uint64) *Stall {
	_, name, now, ok := s.stalledState()
	if !ok {
		return nil
	}
	return &Stall{Task: name, At: s.start.Add(time.Duration(now)), Stuck: stuck, Stack: taskStack(loopG)}
}

// stalledNow is the virtual instant for a run abandoned while stuck.
func (s *Sched) stalledNow() time.Time {
	_, _, now, _ := s.stalledState()
	return s.start.Add(time.Duration(now))
}

// stalledState reads what the loop goroutine last wrote: the running task,
// its name and the clock. It is called only once the loop has not given the
// watchdog a sign of life for a whole period, so the loop is inside one
// resume and has written none of these since well before; the race detector
// cannot see that ordering (the loop pays no synchronization per event for
// it), hence norace. The poke is checked again afterwards, as a seqlock
// would: ok is false if control came back meanwhile.
//
//go:norace
func (s *Sched) stalledState() (t *simTask, name string, now int64, ok bool) {
	t, now = s.cur, s.now
	if t != nil {
		name = taskName(t)
	}
	return t, name, now, s.beat.Load() != 0 && t != nil
}

// taskFunc is the function every simulated task's goroutine runs its
// task's function in: the coroutine body of newCoro (TestTaskFuncNamesTheCoroutineBody
// fails if it is renamed or moved).
const taskFunc = "github.com/tockgo/tock/internal.(*Sched).newCoro.func1"

// runTaskFrame is taskFunc's frame in a goroutine dump.
const runTaskFrame = taskFunc + "("

// taskStack returns the stack of the stuck task's goroutine, trimmed to the
// user's frames. A run's task goroutines are coroutines created by its loop's
// goroutine (loopG, "created by iter.Pull... in goroutine loopG"); the stuck
// one is the one not switched out ("[coroutine]"). (A traceback's argument
// values are not reliable enough to match the task itself.)
//
// The dump holds every goroutine, a kilobyte or so each: with a million
// sleeping tasks, a gigabyte. Its first buffer is sized by the number of
// goroutines (every retry stops the world for a whole dump), and it is
// searched in place, not copied into a string and split.
func taskStack(loopG uint64) string {
	buf := make([]byte, max(1<<20, 1024*runtime.NumGoroutine()))
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	creator := []byte(" in goroutine " + strconv.FormatUint(loopG, 10) + "\n")
	for len(buf) > 0 {
		g := buf
		if i := bytes.Index(buf, []byte("\n\n")); i >= 0 {
			g, buf = buf[:i], buf[i+2:]
		} else {
			buf = nil
		}
		if bytes.Contains(g, []byte(runTaskFrame)) && !bytes.Contains(firstLine(g), []byte("[coroutine")) &&
			(bytes.Contains(g, creator) || bytes.HasSuffix(g, creator[:len(creator)-1])) {
			return trimStack(string(g))
		}
	}
	return "(the stuck task's goroutine was not found in the goroutine dump)"
}

func firstLine(s []byte) []byte {
	if i := bytes.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// trimStack keeps a goroutine dump's header and the user's frames: it drops
// the frames of the runtime, of iter and of tock's own plumbing (package
// internal, the simulation, and the Group wrappers around a task's
// function), and the "created by" trailer.
func trimStack(g string) string {
	lines := strings.Split(g, "\n")
	var b bytes.Buffer
	b.WriteString(lines[0])
	for i := 1; i+1 < len(lines); i += 2 {
		fn, loc := lines[i], lines[i+1]
		if strings.HasPrefix(fn, "created by ") {
			break
		}
		if plumbing(fn) {
			continue
		}
		b.WriteString("\n" + fn + "\n" + loc)
	}
	return b.String()
}

func plumbing(fn string) bool {
	for _, p := range []string{
		"runtime.", "iter.", "github.com/tockgo/tock/internal.", "github.com/tockgo/tock/sim.",
		"github.com/tockgo/tock.(*Group).",
	} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// ---- misuse checks ----

// simsRunning counts the simulations running in the process: the checks on
// the real runtime's blocking paths cost nothing while it is zero.
var simsRunning atomic.Int32

// checkCaller panics if a tock call with simulated task t's context is made
// from a goroutine that the simulation is not running a task on: while no
// task runs (a goroutine outside the simulation's tasks, such as one started
// with a raw go statement, or code after Run returned), or after t ended.
// That check costs a comparison and is always on. In checked mode the rule
// is exact: the caller must be t's own goroutine (found by goroutine ID), so
// a raw goroutine using t's ctx while some task runs, and another task using
// t's ctx (a closure that captured an outer task's ctx), are caught too.
func checkCaller(t *simTask) {
	if cur, done, goid := callerState(t); cur == nil || done || (goid != 0 && goid != uint32(curGoid())) {
		misuse(t)
	}
}

// callerState reads the task the scheduler runs now, whether t has ended,
// and, in checked mode, the goroutine ID of t's coroutine (its low 32
// bits; 0 otherwise). For a task of the simulation these reads are ordered
// after the loop's writes (the switch into the task's coroutine
// synchronizes); a goroutine that misuses t's ctx reads them
// unsynchronized, which can only make the cheap check miss, never accuse a
// task: hence norace, so that the check, not the race detector, reports
// the misuse.
//
//go:norace
func callerState(t *simTask) (cur *simTask, done bool, goid uint32) {
	cur, done = t.s.cur, t.state == stDone
	if t.s.checked {
		goid = t.goid // 0 until t first runs
	}
	return cur, done, goid
}

// misuse panics for a call with t's ctx made by another goroutine.
//
//go:norace
func misuse(t *simTask) {
	cur := t.s.cur
	var who string
	switch {
	case t.state == stDone:
		who = "a goroutine after that task ended (a raw go statement?)"
	case cur == nil:
		who = "a goroutine the simulation does not run (a raw go statement, or code outside the simulation?)"
	case cur == t:
		who = "another goroutine while that task runs (a raw go statement?)"
	default:
		who = "another goroutine while task " + strconv.Quote(taskName(cur)) + " runs (a raw go statement; or task " +
			strconv.Quote(taskName(cur)) + " itself, through a closure that captured an outer task's ctx: it would act as that task)"
	}
	panic("tock: a simulated task's ctx may be used only by that task: the ctx of task " + strconv.Quote(taskName(t)) +
		" was used from " + who + "; start concurrent work with Group.Go and use the ctx it passes to the function")
}

// taskName is t.Name() without the race detector's instrumentation, for the
// reports of misuse and stalls.
//
//go:norace
func taskName(t *simTask) string {
	if t.name != "" {
		return t.name
	}
	return "task " + strconv.FormatUint(t.num, 10)
}

// realBlockMisuse reports whether the real runtime is about to block on a
// goroutine that runs a simulated task: a ctx with no tock task, such as
// context.Background(), reached a blocking tock call inside a simulation,
// which would block the whole simulation on the wall clock. It walks the
// stack only while a simulation runs in the process; callers panic with
// the refusal of realBlockMessage once they hold no lock and no queued waiter.
func realBlockMisuse() bool { return simsRunning.Load() != 0 && onSimTask() }

func realBlockMessage(op string) string {
	return ("tock: " + op + ": a blocking call with a ctx that carries no tock task (context.Background(), context.TODO()) inside a simulated task would block the whole simulation on the wall clock; pass the task's ctx (or one derived from it)")
}

// onSimTask reports whether the calling goroutine runs a simulated task.
func onSimTask() bool {
	pc := make([]uintptr, 64)
	skip := 2
	for {
		n := runtime.Callers(skip, pc)
		frames := runtime.CallersFrames(pc[:n])
		for {
			f, more := frames.Next()
			if f.Function == taskFunc {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pc) {
			return false
		}
		skip += n
	}
}

// curGoid is the calling goroutine's ID, read off its stack header
// ("goroutine 42 [running]:"). It costs about a microsecond: only checked
// modes call it.
func curGoid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// CurGoid is curGoid for package tock's checked real-runtime mode.
func CurGoid() uint64 { return curGoid() }

// CheckedReal turns on the real runtime's checked mode (the environment
// variable TOCK_CHECK set to a non-empty value when the program starts): a
// Lock re-entered under one task's ctx by a goroutine other than the one that
// took it panics. It costs about a microsecond per Lock.
var CheckedReal = os.Getenv("TOCK_CHECK") != ""
