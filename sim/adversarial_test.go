package sim_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal/leaktest"
	"github.com/tockgo/tock/sim"
)

// ---- Explore's programming errors ----

// Fixed: Explore does not check its input as Run does. A nil Option makes
// Explore crash with a nil-pointer dereference (sim/explore.go:275, `o(&c)`
// called on nil), not a panic naming the rule like Run's "option 0
// (counting from 0) is nil".
func TestSimHardeningExploreNilOption(t *testing.T) {
	_, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Explore(context.Background(), func(ctx context.Context) error { return nil }, nil)
	})
	if msg := fmt.Sprint(p); !strings.Contains(msg, "nil") || !strings.Contains(msg, "tock/sim") {
		t.Fatalf("Explore with a nil Option: panic %q, want one naming the rule (tock/sim: ... option 0 ... is nil)", msg)
	}
}

// Fixed: Explore given an Until before the start does not panic at the call:
// runSchedule (sim/explore.go:511) recovers Run's programming-error panic
// and turns it into a *tock.PanicError, so Explore returns a
// *ScheduleError ("schedule 1 failed") as if the program had failed.
// Expected: a panic naming the rule, as Run does (sim/sim.go:169).
func TestSimHardeningExploreUntilBeforeStartIsAFailure(t *testing.T) {
	err, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Explore(context.Background(), func(ctx context.Context) error { return nil },
			sim.Until(sim.DefaultStart.Add(-time.Hour)), sim.Schedules(3))
	})
	if p == nil {
		t.Fatalf("Explore with Until before the start returned %v (a run-time failure), want a panic naming the rule", err)
	}
	if !strings.Contains(fmt.Sprint(p), "the clock cannot run backwards") {
		t.Fatalf("panic %v", p)
	}
}

// Fixed: Explore(nil ctx) crashes with a nil-pointer dereference
// (sim/explore.go:523, ctx.Err() on the nil ctx in runSchedule, after Run's
// "nil ctx" panic was recovered) instead of a panic naming the rule.
func TestSimHardeningExploreNilCtx(t *testing.T) {
	_, p := boundedCall(t, 30*time.Second, func() error {
		//lint:ignore SA1012 nil ctx on purpose
		return sim.Explore(nil, func(ctx context.Context) error { return nil }) //nolint
	})
	if msg := fmt.Sprint(p); !strings.Contains(msg, "nil ctx") {
		t.Fatalf("Explore(nil, ...): panic %q, want one naming the rule (nil ctx; use context.Background())", msg)
	}
}

// ---- Group ----

// Fixed: the parent of a group is cancelled, then the group is cancelled
// with Cancel (say by a supervisor that noticed the shutdown). The tasks
// return the cancellation they saw, the parent's, yet Wait returns nil.
// Doc (group.go:143): "If the group's parent context was cancelled and
// tasks returned that cancellation, Wait returns the parent's error."
// Cause: Cancel sets g.self (group.go:154) whatever cancelled the group
// first, and done (group.go:284) sets byParent only when !g.self.
func TestSimHardeningGroupCancelAfterParentHidesParentError(t *testing.T) {
	leaktest.Check(t)
	var got error
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		pctx, cancel := tock.WithCancel(ctx)
		g := tock.NewGroup(pctx)
		g.Go(func(ctx context.Context) error {
			return tock.Sleep(ctx, time.Hour) // returns the cancellation it sees
		})
		tock.Yield(ctx) // the task is asleep
		cancel()        // the parent goes first: the task's ctx is done with the parent's error
		g.Cancel()      // then the group is cancelled too, in the same instant
		got = g.Wait()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got, context.Canceled) {
		t.Fatalf("Wait = %v, want the parent's error (context.Canceled): the parent was cancelled first and the task returned that cancellation", got)
	}
}

