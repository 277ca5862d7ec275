package tock_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// AnyIO CL-04/CL-10: accounting and Stats.
		name: "CL-04 borrow and Stats",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewCapacityLimiter(2)
			h.Log(ctx, "total %d available %d borrowed %d", l.Total(), l.Available(), l.Borrowed())
			l.Acquire(ctx)
			h.Log(ctx, "total %d available %d borrowed %d", l.Total(), l.Available(), l.Borrowed())
			l.AcquireFor(ctx, "job-1")
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { return l.AcquireFor(ctx, "job-2") })
			h.WaitUntil(ctx, "queued", func() bool { return l.Stats().Waiting == 1 })
			h.Log(ctx, "%+v", l.Stats())
			l.ReleaseFor("job-1")
			g.Wait()
			h.Log(ctx, "%+v", l.Stats())
			l.Release(ctx)
			l.ReleaseFor("job-2")
			h.Log(ctx, "%+v", l.Stats())
			return nil
		},
		sim: `0 total 2 available 2 borrowed 0
			0 total 2 available 1 borrowed 1
			0 {Borrowed:2 Total:2 Borrowers:[main job-1] Waiting:1}
			0 {Borrowed:2 Total:2 Borrowers:[main job-2] Waiting:0}
			0 {Borrowed:0 Total:2 Borrowers:[] Waiting:0}`,
		ordered: true,
	},
	scenario{
		// AnyIO CL-05: a limiter of 1 excludes mutually.
		name: "CL-05 mutual exclusion",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewCapacityLimiter(1)
			inside, violations := 0, 0
			var mu tock.Lock // guards the counters under the real runtime
			g := tock.NewGroup(ctx)
			for i := 0; i < 3; i++ {
				g.Go(func(ctx context.Context) error {
					for j := 0; j < 5; j++ {
						if err := l.Acquire(ctx); err != nil {
							return err
						}
						mu.Lock(ctx)
						inside++
						if inside != 1 {
							violations++
						}
						mu.Unlock(ctx)
						tock.Yield(ctx)
						mu.Lock(ctx)
						inside--
						mu.Unlock(ctx)
						l.Release(ctx)
					}
					return nil
				})
			}
			err := g.Wait()
			h.Log(ctx, "violations %d", violations)
			return err
		},
		sim: "0 violations 0",
	},
	scenario{
		// AnyIO CL-08/CL4: raising the total lets waiters in up to the spare
		// capacity, at once and FIFO.
		name: "CL-08 SetTotal wakes up to spare capacity",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewCapacityLimiter(1)
			l.Acquire(ctx)
			g := tock.NewGroup(ctx)
			for i := 0; i < 4; i++ {
				g.Go(func(ctx context.Context) error {
					err := l.Acquire(ctx)
					h.Log(ctx, "w%d in", i)
					return err
				})
				h.WaitUntil(ctx, "queued", func() bool { return l.Stats().Waiting == i+1 })
			}
			l.SetTotal(3)
			h.Log(ctx, "borrowed %d waiting %d", l.Borrowed(), l.Stats().Waiting)
			h.WaitUntil(ctx, "two in", func() bool { return len(h.Msgs()) == 3 })
			l.SetTotal(5)
			h.Log(ctx, "borrowed %d waiting %d", l.Borrowed(), l.Stats().Waiting)
			return g.Wait()
		},
		sim: `0 borrowed 3 waiting 2
			0 w0 in
			0 w1 in
			0 borrowed 5 waiting 0
			0 w2 in
			0 w3 in`,
		// The admitted waiters may log before main does; the counts main
		// logs right after SetTotal are exact either way.
		check: causal(order{"w1 in", "borrowed 5 waiting 0"}),
	},
	scenario{
		// AnyIO CL5/CL6/B7: lowering evicts nobody (Available goes negative);
		// shrinking then growing never over-grants.
		name: "CL shrink then grow",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewCapacityLimiter(2)
			l.AcquireFor(ctx, "h1")
			l.AcquireFor(ctx, "h2")
			g := tock.NewGroup(ctx)
			for i, w := range []string{"w1", "w2"} {
				g.Go(func(ctx context.Context) error { return l.AcquireFor(ctx, w) })
				h.WaitUntil(ctx, "queued", func() bool { return l.Stats().Waiting == i+1 })
			}
			l.SetTotal(1)
			h.Log(ctx, "total 1: available %d", l.Available())
			l.SetTotal(2)
			h.Log(ctx, "total 2: borrowed %d waiting %d", l.Borrowed(), l.Stats().Waiting)
			l.ReleaseFor("h1")
			l.ReleaseFor("h2")
			err := g.Wait()
			h.Log(ctx, "%+v", l.Stats())
			return err
		},
		sim: `0 total 1: available -1
			0 total 2: borrowed 2 waiting 2
			0 {Borrowed:2 Total:2 Borrowers:[w1 w2] Waiting:0}`,
		ordered: true,
	},
	scenario{
		// AnyIO CL-23: a cancelled waiter is removed; one granted and then
		// cancelled keeps its token.
		name: "CL-23 cancellation",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewCapacityLimiter(1)
			l.AcquireFor(ctx, "A")
			queued := func() bool { return l.Stats().Waiting == 1 }
			// B is cancelled while it waits (nothing is granted); C is
			// granted A's token, then cancelled in the same step.
			err := h.CancelRace(ctx, true, func(ctx context.Context) error { return l.AcquireFor(ctx, "B") }, queued, func() {})
			h.Log(ctx, "B: %v", err)
			h.Log(ctx, "%+v", l.Stats())
			err = h.CancelRace(ctx, false, func(ctx context.Context) error { return l.AcquireFor(ctx, "C") }, queued, func() { l.ReleaseFor("A") })
			h.Log(ctx, "C: %v", err)
			h.Log(ctx, "%+v", l.Stats())
			return nil
		},
		sim: `0 B: context canceled
			0 {Borrowed:1 Total:1 Borrowers:[A] Waiting:0}
			0 C: <nil>
			0 {Borrowed:1 Total:1 Borrowers:[C] Waiting:0}`,
		ordered: true,
	},
	scenario{
		// AnyIO CL-18/CL-19/CL3: TryAcquire fails when full or when anyone
		// waits; total 0 lets nobody in.
		name: "CL-19 TryAcquire",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewCapacityLimiter(0)
			h.Log(ctx, "total 0: %v", l.TryAcquireFor("x"))
			l.SetTotal(1)
			h.Log(ctx, "b1: %v, b2: %v", l.TryAcquireFor("b1"), l.TryAcquireFor("b2"))
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { return l.AcquireFor(ctx, "w") })
			h.WaitUntil(ctx, "queued", func() bool { return l.Stats().Waiting == 1 })
			l.SetTotal(2)
			l.ReleaseFor("w")
			h.Log(ctx, "spare but queued? %d waiting; b3: %v", l.Stats().Waiting, l.TryAcquire(ctx))
			return g.Wait()
		},
		sim:     "0 total 0: false\n0 b1: true, b2: false\n0 spare but queued? 0 waiting; b3: true",
		ordered: true,
	},
)

