package tock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tockgo/tock"
)

var (
	errA = errors.New("A failed")
	errB = errors.New("B failed")
	errC = errors.New("C failed")
)

// failures returns the joined errors of a Group.Wait result.
func failures(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

var _ = register(
	scenario{
		// μSim root_order / S6: tasks start in Go order after the caller
		// suspends; a Yield sends each to the back of the instant.
		name: "S6 tasks start in order",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			for _, name := range []string{"A", "B", "C"} {
				g.Go(func(ctx context.Context) error {
					h.Log(ctx, "%s start", name)
					tock.Yield(ctx)
					h.Log(ctx, "%s after yield", name)
					return nil
				})
			}
			h.Log(ctx, "spawned")
			return g.Wait()
		},
		sim: `0 spawned
			0 A start
			0 B start
			0 C start
			0 A after yield
			0 B after yield
			0 C after yield`,
		check: func(t *testing.T, h *H, err error) {
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"A", "B", "C"} {
				h.Before(t, n+" start", n+" after yield")
			}
		},
	},
	scenario{
		// μSim S12: the group waits for its children.
		name: "S12 Wait waits for every task",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			for _, d := range []float64{10, 5} {
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, h.U(d))
					h.Log(ctx, "child %g done", d)
					return nil
				})
			}
			err := g.Wait()
			h.Log(ctx, "wait returned")
			return err
		},
		sim:   "5 child 5 done\n10 child 10 done\n10 wait returned",
		check: causal(order{"child 5 done", "wait returned"}, order{"child 10 done", "wait returned"}),
	},
	scenario{
		// μSim S11: nested groups each end at the max of their own children.
		name: "S11 nested groups",
		body: func(ctx context.Context, h *H) error {
			outer := tock.NewGroup(ctx)
			outer.Go(func(ctx context.Context) error { return tock.Sleep(ctx, h.U(10)) })
			outer.Go(func(ctx context.Context) error {
				middle := tock.NewGroup(ctx)
				middle.Go(func(ctx context.Context) error { return tock.Sleep(ctx, h.U(7)) })
				middle.Go(func(ctx context.Context) error {
					inner := tock.NewGroup(ctx)
					inner.Go(func(ctx context.Context) error { return tock.Sleep(ctx, h.U(5)) })
					err := inner.Wait()
					h.Log(ctx, "inner done")
					return err
				})
				err := middle.Wait()
				h.Log(ctx, "middle done")
				return err
			})
			err := outer.Wait()
			h.Log(ctx, "outer done")
			return err
		},
		sim:     "5 inner done\n7 middle done\n10 outer done",
		ordered: true,
	},
	scenario{
		// μSim child_failure / AnyIO TG-09: a failing task cancels its
		// siblings at that instant; Wait reports only the failure.
		name: "failure cancels siblings",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, h.U(5))
				h.Log(ctx, "A fails")
				return errA
			})
			g.Go(func(ctx context.Context) error {
				err := h.Forever(ctx)
				h.Log(ctx, "B: %v", err)
				return err
			})
			err := g.Wait()
			h.Log(ctx, "wait: %v", err)
			return err
		},
		sim:     "5 A fails\n5 B: context canceled\n5 wait: A failed",
		ordered: true,
		check: func(t *testing.T, h *H, err error) {
			fs := failures(err)
			if len(fs) != 1 || fs[0] != errA || !errors.Is(err, errA) || errors.Is(err, context.Canceled) {
				t.Errorf("Wait = %v (%d failures); want exactly A's failure", err, len(fs))
			}
		},
	},
	scenario{
		// μSim multiple_failures_same_time / AnyIO TG-11: every failure is
		// collected, in the order it happened.
		name: "several failures collected",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			for _, e := range []error{errA, errB, errC} {
				g.Go(func(ctx context.Context) error {
					tock.Sleep(ctx, h.U(1))
					return e
				})
			}
			err := g.Wait()
			h.Log(ctx, "wait: %d failures", len(failures(err)))
			return err
		},
		sim: "1 wait: 3 failures",
		check: func(t *testing.T, h *H, err error) {
			if !errors.Is(err, errA) || !errors.Is(err, errB) || !errors.Is(err, errC) {
				t.Errorf("Wait = %v; want all three failures", err)
			}
			if got := strings.ReplaceAll(fmt.Sprint(err), "\n", "; "); h.Sim && got != "A failed; B failed; C failed" {
				t.Errorf("Wait = %q; want them in the order they happened", got)
			}
		},
	},
	scenario{
		// Group.Cancel: the cancellations it causes are not failures.
		name: "Cancel is not a failure",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			for _, n := range []string{"A", "B"} {
				g.Go(func(ctx context.Context) error {
					err := h.Forever(ctx)
					h.Log(ctx, "%s: %v", n, err)
					return err
				})
			}
			tock.Sleep(ctx, h.U(3))
			g.Cancel()
			err := g.Wait()
			h.Log(ctx, "wait: %v", err)
			return err
		},
		sim: "3 A: context canceled\n3 B: context canceled\n3 wait: <nil>",
		check: func(t *testing.T, h *H, err error) {
			if err != nil {
				t.Errorf("Wait = %v, want nil", err)
			}
			h.Before(t, "A: context canceled", "wait: <nil>")
		},
	},
	scenario{
		// A cancellation that comes from the parent is reported by Wait.
		name: "parent cancellation is reported",
		body: func(ctx context.Context, h *H) error {
			pctx, cancel := tock.WithCancel(ctx)
			g := tock.NewGroup(pctx)
			g.Go(func(ctx context.Context) error { return h.Forever(ctx) })
			tock.Sleep(ctx, h.U(2))
			cancel()
			err := g.Wait()
			h.Log(ctx, "wait: %v", err)
			return nil
		},
		sim:     "2 wait: context canceled",
		ordered: true,
	},
	scenario{
		// Cancelling an outer group reaches tasks of groups nested in it.
		name: "cancellation reaches nested groups",
		body: func(ctx context.Context, h *H) error {
			outer := tock.NewGroup(ctx)
			outer.Go(func(ctx context.Context) error {
				inner := tock.NewGroup(ctx)
				inner.Go(func(ctx context.Context) error {
					err := h.Forever(ctx)
					h.Log(ctx, "innermost: %v", err)
					return err
				})
				return inner.Wait()
			})
			tock.Sleep(ctx, h.U(4))
			outer.Cancel()
			err := outer.Wait()
			h.Log(ctx, "outer wait: %v", err)
			return err
		},
		sim:     "4 innermost: context canceled\n4 outer wait: <nil>",
		ordered: true,
	},
	scenario{
		// AnyIO TG-12: a task started in a cancelled group runs until its
		// first checkpoint.
		name: "TG-12 level cancellation",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			g.Cancel()
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "task ran")
				err := tock.Yield(ctx)
				h.Log(ctx, "checkpoint: %v", err)
				err = tock.Sleep(ctx, h.U(1))
				h.Log(ctx, "sleep: %v", err)
				return err
			})
			return g.Wait()
		},
		sim:     "0 task ran\n0 checkpoint: context canceled\n0 sleep: context canceled",
		ordered: true,
	},
	scenario{
		// AnyIO TG-03: Start returns once the task calls started; the task
		// keeps running in the group.
		name: "TG-03 Start waits for started",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			err := g.Start(func(ctx context.Context, started func()) error {
				h.Log(ctx, "setting up")
				tock.Sleep(ctx, h.U(2))
				started()
				tock.Sleep(ctx, h.U(5))
				h.Log(ctx, "service done")
				return nil
			})
			h.Log(ctx, "start returned %v", err)
			err = g.Wait()
			h.Log(ctx, "wait returned %v", err)
			return err
		},
		sim:     "0 setting up\n2 start returned <nil>\n7 service done\n7 wait returned <nil>",
		ordered: true,
	},
	scenario{
		// AnyIO TG-05/TG-07: an error before started goes to Start, not the
		// group; returning without started is ErrNotStarted. An error after
		// started goes to the group.
		name: "TG-05 Start errors",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			err := g.Start(func(ctx context.Context, started func()) error { return errA })
			h.Log(ctx, "crash before started: %v", err)
			err = g.Start(func(ctx context.Context, started func()) error { return nil })
			h.Log(ctx, "no started: %v", errors.Is(err, tock.ErrNotStarted))
			err = g.Start(func(ctx context.Context, started func()) error {
				started()
				tock.Sleep(ctx, h.U(1))
				return errB
			})
			h.Log(ctx, "crash after started: start=%v", err)
			err = g.Wait()
			h.Log(ctx, "wait: %v", err)
			return nil
		},
		sim: `0 crash before started: A failed
			0 no started: true
			0 crash after started: start=<nil>
			1 wait: B failed`,
		ordered: true,
	},
	scenario{
		// A panic in a task is re-raised by Wait with the original value and
		// the panicking task's stack.
		name: "panic re-raised by Wait",
		body: func(ctx context.Context, h *H) (err error) {
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { return h.Forever(ctx) })
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, h.U(1))
				panickyHelper()
				return nil
			})
			defer func() {
				r := recover()
				pe, ok := r.(*tock.PanicError)
				if !ok {
					h.Log(ctx, "recovered %T %v", r, r)
					return
				}
				h.Log(ctx, "recovered %v, stack names panickyHelper: %v", pe.Value, strings.Contains(string(pe.Stack), "panickyHelper"))
			}()
			g.Wait()
			return nil
		},
		sim:     "1 recovered boom, stack names panickyHelper: true",
		ordered: true,
	},
	scenario{
		// A task that has waited on its group's context and now waits on an
		// unrelated one is not woken when the group is cancelled; it is
		// woken when that context is.
		name: "group cancel wakes only its waiters",
		body: func(ctx context.Context, h *H) error {
			other, cancelOther := tock.WithCancel(ctx)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, h.U(1)) // waits on the group's context first
				//tockvet:ignore waits on the parent's context on purpose
				h.Log(ctx, "away: %v", tock.Sleep(other, h.U(1e6)))
				return nil
			})
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "home: %v", tock.Sleep(ctx, h.U(1e6)))
				return nil
			})
			tock.Sleep(ctx, h.U(60))
			g.Cancel()
			tock.Sleep(ctx, h.U(60))
			cancelOther()
			return g.Wait()
		},
		sim: "60 home: context canceled\n120 away: context canceled",
	},
	scenario{
		// Tasks wait on a group's context (one through another task's
		// context), end, and start in an order that moves them about in the
		// group's record of its waiters; a cancel still wakes exactly the
		// tasks waiting then.
		name: "group cancel after waiters came and went",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			// buffered and filled before the reader runs: no simulated
			// task blocks on it
			ctx2 := make(chan context.Context, 1)
			g.Go(func(ctx context.Context) error {
				//tockvet:ignore buffered: never blocks
				ctx2 <- ctx
				tock.Yield(ctx) // lets the next task wait on ctx first
				tock.Sleep(ctx, h.U(20))
				h.Log(ctx, "2 ends")
				return nil
			})
			g.Go(func(ctx context.Context) error {
				tock.Sleep(<-ctx2, h.U(10)) //tockvet:ignore on another task's context, on purpose; the channel is already filled
				h.Log(ctx, "3 ends")
				return nil
			})
			tock.Sleep(ctx, h.U(15))
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "4: %v", tock.Sleep(ctx, h.U(1e6)))
				return nil
			})
			tock.Sleep(ctx, h.U(45))
			g.Cancel()
			return g.Wait()
		},
		sim: "10 3 ends\n20 2 ends\n60 4: context canceled",
	},
)