// Passing: Wait with a mix of results: an error, a Goexit, a panic, in one
// group, and a nested group's panic. Wait panics with the first panic as
// a *tock.PanicError, and Run re-raises exactly one layer of it.
func TestSimAdversarialGroupMixedFailures(t *testing.T) {
	leaktest.Check(t)
	errA := errors.New("A failed")
	_, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { return errA })
			g.Go(func(ctx context.Context) error { panic("first panic") })
			g.Go(func(ctx context.Context) error {
				inner := tock.NewGroup(ctx)
				inner.Go(func(ctx context.Context) error { panic("inner panic") })
				return inner.Wait()
			})
			return g.Wait()
		})
	})
	pe, ok := p.(*tock.PanicError)
	if !ok {
		t.Fatalf("Run: panic %T %v, want a *tock.PanicError", p, p)
	}
	if pe.Value != "first panic" {
		t.Fatalf("PanicError.Value = %#v, want the first panic", pe.Value)
	}
}

// ---- wall-clock deadlines ----

// Fixed: a wall-clock deadline (context.WithTimeout) under a tock.WithTimeout
// reaches a simulated wait without being refused with ErrWallClockDeadline:
// the simulated node takes the earlier virtual deadline as its own
// (internal/sim.go:546, d.Before(n.deadline) with n.deadline the wall
// one), and the park's watch (internal/sim.go:575) asks nothing more of a
// node (internal/sim.go:569-579; foreignNode's wall-clock check, :635, is
// only for non-nodes). The node is then polled (internal/node.go:132), so the wait
// ends when the machine's clock passes the wall deadline: the run depends
// on the machine. Expected: the wait returns sim.ErrWallClockDeadline at
// once (as it does on the context.WithTimeout ctx itself); before the fix: it
// waits and is cancelled by the wall clock, at a virtual instant that
// depends on how fast the machine runs.
func TestSimHardeningWallClockDeadlineHiddenByTockTimeout(t *testing.T) {
	leaktest.Check(t)
	var direct, wrapped error
	var wokeAfterYields int
	err, p := boundedCall(t, 60*time.Second, func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			var ev tock.Event
			g := tock.NewGroup(ctx)
			done := false
			g.Go(func(ctx context.Context) error {
				wall, cancel := context.WithTimeout(ctx, 20*time.Millisecond) //tockvet:ignore a wall-clock deadline in a simulation, on purpose
				defer cancel()
				direct = ev.Wait(wall)
				vctx, vcancel := tock.WithTimeout(wall, time.Hour)
				defer vcancel()
				wrapped = ev.Wait(vctx)
				done = true
				return nil
			})
			g.Go(func(ctx context.Context) error {
				began := time.Now()                              //tockvet:ignore spin for wall time, at one virtual instant
				for !done && time.Since(began) < 2*time.Second { //tockvet:ignore spin on wall time on purpose
					tock.Yield(ctx)
					wokeAfterYields++
				}
				return nil
			})
			return g.Wait()
		}, sim.Checked())
	})
	if err != nil || p != nil {
		t.Fatalf("Run = %v, %v", err, p)
	}
	if !errors.Is(direct, sim.ErrWallClockDeadline) {
		t.Fatalf("wait on the context.WithTimeout ctx = %v, want ErrWallClockDeadline", direct)
	}
	if !errors.Is(wrapped, sim.ErrWallClockDeadline) {
		t.Fatalf("wait on tock.WithTimeout(context.WithTimeout(...)) = %v after %d yields (at a virtual instant set by the wall clock), want ErrWallClockDeadline", wrapped, wokeAfterYields)
	}
}

// ---- the ends of the clock ----

// Fixed: a deadline past the end of the virtual clock's range (more than
// ~292 years after the start) fires at the end of the range, before the
// deadline: the ctx reports DeadlineExceeded while tock.Now(ctx) is still
// before ctx.Deadline(). Cause: WithDeadline clamps (internal/sim.go:548,
// int64(d.Sub(s.start)) saturates at MaxInt64) and arms a timer there.
// Expected: a deadline the clock can never reach never fires (the run
// deadlocks here, as with a wait with no deadline), or at least never
// before the deadline.
func TestSimHardeningDeadlinePastEndOfClockFiresEarly(t *testing.T) {
	leaktest.Check(t)
	var now, dl time.Time
	var werr error
	err, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			c, cancel := tock.WithDeadline(ctx, sim.DefaultStart.AddDate(400, 0, 0))
			defer cancel()
			var ev tock.Event
			werr = ev.Wait(c)
			now = tock.Now(ctx)
			dl, _ = c.Deadline()
			return nil
		})
	})
	if p != nil {
		t.Fatal(p)
	}
	if werr != nil && now.Before(dl) {
		t.Fatalf("Wait = %v at %v, before the ctx's deadline %v (Run = %v)", werr, now, dl, err)
	}
}