var _ = register(scenario{
	// Issue 12, defect 4: a borrower that cannot be a map key panics at the
	// call, naming its type, before the limiter's mutex is taken; the
	// limiter keeps working (it used to panic inside the map access with
	// its mutex held, and every later call hung).
	name: "CL non-comparable borrower",
	body: func(ctx context.Context, h *H) error {
		l := tock.NewCapacityLimiter(1)
		l.AcquireFor(ctx, "a")
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			err := l.AcquireFor(ctx, "b")
			h.Log(ctx, "b got a token: %v", err)
			l.ReleaseFor("b")
			return err
		})
		h.WaitUntil(ctx, "b queued", func() bool { return l.Stats().Waiting == 1 })
		for _, c := range []struct {
			name string
			call func()
		}{
			{"AcquireFor []int", func() { l.AcquireFor(ctx, []int{1}) }},
			{"AcquireFor [1]any", func() { l.AcquireFor(ctx, [1]any{[]int{}}) }},
			{"TryAcquireFor map", func() { l.TryAcquireFor(map[int]bool{}) }},
			{"ReleaseFor []int", func() { l.ReleaseFor([]int{1}) }},
		} {
			h.Log(ctx, "%s: %s", c.name, panicOf(c.call))
		}
		st := l.Stats()
		h.Log(ctx, "borrowed %d, waiting %d", st.Borrowed, st.Waiting)
		l.ReleaseFor("a")
		return g.Wait()
	},
	sim: `0 AcquireFor []int: tock: CapacityLimiter.AcquireFor: borrower of type []int is not comparable; a borrower must be usable as a map key (==)
		0 AcquireFor [1]any: tock: CapacityLimiter.AcquireFor: borrower of type [1]interface {} is not comparable; a borrower must be usable as a map key (==)
		0 TryAcquireFor map: tock: CapacityLimiter.TryAcquireFor: borrower of type map[int]bool is not comparable; a borrower must be usable as a map key (==)
		0 ReleaseFor []int: tock: CapacityLimiter.ReleaseFor: borrower of type []int is not comparable; a borrower must be usable as a map key (==)
		0 borrowed 1, waiting 1
		0 b got a token: <nil>`,
	ordered: true,
})

