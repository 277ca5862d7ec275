package tock_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// Contexts derived from a task's ctx with the standard library (WithCancel,
// WithValue, and tock's WithTimeout over those) are cancelled with the task's
// ctx: synchronously, so a wait on them ends at the cancelling instant in
// every run, with Err and Cause set (issue 12, defect 1).

type derivedKey struct{}

// derivations are the ways a task derives the ctx it waits on.
var derivations = []struct {
	name   string
	derive func(ctx context.Context, h *H) (context.Context, context.CancelFunc)
}{
	{"WithCancel", func(ctx context.Context, h *H) (context.Context, context.CancelFunc) {
		return context.WithCancel(ctx)
	}},
	{"WithValue+WithCancel", func(ctx context.Context, h *H) (context.Context, context.CancelFunc) {
		return context.WithCancel(context.WithValue(ctx, derivedKey{}, 1))
	}},
	{"WithValue", func(ctx context.Context, h *H) (context.Context, context.CancelFunc) {
		return context.WithValue(ctx, derivedKey{}, 1), func() {}
	}},
	{"WithValue+tock.WithTimeout", func(ctx context.Context, h *H) (context.Context, context.CancelFunc) {
		return tock.WithTimeout(context.WithValue(ctx, derivedKey{}, 1), h.U(100))
	}},
	{"tock.WithTimeout+WithCancel", func(ctx context.Context, h *H) (context.Context, context.CancelFunc) {
		c, cancel := tock.WithTimeout(ctx, h.U(100))
		c2, cancel2 := context.WithCancel(c)
		return c2, func() { cancel2(); cancel() }
	}},
	{"WithCancel+WithValue+WithCancel", func(ctx context.Context, h *H) (context.Context, context.CancelFunc) {
		c, cancel := context.WithCancel(ctx)
		c2, cancel2 := context.WithCancel(context.WithValue(c, derivedKey{}, 1))
		return c2, func() { cancel2(); cancel() }
	}},
}

var _ = register(
	scenario{
		// A sibling fails at 5: every wait on a context derived from a
		// group task's ctx ends then with Canceled, and the cause is the
		// group's own, on both runtimes.
		name: "derived contexts are cancelled with the group",
		body: func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			for _, d := range derivations {
				g.Go(func(ctx context.Context) error {
					c, cancel := d.derive(ctx, h)
					defer cancel()
					var never tock.Event
					err := never.Wait(c)
					if c.Err() == nil {
						h.Log(ctx, "%s: Err nil after the wait", d.name)
					}
					h.Log(ctx, "%s: %v / %v", d.name, err, context.Cause(c))
					return err
				})
			}
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, h.U(5))
				return errA
			})
			err := g.Wait()
			h.Log(ctx, "wait: %v", err)
			return nil
		},
		sim: `5 WithValue: context canceled / tock: group cancelled
			5 WithValue+tock.WithTimeout: context canceled / tock: group cancelled
			5 WithCancel: context canceled / tock: group cancelled
			5 WithValue+WithCancel: context canceled / tock: group cancelled
			5 tock.WithTimeout+WithCancel: context canceled / tock: group cancelled
			5 WithCancel+WithValue+WithCancel: context canceled / tock: group cancelled
			5 wait: A failed`,
	},
	scenario{
		// A deadline of tock.WithTimeout reaches a stdlib child at once.
		name: "a tock deadline cancels its stdlib children",
		body: func(ctx context.Context, h *H) error {
			c, cancel := tock.WithTimeout(context.WithValue(ctx, derivedKey{}, 1), h.U(3))
			defer cancel()
			c2, cancel2 := context.WithCancel(context.WithValue(c, derivedKey{}, 2))
			defer cancel2()
			var never tock.Event
			err := never.Wait(c2)
			h.Log(ctx, "child: %v / %v", err, context.Cause(c2))
			err = never.Wait(c)
			h.Log(ctx, "parent: %v", err)
			return nil
		},
		sim: `3 child: context deadline exceeded / context deadline exceeded
			3 parent: context deadline exceeded`,
		ordered: true,
	},
	scenario{
		// Cancelling a stdlib child's parent from another task: the child's
		// waiter is woken in the same instant, and Err is set by the time
		// Done is closed, for a raw select too.
		name: "cancelling the parent of a stdlib child",
		body: func(ctx context.Context, h *H) error {
			parent, cancelParent := tock.WithCancel(ctx)
			child, cancelChild := context.WithCancel(context.WithValue(parent, derivedKey{}, 1))
			defer cancelChild()
			var waiting tock.Event
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				var never tock.Event
				waiting.Set()
				err := never.Wait(child) //tockvet:ignore waits on the other task's stdlib child on purpose
				h.Log(ctx, "waiter: %v", err)
				return nil
			})
			waiting.Wait(ctx)
			tock.Sleep(ctx, h.U(2))
			cancelParent()
			select {
			case <-child.Done():
				if child.Err() == nil {
					h.Log(ctx, "Done closed with Err nil")
				}
				h.Log(ctx, "child done at once")
			default:
				h.Log(ctx, "child not done when its parent's cancel returned")
			}
			return g.Wait()
		},
		sim: "2 child done at once\n2 waiter: context canceled",
	},
)