// Passing: deadlines at the edges: equal to now, in the past, one
// nanosecond ahead, at the last instant of the clock.
func TestSimAdversarialDeadlineEdges(t *testing.T) {
	leaktest.Check(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		now := tock.Now(ctx)
		for _, d := range []time.Time{now, now.Add(-time.Hour), time.Time{}} {
			c, cancel := tock.WithDeadline(ctx, d)
			if !errors.Is(c.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("WithDeadline(%v) at %v: Err = %v, want DeadlineExceeded at once", d, now, c.Err())
			}
			cancel()
		}
		c, cancel := tock.WithTimeout(ctx, 0)
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("WithTimeout(0): Err = %v", c.Err())
		}
		cancel()
		c, cancel = tock.WithTimeout(ctx, -1<<63)
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("WithTimeout(min): Err = %v", c.Err())
		}
		cancel()
		c, cancel = tock.WithTimeout(ctx, 1)
		defer cancel()
		var ev tock.Event
		if err := ev.Wait(c); !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("1ns: %v", err)
		}
		if got := tock.Now(ctx).Sub(now); got != 1 {
			return fmt.Errorf("1ns deadline fired after %v", got)
		}
		// sleep to the last instant, then a sleep and a yield there
		if err := tock.Sleep(ctx, 1<<63-1); err != nil {
			return err
		}
		end := tock.Now(ctx)
		if end.Sub(sim.DefaultStart) != 1<<63-1 {
			return fmt.Errorf("clock at %v after a max sleep", end.Sub(sim.DefaultStart))
		}
		if err := tock.Sleep(ctx, time.Hour); err != nil {
			return err
		}
		if err := tock.SleepUntil(ctx, end.Add(time.Hour)); err != nil {
			return err
		}
		if !tock.Now(ctx).Equal(end) {
			return fmt.Errorf("the clock moved past its end: %v", tock.Now(ctx))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ---- the end of a run: unwinding ----

// Passing: at Until, a task blocked on something its cancellation does not
// end (a WithoutCancel ctx) is unwound: its defers run, in order, a
// blocking call in a defer is refused (it unwinds further), a recover loop
// that keeps blocking ends, and a deferred panic of another task does not
// escape Run.
func TestSimAdversarialUntilUnwindsStuckTasks(t *testing.T) {
	leaktest.Check(t)
	var log []string
	err, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			var ev tock.Event
			g.Go(func(ctx context.Context) error {
				defer func() { log = append(log, "A outer defer") }()
				defer func() {
					log = append(log, "A blocking defer")
					ev.Wait(context.WithoutCancel(ctx)) // refused: unwinds further
					log = append(log, "A after blocking (wrong)")
				}()
				return ev.Wait(context.WithoutCancel(ctx))
			}, tock.Name("A"))
			g.Go(func(ctx context.Context) error {
				n := 0
				for i := 0; i < 5; i++ {
					func() {
						defer func() {
							if r := recover(); r != nil {
								n++
							}
						}()
						tock.Sleep(context.WithoutCancel(ctx), time.Hour*1000)
					}()
				}
				log = append(log, fmt.Sprintf("B recovered %d times", n))
				return nil
			}, tock.Name("B"))
			g.Go(func(ctx context.Context) error {
				defer func() { panic("C's defer panics while unwinding") }()
				return ev.Wait(context.WithoutCancel(ctx))
			}, tock.Name("C"))
			return g.Wait()
		}, sim.For(time.Minute), sim.StallTimeout(5*time.Second))
	})
	if p != nil {
		t.Fatalf("Run panicked: %v", p)
	}
	if err != nil {
		t.Logf("Run = %v", err)
	}
	got := strings.Join(log, "; ")
	want := "A blocking defer; A outer defer; B recovered 5 times"
	if got != want {
		t.Fatalf("log %q, want %q", got, want)
	}
}