func TestCapacityLimiterMisuse(t *testing.T) {
	checkLeaks(t)
	expectPanic(t, "tock: NewCapacityLimiter: the total -1 is negative", func() { tock.NewCapacityLimiter(-1) })
	l := tock.NewCapacityLimiter(3)
	expectPanic(t, "tock: CapacityLimiter.SetTotal: the total -2 is negative", func() { l.SetTotal(-2) })
	expectPanic(t, "tock: CapacityLimiter.Acquire: ctx carries no tock task", func() { l.Acquire(context.Background()) })
	l.AcquireFor(context.Background(), "x")
	expectPanic(t, "tock: CapacityLimiter.AcquireFor: this borrower already holds one of the limiter's tokens", func() { l.AcquireFor(context.Background(), "x") })
	expectPanic(t, "tock: CapacityLimiter.TryAcquireFor: this borrower already holds one of the limiter's tokens", func() { l.TryAcquireFor("x") })
	expectPanic(t, "tock: CapacityLimiter.ReleaseFor: this borrower holds none of the limiter's tokens", func() { l.ReleaseFor("y") })
	l.ReleaseFor("x")
	// The limiter stays usable after the panics.
	if !l.TryAcquireFor("x") || l.Borrowed() != 1 {
		t.Fatal("limiter unusable after misuse")
	}
	u := tock.NewCapacityLimiter(tock.Unlimited)
	for i := 0; i < 100; i++ {
		if !u.TryAcquireFor(i) {
			t.Fatal("unlimited limiter refused")
		}
	}
}

func ExampleCapacityLimiter() {
	// At most two downloads at once; each borrower holds one token.
	sim.Run(context.Background(), func(ctx context.Context) error {
		limiter := tock.NewCapacityLimiter(2)
		g := tock.NewGroup(ctx)
		for _, file := range []string{"a.zip", "b.zip", "c.zip"} {
			g.Go(func(ctx context.Context) error {
				if err := limiter.Acquire(ctx); err != nil {
					return err
				}
				defer limiter.Release(ctx)
				fmt.Printf("%s: downloading at +%v\n", file, tock.Now(ctx).Sub(sim.DefaultStart))
				return tock.Sleep(ctx, 10*time.Second)
			})
		}
		return g.Wait()
	})
	// Output:
	// a.zip: downloading at +0s
	// b.zip: downloading at +0s
	// c.zip: downloading at +10s
}