// The same model gives the same trace every run: the waits on derived
// contexts end at the cancelling instant, never later (issue 12, defect 1).
func TestDerivedContextsDeterministic(t *testing.T) {
	checkLeaks(t)
	model := func(ctx context.Context, h *H) error {
		for round := range 4 {
			g := tock.NewGroup(ctx)
			for i, d := range derivations {
				g.Go(func(ctx context.Context) error {
					c, cancel := d.derive(ctx, h)
					defer cancel()
					if i%2 == 1 {
						c = context.WithValue(c, derivedKey{}, i)
					}
					var never tock.Event
					err := never.Wait(c)
					h.Log(ctx, "round %d %s: %v", round, d.name, err)
					return nil
				})
			}
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, h.U(float64(1+round)))
				return fmt.Errorf("round %d failed", round)
			})
			h.Log(ctx, "round %d: %v", round, g.Wait())
		}
		return nil
	}
	h, err := runSim(model)
	if err != nil {
		t.Fatal(err)
	}
	first := h.Trace()
	for i := 0; i < 30; i++ {
		h, err := runSim(model)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if got := h.Trace(); got != first {
			t.Fatalf("run %d differs:\n%s\nfirst:\n%s", i, got, first)
		}
	}
	// Every wait of a round ended at the instant its group failed.
	for _, l := range h.lines {
		var round int
		fmt.Sscanf(l.msg, "round %d", &round)
		want := 0.0
		for r := 0; r <= round; r++ {
			want += float64(1 + r)
		}
		if l.at != want {
			t.Errorf("%q logged at %g, want %g", l.msg, l.at, want)
		}
	}
}

// Deriving stdlib contexts from a simulated task's ctx starts no goroutine:
// the context package registers with the simulation's context synchronously.
func TestDerivedContextsStartNoGoroutine(t *testing.T) {
	checkLeaks(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			before := runtime.NumGoroutine()
			var cancels []context.CancelFunc
			for range 100 {
				c, cancel := context.WithCancel(context.WithValue(ctx, derivedKey{}, 1))
				c2, cancel2 := tock.WithTimeout(c, time.Hour)
				_, cancel3 := context.WithCancel(c2)
				cancels = append(cancels, cancel, cancel2, cancel3)
			}
			if grew := runtime.NumGoroutine() - before; grew > 0 {
				t.Errorf("deriving 300 contexts started %d goroutines", grew)
			}
			for _, c := range cancels {
				c()
			}
			return nil
		})
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// At the Until instant, a task waiting on a stdlib child of its ctx is woken
// with Canceled like every other task and unwinds normally: no abort, no
// DeadlockError (issue 12, defect 1).
func TestUntilWakesWaitsOnDerivedContexts(t *testing.T) {
	checkLeaks(t)
	for range 20 {
		var mu sync.Mutex
		got := map[string]string{}
		_, err := runSim(func(ctx context.Context, h *H) error {
			g := tock.NewGroup(ctx)
			for _, d := range derivations {
				g.Go(func(ctx context.Context) error {
					c, cancel := d.derive(ctx, h)
					defer cancel()
					var never tock.Event
					err := never.Wait(c)
					mu.Lock()
					got[d.name] = fmt.Sprintf("%g %v", h.Elapsed(ctx), err)
					mu.Unlock()
					return err
				})
			}
			return g.Wait()
		}, sim.For(10*time.Second))
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		for _, d := range derivations {
			if got[d.name] != "10 context canceled" {
				t.Errorf("%s: wait ended with %q, want \"10 context canceled\"", d.name, got[d.name])
			}
		}
		if t.Failed() {
			return
		}
	}
}