// Passing: main is unwound at a deadlock and its deferred call
// panics; Run reports the deadlock (the panic is the unwinding's).
func TestSimAdversarialDeadlockMainDeferPanics(t *testing.T) {
	leaktest.Check(t)
	err, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			defer func() { panic("main's defer") }()
			var ev tock.Event
			return ev.Wait(ctx)
		})
	})
	var de *sim.DeadlockError
	if !errors.As(err, &de) {
		t.Fatalf("Run = %v, %v; want a *DeadlockError", err, p)
	}
	if len(de.Blocked) != 1 || de.Blocked[0].Task != "main" || de.Blocked[0].WaitsOn != "Event.Wait" {
		t.Fatalf("blocked %+v", de.Blocked)
	}
}

// ---- simulations inside simulations, and inside real tasks ----

// Passing: a simulation run from a simulated task, and from a real task,
// with and without the watchdog, is deterministic and independent of its
// host's clock.
func TestSimAdversarialNestedRuns(t *testing.T) {
	leaktest.Check(t)
	inner := func(tr *[]string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			var l tock.Lock
			for i := range 3 {
				g.Go(func(ctx context.Context) error {
					for j := range 3 {
						if err := l.Lock(ctx); err != nil {
							return err
						}
						*tr = append(*tr, fmt.Sprintf("%v w%d.%d", tock.Now(ctx).Sub(sim.DefaultStart), i, j))
						tock.Sleep(ctx, time.Duration(i+1)*time.Second)
						l.Unlock(ctx)
					}
					return nil
				})
			}
			return g.Wait()
		}
	}
	var want []string
	if err := sim.Run(context.Background(), inner(&want)); err != nil {
		t.Fatal(err)
	}
	for _, stall := range []time.Duration{0, sim.DefaultStallTimeout} {
		var got1, got2 []string
		err, p := boundedCall(t, 30*time.Second, func() error {
			return sim.Run(context.Background(), func(ctx context.Context) error {
				tock.Sleep(ctx, 5*time.Hour)
				if err := sim.Run(ctx, inner(&got1), sim.StallTimeout(stall)); err != nil {
					return err
				}
				if got := tock.Now(ctx).Sub(sim.DefaultStart); got != 5*time.Hour {
					return fmt.Errorf("the inner run moved the outer clock to %v", got)
				}
				return nil
			})
		})
		if err != nil || p != nil {
			t.Fatalf("stall %v: nested in a simulation: %v %v", stall, err, p)
		}
		err, p = boundedCall(t, 30*time.Second, func() error {
			return tock.Run(context.Background(), func(ctx context.Context) error {
				return sim.Run(ctx, inner(&got2), sim.StallTimeout(stall))
			})
		})
		if err != nil || p != nil {
			t.Fatalf("stall %v: in a real task: %v %v", stall, err, p)
		}
		if fmt.Sprint(got1) != fmt.Sprint(want) || fmt.Sprint(got2) != fmt.Sprint(want) {
			t.Fatalf("stall %v: traces differ:\n%v\n%v\n%v", stall, want, got1, got2)
		}
	}
}

// Passing: under Checked, an inner simulation's task that uses the outer
// simulation's task ctx (running, blocked in the inner sim.Run) is caught.
func TestSimAdversarialNestedForeignCtxChecked(t *testing.T) {
	leaktest.Check(t)
	err, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Run(context.Background(), func(outer context.Context) error {
			return sim.Run(outer, func(ctx context.Context) error {
				return tock.Sleep(outer, time.Second) //tockvet:ignore the outer task's ctx in the inner simulation, on purpose: the misuse under test
			}, sim.Checked())
		}, sim.Checked())
	})
	msg := fmt.Sprint(p)
	if err == nil && p == nil || !strings.Contains(msg+fmt.Sprint(err), "may be used only by that task") {
		t.Fatalf("Run = %v, panic %v; want the misuse named", err, p)
	}
}

// ---- exploration: replay and shrinking ----