func panickyHelper() { panic("boom") }

func TestGroupMisuse(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	g := tock.NewGroup(ctx)
	g.Go(func(ctx context.Context) error { return nil })
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("second Wait = %v", err)
	}
	expectPanic(t, "tock: Group.Go: Wait has already returned", func() { g.Go(func(ctx context.Context) error { return nil }) })
	g2 := tock.NewGroup(ctx)
	expectPanic(t, "tock: Group.Start: started called twice", func() {
		g2.Start(func(ctx context.Context, started func()) error { started(); started(); return nil })
		g2.Wait()
	})
}

// expectPanic asserts that f panics with a message containing want.
func expectPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want %q", want)
		}
		if !strings.Contains(fmt.Sprint(r), want) {
			t.Fatalf("panic %q; want it to contain %q", fmt.Sprint(r), want)
		}
	}()
	f()
}

// A panic before started is re-raised by Start itself, with the task's stack;
// the group is not failed by it.
func TestStartPanicsBeforeStarted(t *testing.T) {
	checkLeaks(t)
	simulate := func(body func(ctx context.Context, h *H) error) (*H, error) { return runSim(body) }
	for _, run := range []func(body func(ctx context.Context, h *H) error) (*H, error){simulate, runReal} {
		_, err := run(func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			func() {
				defer func() {
					pe, ok := recover().(*tock.PanicError)
					if !ok || pe.Value != "setup failed" || !strings.Contains(string(pe.Stack), "panicBeforeStarted") {
						t.Errorf("Start re-raised %v", pe)
					}
				}()
				g.Start(panicBeforeStarted)
			}()
			return g.Wait()
		})
		if err != nil {
			t.Errorf("Wait = %v", err)
		}
	}
}

func panicBeforeStarted(ctx context.Context, started func()) error { panic("setup failed") }