// A goroutine the simulation does not run, watching a task's ctx with a raw
// select, sees Err set once Done is closed (the context package's contract).
func TestDoneClosedImpliesErr(t *testing.T) {
	checkLeaks(t)
	for range 200 {
		errs := make(chan error, 3)
		var wg sync.WaitGroup
		err := sim.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			started := make(chan struct{}, 3)
			g.Go(func(ctx context.Context) error {
				c := context.WithValue(ctx, derivedKey{}, 1)
				for _, c := range []context.Context{ctx, c} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						started <- struct{}{}
						<-c.Done()
						errs <- c.Err()
					}()
				}
				<-started //tockvet:ignore raw goroutines send at once, without the simulation
				<-started //tockvet:ignore as above
				return h0.Forever(ctx)
			})
			g.Go(func(ctx context.Context) error { return errA })
			return g.Wait()
		})
		if !errors.Is(err, errA) {
			t.Fatalf("Run = %v", err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err == nil {
				t.Fatal("Done closed, Err nil")
			}
		}
	}
}

var h0 H

// On the real runtime, a task's ctx keeps the context package's contract
// too, and stdlib children are cancelled synchronously with the group.
func TestRealTaskContextContract(t *testing.T) {
	checkLeaks(t)
	for range 200 {
		err := tock.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			var ready tock.Event
			var child context.Context
			g.Go(func(ctx context.Context) error {
				var cancel context.CancelFunc
				child, cancel = context.WithCancel(context.WithValue(ctx, derivedKey{}, 1))
				defer cancel()
				ready.Set()
				return h0.Forever(ctx)
			})
			ready.Wait(ctx)
			g.Cancel()
			select {
			case <-child.Done():
				if child.Err() == nil {
					t.Error("Done closed, Err nil")
				}
			default:
				t.Error("a stdlib child of a task's ctx is not done when Cancel returns")
			}
			return g.Wait()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The same when the only waits left at the Until instant are on stdlib
// children (each is polled): they are woken at once, not abandoned.
func TestUntilWakesOnlyDerivedWaits(t *testing.T) {
	checkLeaks(t)
	for _, d := range derivations {
		var got string
		_, err := runSim(func(ctx context.Context, h *H) error {
			c, cancel := d.derive(ctx, h)
			defer cancel()
			var never tock.Event
			err := never.Wait(c)
			got = fmt.Sprintf("%g %v", h.Elapsed(ctx), err)
			return err
		}, sim.For(10*time.Second))
		if err != nil || got != "10 context canceled" {
			t.Errorf("%s: Run = %v; the wait ended with %q, want \"10 context canceled\"", d.name, err, got)
		}
	}
}

type afterFuncer interface {
	AfterFunc(func()) func() bool
}

// Every context tock hands out in a simulation has the AfterFunc hook the
// context package uses to propagate cancellation synchronously, and its
// callbacks run within the cancelling call.
func TestEveryTockContextHasAfterFunc(t *testing.T) {
	checkLeaks(t)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		if _, ok := ctx.(afterFuncer); !ok {
			t.Errorf("main's ctx %T has no AfterFunc", ctx)
		}
		g := tock.NewGroup(ctx)
		var ready tock.Event
		var ctxs []context.Context
		g.Go(func(ctx context.Context) error {
			tc, cancel := tock.WithTimeout(ctx, time.Hour)
			defer cancel()
			cc, cancel2 := tock.WithCancel(ctx)
			defer cancel2()
			ctxs = append(ctxs, ctx, tc, cc)
			ready.Set()
			return h0.Forever(ctx)
		})
		ready.Wait(ctx)
		ran := make([]bool, len(ctxs))
		for i, c := range ctxs {
			a, ok := c.(afterFuncer)
			if !ok {
				t.Errorf("%T has no AfterFunc", c)
				continue
			}
			a.AfterFunc(func() { ran[i] = true })
		}
		g.Cancel()
		for i, r := range ran {
			if !r {
				t.Errorf("the AfterFunc callback of %T did not run within Cancel", ctxs[i])
			}
		}
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// countingCtx counts the look-ups that reach it: a call that searches its
// ctx for a task walks through it.
type countingCtx struct {
	context.Context
	n *int
}

func (c countingCtx) Value(k any) any { *c.n++; return c.Context.Value(k) }

// In a process that never made a simulation, a call that needs only its
// runtime (an Event's, a Semaphore's, a queue's or a stream's; the clock)
// does not search a derived ctx for its task: no ctx of a simulation can
// exist yet. A Lock still does (the owner is the task), and once a
// simulation was made every such call searches again, so that a
// simulation's ctx is recognised and checked. The test runs in a child
// process, where no simulation was made before it.
func TestDerivedCtxNotSearchedWithoutSimulation(t *testing.T) {
	if os.Getenv("TOCK_NOSIM_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDerivedCtxNotSearchedWithoutSimulation$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "TOCK_NOSIM_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestDerivedCtxNotSearchedWithoutSimulation") {
			t.Fatalf("child run: %v\n%s", err, out)
		}
		return
	}
	var ev tock.Event
	ev.Set()
	sem := tock.NewSemaphore(1)
	var q tock.Queue[int]
	send, recv := tock.NewStream[int](1)
	runtimeOnly := func(ctx context.Context) error {
		if err := ev.Wait(ctx); err != nil {
			return err
		}
		if err := sem.Acquire(ctx); err != nil {
			return err
		}
		sem.Release()
		if err := q.Put(ctx, 1); err != nil {
			return err
		}
		if _, err := q.Get(ctx); err != nil {
			return err
		}
		if err := send.Send(ctx, 1); err != nil {
			return err
		}
		if _, err := recv.Receive(ctx); err != nil {
			return err
		}
		_ = tock.Now(ctx)
		return nil
	}
	// counts runs fn in a task with a ctx derived through a countingCtx
	// and returns the look-ups that reached it.
	counts := func(fn func(ctx context.Context) error) int {
		n := 0
		err := tock.Run(context.Background(), func(ctx context.Context) error {
			d, cancel := context.WithCancel(context.WithValue(countingCtx{ctx, &n}, derivedKey{}, 1))
			defer cancel()
			n = 0 // WithCancel looks up its parent's cancelCtx
			return fn(d)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := counts(runtimeOnly); n != 0 {
		t.Errorf("no simulation made yet: calls that need only their runtime searched the derived ctx %d times, want 0", n)
	}
	var l tock.Lock
	owner := func(ctx context.Context) error {
		if err := l.Lock(ctx); err != nil {
			return err
		}
		defer l.Unlock(ctx)
		if !l.TryLock(context.WithoutCancel(ctx)) { // the same task re-enters
			return errors.New("Lock taken with a derived ctx is not owned by the task")
		}
		l.Unlock(ctx)
		return nil
	}
	if n := counts(owner); n == 0 {
		t.Error("Lock did not search the derived ctx for its owner")
	}
	if err := sim.Run(context.Background(), func(ctx context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n := counts(runtimeOnly); n == 0 {
		t.Error("a simulation was made: the calls no longer search a derived ctx for a simulation's task")
	}
}

// A worker waits again and again with one ctx derived from its task's (a
// WithCancel, and a WithValue of the task's ctx), as a loop does: under
// both runtimes every item comes through in order, and the derived ctx's
// cancellation ends the wait under way with context.Canceled, taking
// nothing. On the real runtime the loop's later waits park in a watcher
// (internal/real.go: parkDerived); each wait here is a real park, since
// the producer puts only once the worker is queued.
func TestDerivedCtxRepeatedWaits(t *testing.T) {
	const items = 20
	for _, d := range []struct {
		name   string
		derive func(ctx context.Context) (context.Context, context.CancelFunc)
	}{
		{"WithCancel", func(ctx context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }},
		{"WithValue", func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithValue(ctx, derivedKey{}, 1), func() {}
		}},
	} {
		t.Run(d.name, func(t *testing.T) {
			bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
				var q tock.Queue[int]
				// The worker's own cancel for WithCancel; for WithValue,
				// the cancellation is the worker task's, through its group.
				g := tock.NewGroup(ctx)
				var cancelWait context.CancelFunc
				var ready tock.Event
				var result error // the worker's, read after g.Wait
				g.Go(func(ctx context.Context) error {
					c, cancel := d.derive(ctx)
					defer cancel()
					if d.name == "WithCancel" {
						cancelWait = cancel
					} else {
						cancelWait = g.Cancel
					}
					ready.Set()
					for i := 0; ; i++ {
						v, err := q.Get(c)
						if err != nil {
							if i != items {
								err = fmt.Errorf("the wait ended after %d items: %w", i, err)
							}
							result = err
							return nil
						}
						if v != i {
							result = fmt.Errorf("item %d is %d", i, v)
							return nil
						}
					}
				})
				if err := ready.Wait(ctx); err != nil {
					return err
				}
				queued := func() error { // the worker is parked in Get (a state that cannot lapse)
					for q.Waiting() == 0 {
						if err := tock.Sleep(ctx, h.U(1)); err != nil {
							return err
						}
					}
					return nil
				}
				for i := 0; i < items; i++ {
					if err := queued(); err != nil {
						return err
					}
					q.Put(ctx, i)
				}
				if err := queued(); err != nil {
					return err
				}
				cancelWait()
				g.Wait()
				if err := result; !errors.Is(err, context.Canceled) {
					return fmt.Errorf("the last wait: %v, want context.Canceled", err)
				}
				if q.Len() != 0 || q.Waiting() != 0 {
					return fmt.Errorf("%d items, %d waiters left", q.Len(), q.Waiting())
				}
				return nil
			})
		})
	}
}