// advSimModel is a program with every kind of choice point: picks among
// runnable tasks, same-instant timers (sleeps and deadlines), checkpoints
// (Yield, Queue.Put, Semaphore.Acquire), and jittered timers. It fails
// when the order of its log hashes to 0 mod k, with the log's hash in the
// error text, so that different schedules fail different ways.
func advSimModel(k uint32) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var log []string
		add := func(ctx context.Context, s string) {
			log = append(log, fmt.Sprintf("%v %s", tock.Now(ctx).Sub(sim.DefaultStart), s))
		}
		q := tock.NewQueue[int]()
		sem := tock.NewSemaphore(1)
		var l tock.Lock
		g := tock.NewGroup(ctx)
		for i := range 3 {
			g.Go(func(ctx context.Context) error {
				for j := range 2 {
					if err := sem.Acquire(ctx); err != nil {
						return err
					}
					add(ctx, fmt.Sprintf("s%d.%d", i, j))
					tock.Sleep(ctx, time.Millisecond)
					sem.Release()
					tock.Yield(ctx)
					q.Put(ctx, i*10+j)
				}
				return nil
			})
		}
		g.Go(func(ctx context.Context) error {
			for range 6 {
				c, cancel := tock.WithTimeout(ctx, time.Millisecond)
				v, err := q.Get(c)
				cancel()
				if err != nil {
					add(ctx, "get timeout")
					if _, err := q.Get(ctx); err != nil {
						return err
					}
					continue
				}
				l.Lock(ctx)
				add(ctx, fmt.Sprintf("got %d", v))
				l.Unlock(ctx)
			}
			return nil
		})
		if err := g.Wait(); err != nil {
			return err
		}
		var h uint32 = 2166136261
		for _, s := range log {
			for i := 0; i < len(s); i++ {
				h = (h ^ uint32(s[i])) * 16777619
			}
		}
		if h%k == 0 {
			return fmt.Errorf("bad order %08x: %s", h, strings.Join(log, ", "))
		}
		return nil
	}
}

// Passing: what Explore reports replays: Run(Replay(seed)) fails with the
// same error text, Explore(Replay(seed)) with the same trace, twice; the
// shrunk schedule has no more deviations than the found one, and two
// Explores with the same options report the same seed.
func TestSimAdversarialExploreReplayShrink(t *testing.T) {
	leaktest.Check(t)
	for _, tc := range []struct {
		name string
		opts []sim.Option
	}{
		{"random", []sim.Option{sim.Schedules(400)}},
		{"random+jitter", []sim.Option{sim.Schedules(400), sim.Jitter(2 * time.Millisecond)}},
		{"pct3", []sim.Option{sim.Schedules(400), sim.PCT(3), sim.BaseSeed(7)}},
		{"pct2+jitter", []sim.Option{sim.Schedules(400), sim.PCT(2), sim.Jitter(time.Millisecond)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			main := advSimModel(5)
			var st sim.ExploreStats
			err1, p := boundedCall(t, 120*time.Second, func() error {
				return sim.Explore(context.Background(), main, append(tc.opts, sim.Report(&st))...)
			})
			if p != nil {
				t.Fatal(p)
			}
			if err1 == nil {
				t.Skip("no failing schedule")
			}
			var se *sim.ScheduleError
			if !errors.As(err1, &se) {
				t.Fatalf("Explore = %v", err1)
			}
			if strings.Contains(se.Error(), "did not fail the same way") {
				t.Fatalf("unstable: %v", se)
			}
			if st.Shrunk > st.Deviations {
				t.Fatalf("shrunk to %d from %d deviations", st.Shrunk, st.Deviations)
			}
			err2, _ := boundedCall(t, 120*time.Second, func() error {
				return sim.Explore(context.Background(), main, tc.opts...)
			})
			var se2 *sim.ScheduleError
			if !errors.As(err2, &se2) || se2.Seed != se.Seed || se2.Schedule != se.Schedule {
				t.Fatalf("two Explores differ: %v\n%v", se, err2)
			}
			for range 2 {
				rerr := sim.Run(context.Background(), main, sim.Replay(se.Seed))
				if rerr == nil || rerr.Error() != se.Err.Error() {
					t.Fatalf("Run(Replay(%s)) = %v, want %v", se.Seed, rerr, se.Err)
				}
				err3 := sim.Explore(context.Background(), main, sim.Replay(se.Seed))
				var se3 *sim.ScheduleError
				if !errors.As(err3, &se3) || strings.Join(se3.Trace, "\n") != strings.Join(se.Trace, "\n") || se3.Events != se.Events {
					t.Fatalf("Explore(Replay) = %v\nwant trace\n%s", err3, strings.Join(se.Trace, "\n"))
				}
			}
		})
	}
}

