package tock_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var errLate = errors.New("late task failed")

var spin atomic.Int64

// tryGo calls g.Go(task) and reports whether it was accepted (Go panics
// once Wait has returned).
func tryGo(g *tock.Group, task func(ctx context.Context) error) (accepted bool) {
	defer func() {
		if r := recover(); r != nil {
			if !strings.Contains(fmt.Sprint(r), "Wait has already returned") {
				panic(r)
			}
			accepted = false
		}
	}()
	g.Go(task)
	return true
}

// A Go accepted while Wait is waking up (the last task ended, Wait is
// runnable but has not run yet) is waited for, and its failure reported
// (issue 12, defect 3). In the simulation the late Go lands in that window
// every time.
func TestWaitWaitsForGoAcceptedWhileWaking(t *testing.T) {
	checkLeaks(t)
	var trace []string
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		var ending tock.Event
		g.Go(func(ctx context.Context) error {
			tock.Yield(ctx) // the helper waits on ending
			ending.Set()    // the helper runs after this task ends and Wait is woken
			return nil
		})
		other := tock.NewGroup(ctx)
		other.Go(func(ctx context.Context) error {
			ending.Wait(ctx)
			if !tryGo(g, func(ctx context.Context) error {
				tock.Sleep(ctx, time.Second)
				trace = append(trace, "late task ends")
				return errLate
			}) {
				trace = append(trace, "late Go refused")
			}
			return nil
		})
		err := g.Wait()
		trace = append(trace, fmt.Sprintf("Wait at %v: %v", tock.Now(ctx).Sub(sim.DefaultStart), err))
		return errors.Join(err, other.Wait())
	})
	want := []string{"late task ends", "Wait at 1s: late task failed"}
	if !reflect.DeepEqual(trace, want) {
		t.Errorf("trace %q, want %q", trace, want)
	}
	if !errors.Is(err, errLate) {
		t.Errorf("Run = %v, want the late task's error", err)
	}
}

// The same race on the real runtime, hammered: whenever a Go is accepted,
// Wait reports its failure; a Go after Wait returned is refused (it panics).
func TestWaitWaitsForLateGoReal(t *testing.T) {
	checkLeaks(t)
	n := 20000
	if testing.Short() {
		n = 2000
	}
	ctx := context.Background()
	accepted := 0
	for i := 0; i < n; i++ {
		g := tock.NewGroup(ctx)
		var ending atomic.Bool
		g.Go(func(ctx context.Context) error {
			ending.Store(true)
			return nil
		})
		res := make(chan bool, 1)
		go func() {
			for !ending.Load() {
				runtime.Gosched()
			}
			// a varying delay, so that the Go lands before, in and after
			// the window where Wait is waking up
			for j := 0; j < i%64; j++ {
				spin.Add(1)
			}
			res <- tryGo(g, func(ctx context.Context) error { return errLate })
		}()
		err := g.Wait()
		var ok bool
		select {
		case ok = <-res:
		case <-time.After(10 * time.Second):
			t.Fatal("the late Go did not return")
		}
		if ok {
			accepted++
			if !errors.Is(err, errLate) {
				t.Fatalf("iteration %d: the late Go was accepted but Wait returned %v", i, err)
			}
		}
	}
	t.Logf("%d of %d late Go calls accepted", accepted, n)
}

// Wait called from several tasks at once: each returns only once every task
// (also one started by a task while they wait) has ended, with the same
// result.
var _ = register(scenario{
	name: "Wait from several tasks, with a task started late",
	body: func(ctx context.Context, h *H) error {
		g := tock.NewGroup(ctx)
		var release tock.Event
		g.Go(func(ctx context.Context) error {
			release.Wait(ctx)
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, h.U(3))
				h.Log(ctx, "late task fails")
				return errLate
			})
			return nil
		})
		waiters := tock.NewGroup(ctx)
		for _, name := range []string{"W1", "W2"} {
			waiters.Go(func(ctx context.Context) error {
				err := g.Wait()
				h.Log(ctx, "%s: %v", name, err)
				return nil
			})
		}
		tock.Sleep(ctx, h.U(1))
		release.Set()
		return waiters.Wait()
	},
	sim: `4 late task fails
		4 W1: late task failed
		4 W2: late task failed`,
	check: causal(order{"late task fails", "W1: late task failed"}, order{"late task fails", "W2: late task failed"}),
})

// deepPanic panics in the innermost of depth nested Groups.
func deepPanic(ctx context.Context, depth int) error {
	if depth == 0 {
		panicInTask()
	}
	g := tock.NewGroup(ctx)
	g.Go(func(ctx context.Context) error { return deepPanic(ctx, depth-1) })
	return g.Wait()
}

var errBoom = errors.New("boom")

func panicInTask() { panic(errBoom) }