// A borrower already waiting for a token cannot queue a second time.
func TestCapacityLimiterBorrowerWaitsOnce(t *testing.T) {
	checkLeaks(t)
	_, err := runSim(func(ctx context.Context, h *H) error {
		l := tock.NewCapacityLimiter(0)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return l.AcquireFor(ctx, "job") })
		h.WaitUntil(ctx, "queued", func() bool { return l.Stats().Waiting == 1 })
		expectPanic(t, "tock: CapacityLimiter.AcquireFor: this borrower is already waiting for a token", func() { l.AcquireFor(ctx, "job") })
		expectPanic(t, "tock: CapacityLimiter.TryAcquireFor: this borrower is already waiting for a token", func() { l.TryAcquireFor("job") })
		l.SetTotal(1) // the limiter still works: the first wait is served
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A borrower whose wait was cancelled, or whose wait panicked (a refused
// park), may wait again: the limiter forgets a wait once it is over, without
// scanning its queue; a stale wait that ends after the borrower waits again
// does not make the limiter forget the new wait.
func TestCapacityLimiterWaitIsForgotten(t *testing.T) {
	checkLeaks(t)
	_, err := runSim(func(ctx context.Context, h *H) error {
		l := tock.NewCapacityLimiter(0)
		// a wait refused at the park: a task-less ctx inside a simulated task
		expectPanic(t, "tock: CapacityLimiter.Acquire: a blocking call with a ctx that carries no tock task", func() {
			l.AcquireFor(context.Background(), "job") //tockvet:ignore the misuse under test: a task-less ctx inside a simulated task
		})
		if st := l.Stats(); st.Waiting != 0 {
			t.Errorf("a refused wait left %d waiters", st.Waiting)
		}
		l.SetTotal(1)
		if err := l.AcquireFor(ctx, "holder"); err != nil {
			return err
		}
		g := tock.NewGroup(ctx)
		// a wait cancelled by its context
		wctx, cancel := tock.WithCancel(ctx)
		g.Go(func(context.Context) error {
			if err := l.AcquireFor(wctx, "job"); !errors.Is(err, context.Canceled) { //tockvet:ignore a ctx the test cancels from outside the task
				t.Errorf("cancelled wait: %v", err)
			}
			return nil
		})
		h.WaitUntil(ctx, "queued", func() bool { return l.Stats().Waiting == 1 })
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, time.Second) // main waits for "job" now; the stale wait has ended
			expectPanic(t, "tock: CapacityLimiter.AcquireFor: this borrower is already waiting for a token", func() { l.AcquireFor(ctx, "job") })
			l.ReleaseFor("holder")
			return nil
		})
		cancel()
		// the same borrower waits again at once, its stale wait still queued
		if err := l.AcquireFor(ctx, "job"); err != nil {
			return err
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if st := l.Stats(); st.Borrowed != 1 || fmt.Sprint(st.Borrowers) != "[job]" || st.Waiting != 0 {
			t.Errorf("after the grant: %+v", st)
		}
		expectPanic(t, "tock: CapacityLimiter.AcquireFor: this borrower already holds one of the limiter's tokens", func() { l.AcquireFor(ctx, "job") })
		l.ReleaseFor("job")
		if err := l.AcquireFor(ctx, "job"); err != nil { // and once more, now that nobody waits
			return err
		}
		l.ReleaseFor("job")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Past the borrowers searched by a scan, the index keeps every holder
// findable through any order of acquires and releases, and Stats lists
// them in the order they got their token.
func TestCapacityLimiterManyBorrowers(t *testing.T) {
	ctx := context.Background()
	l := tock.NewCapacityLimiter(tock.Unlimited)
	var model []int
	rnd := rand.New(rand.NewPCG(1, 2))
	for step := 0; step < 3000; step++ {
		if len(model) > 0 && (rnd.IntN(2) == 0 || len(model) > 40) {
			i := rnd.IntN(len(model))
			l.ReleaseFor(model[i])
			model = append(model[:i], model[i+1:]...)
		} else {
			b := step
			if !l.TryAcquireFor(b) {
				t.Fatalf("step %d: TryAcquireFor refused with no limit", step)
			}
			model = append(model, b)
		}
		if step%97 == 0 || len(model) == 0 {
			got := l.Stats().Borrowers
			if len(got) != len(model) {
				t.Fatalf("step %d: %d borrowers, want %d", step, len(got), len(model))
			}
			for i := range model {
				if got[i] != any(model[i]) {
					t.Fatalf("step %d: borrowers %v, want %v", step, got, model)
				}
			}
		}
	}
	for _, b := range model {
		expectPanic(t, "tock: CapacityLimiter.AcquireFor: this borrower already holds one of the limiter's tokens", func() { l.AcquireFor(ctx, b) })
		l.ReleaseFor(b)
	}
	if l.Borrowed() != 0 {
		t.Fatalf("borrowed %d after releasing all", l.Borrowed())
	}
	expectPanic(t, "tock: CapacityLimiter.ReleaseFor: this borrower holds none of the limiter's tokens", func() { l.ReleaseFor(0) })
}

// A task borrower (Acquire's default) already waiting for a token cannot
// queue a second time either: a goroutine sharing the task's ctx waits, and
// the task's own Acquire and TryAcquire are refused; once that wait is
// cancelled, or served and released, the task may borrow again.
func TestCapacityLimiterTaskBorrowerWaitsOnce(t *testing.T) {
	checkLeaks(t)
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		l := tock.NewCapacityLimiter(0)
		res := tock.NewQueue[error]()
		// result is the goroutine's Acquire's error, waited for at most 10 s.
		result := func(what string) error {
			bctx, stop := tock.WithTimeout(ctx, 10*time.Second)
			defer stop()
			err, gerr := res.Get(bctx)
			if gerr != nil {
				t.Fatalf("%s: %v", what, gerr)
			}
			return err
		}
		for _, cancelIt := range []bool{true, false} {
			wctx, cancel := context.WithCancel(ctx)
			go func() { res.Put(ctx, l.Acquire(wctx)) }() //tockvet:ignore a goroutine sharing the task's ctx is the case under test
			deadline := tock.Now(ctx).Add(10 * time.Second)
			for l.Stats().Waiting != 1 {
				if tock.Now(ctx).After(deadline) {
					t.Fatal("the goroutine's Acquire did not queue")
				}
				tock.Sleep(ctx, time.Millisecond)
			}
			expectPanic(t, "tock: CapacityLimiter.Acquire: this borrower is already waiting for a token", func() {
				// bounded: a second wait that is not refused times out
				tctx, stop := tock.WithTimeout(ctx, 5*time.Second)
				defer stop()
				l.Acquire(tctx)
			})
			expectPanic(t, "tock: CapacityLimiter.TryAcquire: this borrower is already waiting for a token", func() { l.TryAcquire(ctx) })
			if cancelIt {
				cancel()
				if err := result("cancelled Acquire"); !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled Acquire: %v", err)
				}
			} else {
				l.SetTotal(1)
				if err := result("served Acquire"); err != nil {
					t.Fatalf("served Acquire: %v", err)
				}
				l.Release(ctx)
				l.SetTotal(0)
				cancel()
			}
			// the wait is over: the task is not refused (the limiter is
			// full, so TryAcquire fails)
			if l.TryAcquire(ctx) {
				t.Fatal("TryAcquire succeeded on a full limiter")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A task borrower's Acquire and Release take a shorter path while the
// limiter has a free token, nobody waits and no monitor watches, and while
// few enough borrowers hold tokens that they are found by a scan. The same
// rules hold on it as on the long path: a second Acquire of a holding task
// is refused (alone, behind another holder, and once the limiter has
// indexed its borrowers because more than eight held at once), and a
// holder indexed on the long path is released from the index too.
func TestCapacityLimiterTaskFastPath(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		const holds = "tock: CapacityLimiter.Acquire: this borrower already holds one of the limiter's tokens"
		l := tock.NewCapacityLimiter(16)
		// cycle borrows and returns the task's token n times, and checks
		// that it is refused a second one while it holds it, with want
		// borrowers holding before it.
		cycle := func(stage string, want int) {
			for i := 0; i < 3; i++ {
				if err := l.Acquire(ctx); err != nil {
					t.Fatalf("%s: Acquire: %v", stage, err)
				}
				s := l.Stats()
				if s.Borrowed != want+1 || len(s.Borrowers) != want+1 {
					t.Fatalf("%s: after Acquire %+v, want %d borrowers", stage, s, want+1)
				}
				if _, isInt := s.Borrowers[want].(int); isInt {
					t.Fatalf("%s: the task is not the newest borrower: %v", stage, s.Borrowers)
				}
				expectPanic(t, holds, func() { l.Acquire(ctx) })
				l.Release(ctx)
				if got := l.Borrowed(); got != want {
					t.Fatalf("%s: after Release %d borrowed, want %d", stage, got, want)
				}
			}
		}
		cycle("alone", 0)
		l.AcquireFor(ctx, 0)
		cycle("behind a holder", 1)
		for i := 1; i <= 8; i++ { // nine holders: the limiter indexes them
			l.AcquireFor(ctx, i)
		}
		cycle("beside nine indexed holders", 9)
		for i := 0; i <= 8; i++ {
			l.ReleaseFor(i)
		}
		cycle("indexed, the others gone", 0)
		l.AcquireFor(ctx, 100)
		cycle("indexed, behind a holder", 1)
		l.ReleaseFor(100)
		expectPanic(t, "tock: CapacityLimiter.Release: this borrower holds none of the limiter's tokens", func() { l.Release(ctx) })
		return nil
	})
}