// Passing: Run with Random, PCT or Jitter is deterministic: the full log
// of event orders and instants is the same twice, for several seeds.
func TestSimAdversarialRunStrategiesDeterministic(t *testing.T) {
	leaktest.Check(t)
	for _, opts := range [][]sim.Option{
		{sim.Random()}, {sim.PCT(3)}, {sim.Jitter(time.Millisecond)},
		{sim.Random(), sim.Jitter(3 * time.Millisecond)}, {sim.PCT(1), sim.Jitter(time.Microsecond)},
	} {
		for seed := range uint64(5) {
			o := append(opts[:len(opts):len(opts)], sim.BaseSeed(seed))
			a := fmt.Sprint(sim.Run(context.Background(), advSimModel(1), o...))
			b := fmt.Sprint(sim.Run(context.Background(), advSimModel(1), o...))
			if a != b {
				t.Fatalf("seed %d: two runs differ:\n%s\n%s", seed, a, b)
			}
		}
	}
}

// ---- tock.Run given a simulated task's ctx ----

// Fixed: tock.Run (run.go:35) given a simulated task's ctx does not refuse it
// and does not run main on the real runtime as documented ("Run runs main as
// a task on the real runtime"): internal.WithTask (internal/runtime.go:247)
// keeps the simulation as the runtime and makes a real-flagged task ctx
// (real: true) over it. main then runs inline in the simulated task under
// an identity the simulation does not know: a Lock it holds is reported in
// a deadlock as held by "a task that has ended" while it is alive and
// blocked, and no wait-for cycle is found (main waits, through Group.Wait,
// for a task that waits on main's Lock). The ctx also skips every misuse
// check (Decode returns at once for c.real, internal/runtime.go:94).
// Expected: Run panics naming the rule on a simulated ctx (or the
// simulation names the holder "main" and reports the cycle).
func TestSimHardeningTockRunInsideSimulation(t *testing.T) {
	leaktest.Check(t)
	err, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			return tock.Run(ctx, func(ctx context.Context) error {
				var l tock.Lock
				l.Lock(ctx)
				g := tock.NewGroup(ctx)
				g.Go(func(ctx context.Context) error { return l.Lock(ctx) }, tock.Name("worker"))
				return g.Wait()
			})
		})
	})
	if p != nil {
		if strings.Contains(fmt.Sprint(p), "tock: Run") {
			return // refused, naming the rule
		}
		t.Fatalf("panic %v", p)
	}
	var de *sim.DeadlockError
	if !errors.As(err, &de) {
		t.Fatalf("Run = %v, want a deadlock", err)
	}
	if len(de.Cycle) == 0 || strings.Contains(de.Error(), "a task that has ended") {
		t.Fatalf("tock.Run inside a simulation: the live holder is misreported:\n%v", de)
	}
}

// ---- odd option values ----

// Fixed: PCT(depth) has no upper bound and its cost grows with depth, not
// with the run: NewSchedule (internal/schedule.go:168, the `for i := 1; i <
// c.Depth; i++` loop) draws depth-1 change points up front, 8 bytes each,
// and Schedule.next scans all of them at every pick (internal/schedule.go:261). PCT(1<<20) on a program of ~800 steps allocates tens of
// MB per run and is ~1000x slower than PCT(3) (PCT(1<<30) would need
// 8 GB per schedule). Change points can only fall on steps 1..Length, so
// a depth beyond the run's length should cost no more than depth=Length.
// Expected: a run's allocation does not depend on a depth larger than the
// run; before the fix: it grew linearly with depth.
func TestSimHardeningPCTHugeDepthCost(t *testing.T) {
	prog := func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for range 4 {
			g.Go(func(ctx context.Context) error {
				for range 100 {
					tock.Yield(ctx)
				}
				return nil
			})
		}
		return g.Wait()
	}
	alloc := func(depth int) uint64 {
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		if err := sim.Run(context.Background(), prog, sim.PCT(depth)); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&b)
		return b.TotalAlloc - a.TotalAlloc
	}
	small, huge := alloc(3), alloc(1<<20)
	if huge > small+(4<<20) {
		t.Fatalf("PCT(3) allocated %d KB, PCT(1<<20) %d KB for the same 800-step run", small>>10, huge>>10)
	}
}