// checkOnePanicError asserts that r is exactly one *tock.PanicError with the
// original value and the panicking stack.
func checkOnePanicError(t *testing.T, r any) {
	t.Helper()
	// t.Errorf and return, not t.Fatalf: this may run inside a simulated task
	pe, ok := r.(*tock.PanicError)
	if !ok {
		t.Errorf("recovered %T %v, want *tock.PanicError", r, r)
		return
	}
	if pe.Value != errBoom {
		t.Errorf("Value is %T %v, want the original value (one layer)", pe.Value, pe.Value)
		return
	}
	if n := strings.Count(pe.Error(), "tock: task panicked:"); n != 1 {
		t.Errorf("the message says \"tock: task panicked:\" %d times, want once:\n%s", n, pe.Error())
	}
	if !strings.Contains(string(pe.Stack), "panicInTask") {
		t.Errorf("the stack is not the panicking one:\n%s", pe.Stack)
	}
	if !errors.Is(pe, errBoom) {
		t.Error("errors.Is does not see the panic value")
	}
}

// A panic reaches the caller of tock.Run and of sim.Run as exactly one
// *PanicError, however many Groups it passed (issue 12, defect 6).
func TestOnePanicLayer(t *testing.T) {
	checkLeaks(t)
	runs := map[string]func(main func(ctx context.Context) error){
		"sim": func(main func(ctx context.Context) error) { sim.Run(context.Background(), main) },
		"real": func(main func(ctx context.Context) error) {
			tock.Run(context.Background(), main)
		},
	}
	for name, run := range runs {
		for _, depth := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s/depth %d", name, depth), func(t *testing.T) {
				defer func() { checkOnePanicError(t, recover()) }()
				run(func(ctx context.Context) error { return deepPanic(ctx, depth) })
				t.Fatal("Run returned")
			})
			// Group.Wait inside the run re-raises one layer too.
			t.Run(fmt.Sprintf("%s/Wait depth %d", name, depth), func(t *testing.T) {
				run(func(ctx context.Context) error {
					defer func() { checkOnePanicError(t, recover()) }()
					g := tock.NewGroup(ctx)
					g.Go(func(ctx context.Context) error { return deepPanic(ctx, depth) })
					g.Wait()
					t.Error("Wait returned")
					return nil
				})
			})
		}
	}
}

// PanicError is a type of package tock (go doc shows its fields), not an
// alias of an internal type.
func TestPanicErrorIsTockType(t *testing.T) {
	typ := reflect.TypeOf(tock.PanicError{})
	if typ.PkgPath() != "github.com/tockgo/tock" || typ.Name() != "PanicError" {
		t.Fatalf("tock.PanicError is %s.%s", typ.PkgPath(), typ.Name())
	}
	for _, f := range []string{"Value", "Stack"} {
		if _, ok := typ.FieldByName(f); !ok {
			t.Errorf("no field %s", f)
		}
	}
}

// Bad input to a Group panics at the call with a message naming the type and
// the rule (issue 12, defect 8).
func TestGroupBadInput(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	zero := func() *tock.Group { return new(tock.Group) } // a fresh one per case
	var nilGroup *tock.Group
	cases := []struct {
		name, want string
		f          func()
	}{
		{"NewGroup(nil)", "tock: NewGroup: nil context", func() { tock.NewGroup(nil) }},
		{"Go(nil)", "tock: Group.Go: nil task", func() { tock.NewGroup(ctx).Go(nil) }},
		{"Start(nil)", "tock: Group.Start: nil task", func() { tock.NewGroup(ctx).Start(nil) }},
		{"zero Go", "tock: Group.Go: the zero Group is not usable", func() { zero().Go(func(ctx context.Context) error { return nil }) }},
		{"zero Start", "tock: Group.Start: the zero Group is not usable", func() {
			zero().Start(func(ctx context.Context, started func()) error { return nil })
		}},
		{"zero Wait", "tock: Group.Wait: the zero Group is not usable", func() { zero().Wait() }},
		{"zero Cancel", "tock: Group.Cancel: the zero Group is not usable", func() { zero().Cancel() }},
		{"nil Go", "tock: Group.Go: nil *Group", func() { nilGroup.Go(func(ctx context.Context) error { return nil }) }},
		{"nil Wait", "tock: Group.Wait: nil *Group", func() { nilGroup.Wait() }},
		{"Run(nil ctx)", "tock: Run: nil context", func() { tock.Run(nil, func(ctx context.Context) error { return nil }) }},
		{"Run(nil main)", "tock: Run: nil main", func() { tock.Run(ctx, nil) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectPanic(t, c.want, c.f) })
	}
	// A group that refused a nil task is still usable: nothing was counted.
	g := tock.NewGroup(ctx)
	expectPanic(t, "nil task", func() { g.Go(nil) })
	expectPanic(t, "nil task", func() { g.Start(nil) })
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait hangs after a refused nil task")
	}
}

// The same bad input inside a simulation.
func TestGroupBadInputSim(t *testing.T) {
	checkLeaks(t)
	var mu sync.Mutex
	var got []string
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for _, f := range []func(){
			func() { g.Go(nil) },
			func() { g.Start(nil) },
		} {
			func() {
				defer func() {
					mu.Lock()
					got = append(got, fmt.Sprint(recover()))
					mu.Unlock()
				}()
				f()
			}()
		}
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tock: Group.Go: nil task function", "tock: Group.Start: nil task function"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("panics %q, want %q", got, want)
	}
}