// A Select's timeout parks on the task's own timer (sim's ParkUntil, no
// context made for it), with a deadline's rules: one past the end of the
// clock never fires (the run deadlocks instead of timing out at the end of
// time, as TestSimHardeningDeadlinePastEndOfClockFiresEarly's wait); one
// inside it fires at its instant, and a grant made at that instant by a
// task that runs first wins over it; a task alone reaches it with no
// switch; and a Select that waits with a timeout makes no context (4
// allocations: its two cases, its state, the Get's waiter; 9 with a
// context).
func TestSimSelectTimeoutParksOnTheTimer(t *testing.T) {
	leaktest.Check(t)
	err, p := boundedCall(t, 30*time.Second, func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			q := tock.NewQueue[int]()
			tock.Select(ctx, tock.OnGet(q, nil), tock.OnDeadline(sim.DefaultStart.AddDate(400, 0, 0), nil))
			return errors.New("the Select returned")
		})
	})
	if p != nil {
		t.Fatal(p)
	}
	var de *sim.DeadlockError
	if !errors.As(err, &de) {
		t.Fatalf("a Select past the end of the clock: Run = %v, want a deadlock", err)
	}

	err, p = boundedCall(t, 30*time.Second, func() error {
		return sim.Run(context.Background(), func(ctx context.Context) error {
			q := tock.NewQueue[int]()
			// alone: the timeout is the next event
			if i, err := tock.Select(ctx, tock.OnGet(q, nil), tock.OnTimeout(time.Second, nil)); i != 1 || err != nil {
				return fmt.Errorf("alone: Select = %d, %v; want the timeout", i, err)
			}
			if at := tock.Now(ctx).Sub(sim.DefaultStart); at != time.Second {
				return fmt.Errorf("alone: timed out at %v, want 1s", at)
			}
			// a grant at the timeout's instant, by a task whose timer is older
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, time.Second)
				return q.Put(ctx, 7)
			})
			tock.Yield(ctx) // the putter sleeps first: its timer fires first
			got := 0
			i, err := tock.Select(ctx, tock.OnGet(q, func(v int) { got = v }), tock.OnTimeout(time.Second, nil))
			if i != 0 || err != nil || got != 7 {
				return fmt.Errorf("grant at the timeout's instant: Select = %d, %v, got %d; want the item", i, err, got)
			}
			if err := g.Wait(); err != nil {
				return err
			}
			// the timeout at its instant, with another task asleep beyond it
			g = tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, 5*time.Second) })
			start := tock.Now(ctx)
			if i, err := tock.Select(ctx, tock.OnGet(q, nil), tock.OnTimeout(2*time.Second, nil)); i != 1 || err != nil {
				return fmt.Errorf("timeout: Select = %d, %v", i, err)
			}
			if d := tock.Now(ctx).Sub(start); d != 2*time.Second {
				return fmt.Errorf("timed out after %v, want 2s", d)
			}
			if q.Waiting() != 0 {
				return errors.New("the timed-out Select left its waiter queued")
			}
			// allocations of a Select that waits and times out
			n := testing.AllocsPerRun(20, func() {
				tock.Select(ctx, tock.OnGet(q, nil), tock.OnTimeout(time.Millisecond, nil))
			})
			if n > 4 {
				return fmt.Errorf("a Select that waits and times out: %v allocations, want at most 4", n)
			}
			return g.Wait()
		})
	})
	if p != nil {
		t.Fatal(p)
	}
	if err != nil {
		t.Fatal(err)
	}
}
