package internal

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitQueued polls, bounded, until q holds n waiters; past the bound it
// reports an error and returns false. It may be called from any goroutine
// (it does not stop the test: see mustQueue for the test's own goroutine).
func waitQueued[T any](t *testing.T, mu *sync.Mutex, q *Queue[T], n int) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		l := q.Len()
		mu.Unlock()
		if l >= n {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("%d waiters queued, want %d", l, n)
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// mustQueue is waitQueued that stops the test; call it from the test's
// goroutine only.
func mustQueue[T any](t *testing.T, mu *sync.Mutex, q *Queue[T], n int) {
	t.Helper()
	if !waitQueued(t, mu, q, n) {
		t.FailNow()
	}
}

// spawnFn is rt.Spawn for a task function with no result and no TaskEnd
// (a panic of fn is the runtime's).
func spawnFn(rt Runtime, parent context.Context, name string, fn func(ctx context.Context)) *Task {
	return rt.Spawn(parent, name, func(ctx context.Context) error { fn(ctx); return nil }, nil)
}

// waitFor polls cond, bounded, from any goroutine; past the bound it
// reports what did not happen and returns false.
func waitFor(t *testing.T, what string, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("%s: not within 10 s", what)
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

// slotTaken reports whether a park with c is in its watcher's slot.
func slotTaken(c *taskCtx) bool {
	w := c.watch.Load()
	return w != nil && w != noWatch && w.parked.Load() != nil
}

// goroutineDump is every goroutine's stack (up to 1 MiB of it).
func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// stackHas reports whether some goroutine's stack has a frame of fn (a
// function's name as a goroutine dump prints it).
func stackHas(fn string) bool { return strings.Contains(goroutineDump(), fn) }

// recvBounded receives from ch within 10 s.
func recvBounded[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no result within 10 s", what)
		panic("unreachable")
	}
}

// A real task parked with its own ctx is cancelled by its watcher: the park
// is in the watcher's slot (a receive on its parker alone), and the
// cancellation of the task's parent ends it with the cause's error. So is
// a park with a ctx derived from the task's with no cancellation of its
// own (context.WithValue): it parks in the task's watcher too.
func TestRealWatcherDeliversCancellation(t *testing.T) {
	for _, k := range []struct {
		name string
		wrap func(context.Context) context.Context
	}{
		{"task ctx", func(ctx context.Context) context.Context { return ctx }},
		{"WithValue", func(ctx context.Context) context.Context { return context.WithValue(ctx, derivedTestKey{}, 1) }},
	} {
		t.Run(k.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			var q Queue[int]
			res := make(chan error, 1)
			inSlot := make(chan bool, 1)
			spawnFn(Real, parent, "", func(ctx context.Context) {
				c := ctx.(*taskCtx)
				go func() {
					inSlot <- waitQueued(t, &mu, &q, 1) && waitFor(t, "a park in the watcher's slot", func() bool { return slotTaken(c) })
					cancel()
				}()
				ctx = k.wrap(ctx)
				mu.Lock()
				_, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
				res <- err
			})
			if !recvBounded(t, inSlot, "slot") {
				t.Errorf("the park is not in the task's watcher's slot")
			}
			if err := recvBounded(t, res, "park"); !errors.Is(err, context.Canceled) {
				t.Fatalf("park returned %v, want context.Canceled", err)
			}
			if q.Len() != 0 {
				t.Errorf("%d waiters left queued", q.Len())
			}
		})
	}
}

// A grant racing with the watcher's cancellation: exactly the granted waits
// succeed (the wake-up wins, nothing is lost), and each task's parker is
// left empty, so that its next park (granted, not cancelled) works.
func TestRealWatcherGrantRacesCancel(t *testing.T) {
	const rounds = 300
	granted, succeeded := 0, 0
	for i := 0; i < rounds; i++ {
		parent, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		var q Queue[int]
		res := make(chan error, 2)
		spawnFn(Real, parent, "", func(ctx context.Context) {
			c := Decode(ctx)
			mu.Lock()
			_, err := Block(ctx, c, &mu, &q, 0, "test")
			// The waiter went back to q's spare: its parker must be
			// empty (a granted wait's signal received or drained, and
			// the watcher's too), or the next park would wake at once.
			if w := q.spare.Load(); w == nil {
				err = errors.New("the waiter was not kept for reuse")
			} else if w.sig.pending() != 0 {
				err = errors.New("a stale signal left in the parker")
			}
			res <- err
			// The ctx is cancelled now: a second wait fails at once
			// (nothing is granted).
			mu.Lock()
			v, err := Block(ctx, c, &mu, &q, 0, "test")
			if v != 0 {
				err = errors.New("a stale grant's value")
			}
			if err == nil {
				err = errors.New("second park succeeded with nothing granted")
			}
			res <- err
		})
		if raceGrant(t, i, &mu, &q, cancel) {
			granted++
		}
		if err := recvBounded(t, res, "first park"); err == nil {
			succeeded++
		} else if !errors.Is(err, context.Canceled) {
			t.Fatalf("first park: %v", err)
		}
		if err := recvBounded(t, res, "second park"); !errors.Is(err, context.Canceled) {
			t.Fatalf("second park: %v", err)
		}
	}
	if granted != succeeded {
		t.Fatalf("%d grants, %d successful waits", granted, succeeded)
	}
}

// raceGrant grants q's queued waiter from another goroutine while cancel
// cancels the waiter's ctx (round i picks a small delay before the
// cancel), and reports whether the grant found the waiter live.
func raceGrant(t *testing.T, i int, mu *sync.Mutex, q *Queue[int], cancel func()) bool {
	t.Helper()
	mustQueue(t, mu, q, 1)
	done := make(chan bool)
	go func() {
		mu.Lock()
		ok := false
		if w := q.PopLive(); w != nil {
			ok = true
			w.Grant()
		}
		mu.Unlock()
		done <- ok
	}()
	if i%2 == 0 {
		time.Sleep(time.Duration(i%7) * time.Microsecond)
	}
	cancel()
	return recvBounded(t, done, "grant")
}

// Goroutines that share a task's ctx park at the same time: one takes the
// watcher's slot, the others select; the cancellation reaches all. A
// goroutine that outlives its task, parked when the task ends, keeps the
// watcher, so the cancellation reaches it too.
func TestRealWatcherSharedAndOutliving(t *testing.T) {
	const n = 4
	parent, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var q Queue[int]
	res := make(chan error, n)
	ended := make(chan *taskCtx, 1)
	spawnFn(Real, parent, "", func(ctx context.Context) {
		for i := 0; i < n; i++ {
			go func() {
				mu.Lock()
				_, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
				res <- err
			}()
		}
		c := ctx.(*taskCtx)
		// All queued, and one of them parked in the watcher's slot: it
		// outlives the task (the others select, or reach the slot later)
		waitQueued(t, &mu, &q, n)
		waitFor(t, "a park in the watcher's slot", func() bool { return slotTaken(c) })
		ended <- c // the task returns; the goroutines stay parked
	})
	c := recvBounded(t, ended, "task")
	if !waitFor(t, "the task's end", func() bool { return c.watch.Load() == noWatch }) {
		t.FailNow()
	}
	cancel()
	for i := 0; i < n; i++ {
		if err := recvBounded(t, res, "park"); !errors.Is(err, context.Canceled) {
			t.Fatalf("park %d returned %v, want context.Canceled", i, err)
		}
	}
}

// A task's watcher is stopped when the task ends with no park under way:
// its AfterFunc is no longer registered with the parent (no leak in a
// long-lived group), and later parks with the ctx still see cancellation.
func TestRealWatcherEndsWithTask(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var q Queue[int]
	ctxc := make(chan *taskCtx, 1)
	watch := make(chan *watcher, 1)
	fn := func(ctx context.Context) {
		go func() {
			if !waitQueued(t, &mu, &q, 1) {
				return
			}
			mu.Lock()
			q.PopLive().Grant()
			mu.Unlock()
		}()
		mu.Lock()
		Block(ctx, Decode(ctx), &mu, &q, 0, "test")
		c := ctx.(*taskCtx)
		watch <- c.watch.Load()
		ctxc <- c
	}
	// The task runs as Real.Spawn runs it (runReal, whose deferred end
	// swaps the watcher out and then stops it), in a goroutine that says
	// when that end has returned.
	id := nextTaskID.add()
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		runReal(newRealCtx(parent, Call{RT: Real, Task: &Task{ID: id, num: id}}), func(ctx context.Context) error { fn(ctx); return nil }, nil)
	}()
	w := recvBounded(t, watch, "task")
	c := recvBounded(t, ctxc, "task")
	if w == nil || w == noWatch {
		t.Fatalf("the task's park armed no watcher")
	}
	recvBounded(t, ended, "the task's end")
	if c.watch.Load() != noWatch {
		t.Fatalf("the watcher was not ended with the task")
	}
	if w.stop() {
		t.Errorf("the ended task's watcher was still registered")
	}
	// A goroutine left with the ended task's ctx parks by select.
	res := make(chan error, 1)
	go func() {
		mu.Lock()
		_, err := Block(context.Context(c), Decode(c), &mu, &q, 0, "test")
		res <- err
	}()
	mustQueue(t, &mu, &q, 1)
	cancel()
	if err := recvBounded(t, res, "park"); !errors.Is(err, context.Canceled) {
		t.Fatalf("park returned %v, want context.Canceled", err)
	}
}

// A park under way with a task's ctx when the task ends keeps the
// watcher registered while it lasts (so it still sees a cancellation), and
// the park stops the watcher when it returns: no registration is left on
// the parent, however long it lives.
func TestRealWatcherStoppedAfterOutlivingPark(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var q Queue[int]
	res := make(chan error, 1)
	got := make(chan [2]any, 1)
	spawnFn(Real, parent, "", func(ctx context.Context) {
		c := ctx.(*taskCtx)
		go func() {
			mu.Lock()
			_, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
			res <- err
		}()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if slotTaken(c) {
				w := c.watch.Load()
				got <- [2]any{c, w}
				return // the task ends with the park under way
			}
			if time.Now().After(deadline) {
				got <- [2]any{c, nil}
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	var g [2]any
	select {
	case g = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the task did not report its watcher")
	}
	c, w := g[0].(*taskCtx), g[1]
	if w == nil {
		t.Fatal("the goroutine's park never entered the watcher's slot")
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.watch.Load() != noWatch {
		if time.Now().After(deadline) {
			t.Fatal("the task's end did not retire its watcher")
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	q.PopLive().Grant()
	mu.Unlock()
	if err := recvBounded(t, res, "park"); err != nil {
		t.Fatalf("granted park returned %v", err)
	}
	if w.(*watcher).stop() {
		t.Error("the watcher was still registered with the parent after the outliving park returned")
	}
}

// ownDoneCtx is a context of a user's own type: a Done channel of its own,
// no AfterFunc, no standard-library cancelCtx to find.
type ownDoneCtx struct {
	context.Context // for Deadline and Value
	done            chan struct{}
}

func (c *ownDoneCtx) Done() <-chan struct{} { return c.done }
func (c *ownDoneCtx) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

// A task nested under another task over a context of the user's own type
// has no watcher (registering one would cost a goroutine per watcher, in
// context.AfterFunc): its parks select, and still see the cancellation.
func TestRealWatcherNotOverCustomDone(t *testing.T) {
	root := &ownDoneCtx{Context: context.Background(), done: make(chan struct{})}
	var mu sync.Mutex
	var q Queue[int]
	res := make(chan error, 1)
	watch := make(chan *watcher, 1)
	spawnFn(Real, root, "", func(outer context.Context) {
		spawnFn(Real, outer, "", func(ctx context.Context) {
			c := ctx.(*taskCtx)
			go func() {
				// the watcher is decided at the park, after the waiter
				// is queued
				waitQueued(t, &mu, &q, 1)
				waitFor(t, "the park's watcher", func() bool { return c.watch.Load() != nil })
				watch <- c.watch.Load()
				close(root.done)
			}()
			mu.Lock()
			_, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
			res <- err
		})
	})
	if w := recvBounded(t, watch, "watcher"); w != noWatch {
		t.Errorf("the nested task's watcher is %p, want noWatch (its parent's cancellation cannot be watched without a goroutine)", w)
	}
	if err := recvBounded(t, res, "park"); !errors.Is(err, context.Canceled) {
		t.Fatalf("park returned %v, want context.Canceled", err)
	}
}

// The worst order of the race, made to happen: the granter pops the waiter
// while its ctx is live, the ctx is cancelled (the watcher signals the
// park), and only then the grant signals too. The wait succeeds (the grant
// wins) and the parker is left empty: the second signal was drained.
func TestRealWatcherCancelThenGrant(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var q Queue[int]
	res := make(chan error, 1)
	spawnFn(Real, parent, "", func(ctx context.Context) {
		c := ctx.(*taskCtx)
		go func() {
			if !waitQueued(t, &mu, &q, 1) || !waitFor(t, "a park in the watcher's slot", func() bool { return slotTaken(c) }) {
				return
			}
			wt := c.watch.Load()
			mu.Lock()
			w := q.PopLive()
			cancel() // the watcher's AfterFunc runs on a goroutine of its own:
			if !waitFor(t, "the watcher taking the park", func() bool { return wt.parked.Load() == nil }) {
				mu.Unlock()
				return
			}
			w.Val = 7
			w.Grant()
			mu.Unlock()
		}()
		mu.Lock()
		v, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
		if err == nil && v != 7 {
			err = errors.New("the granted value was lost")
		}
		if w := q.spare.Load(); err == nil && (w == nil || w.sig.pending() != 0) {
			err = errors.New("a stale signal left in the parker (or the waiter not kept)")
		}
		res <- err
	})
	if err := recvBounded(t, res, "park"); err != nil {
		t.Fatalf("park: %v (the grant came before the wait ended, so it wins)", err)
	}
}

// A waiter handed its grant under the lock (Hand) and woken only after the
// lock is released (Wake), as Lock.Unlock and CapacityLimiter.Release do:
// its ctx cancelled in between, after the watcher took the park, the wait
// still cannot end before the wake (the grant wins: abandon drains the
// wake's signal), and it ends with the handed value, no stale signal left
// in the reused waiter's parker. The test sequences on the waiter's
// goroutine being blocked in the drain (a goroutine dump), not on time.
// Real runtime only: a simulated granter runs no other task between its
// unlock and its wake, so the interleaving cannot happen there (the
// conformance table covers Lock and CapacityLimiter under both runtimes).
func TestRealHandCancelThenWake(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var q Queue[int]
	res := make(chan error, 1)
	woke := make(chan struct{})
	spawnFn(Real, parent, "", func(ctx context.Context) {
		c := ctx.(*taskCtx)
		go func() {
			defer close(woke)
			if !waitQueued(t, &mu, &q, 1) || !waitFor(t, "a park in the watcher's slot", func() bool { return slotTaken(c) }) {
				return
			}
			wt := c.watch.Load()
			mu.Lock()
			w := q.PopLive()
			w.Val = 7
			w.Hand()
			mu.Unlock()
			cancel()
			if !waitFor(t, "the watcher taking the park", func() bool { return wt.parked.Load() == nil }) {
				w.Wake()
				return
			}
			// the waiter, woken by the watcher, finds its grant and
			// waits in drain for the grant's signal; its wait must not
			// end before that
			if !waitFor(t, "the granted waiter waiting for the wake (in Parker.drain)", func() bool {
				select {
				case err := <-res:
					t.Errorf("the wait ended (%v) before the grant's wake", err)
					res <- err
					return true
				default:
				}
				return stackHas("internal.(*Parker).drain")
			}) {
				w.Wake()
				return
			}
			w.Wake()
		}()
		mu.Lock()
		v, err := Block(ctx, Decode(ctx), &mu, &q, 0, "test")
		if err == nil && v != 7 {
			err = errors.New("the handed value was lost")
		}
		res <- err
	})
	recvBounded(t, woke, "the granter") // which looks at res first
	if err := recvBounded(t, res, "park"); err != nil {
		t.Fatalf("park: %v (the grant came before the cancellation, so it wins)", err)
	}
	if w := q.spare.Load(); w == nil || w.sig.pending() != 0 {
		t.Fatalf("a stale signal left in the parker (or the waiter not kept): %v", w)
	}
}

// A park with a task's ctx that is already cancelled when p enters the
// watcher's slot, whose watcher takes p out of the slot before the park
// can: the park receives the watcher's signal and returns the ctx's error,
// leaving p's channel empty and the slot free. The hook runs the watcher's
// fire itself at that point (the AfterFunc, registered on a parent already
// cancelled, may have run before p entered the slot and found it empty).
func TestRealWatcherTakesSlotOfCancelledPark(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	cancel()
	type result struct {
		err     error
		left    int  // signals left in p's channel
		inSlot  bool // a park still in the watcher's slot
		reached bool // the hook ran
		armed   bool // the park armed a watcher
	}
	res := make(chan result, 1)
	spawnFn(Real, parent, "", func(ctx context.Context) {
		c := ctx.(*taskCtx)
		var reached atomic.Bool
		hook := func() {
			reached.Store(true)
			c.watch.Load().fire() // c's Err is set: the watcher may fire
		}
		testHookParkEnding.Store(&hook)
		defer testHookParkEnding.Store(nil)
		var p Parker
		if err := Real.Prepare(&p, "test"); err != nil {
			res <- result{err: err}
			return
		}
		err := Real.Park(ctx, &p, "test")
		w := c.watch.Load()
		res <- result{
			err:     err,
			left:    p.sig.pending(),
			inSlot:  slotTaken(c),
			reached: reached.Load(),
			armed:   w != nil && w != noWatch,
		}
	})
	r := recvBounded(t, res, "park")
	if !r.armed {
		t.Fatal("the park armed no watcher")
	}
	if !r.reached {
		t.Fatal("the park did not take the path of a ctx already cancelled in the watcher's slot")
	}
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("park returned %v, want context.Canceled", r.err)
	}
	if r.left != 0 {
		t.Errorf("%d signals left in the parker, want 0 (the watcher's was not received)", r.left)
	}
	if r.inSlot {
		t.Error("a park left in the watcher's slot")
	}
}

// errCountCtx counts the calls of its Err.
type errCountCtx struct {
	context.Context
	n *int
}

func (c errCountCtx) Err() error { *c.n++; return c.Context.Err() }

// A real task's ctx over a parent that is never done (context.Background(),
// context.TODO(), a task's ctx over one) answers Err without asking the
// parent, through Err and through its own method; over a parent that can
// be cancelled it asks the parent every time, and so reports the parent's
// cancellation at once.
func TestRealTaskCtxErrOfNeverDoneParent(t *testing.T) {
	for _, parent := range []context.Context{context.Background(), context.TODO(), WithTask(context.Background(), &Task{ID: 9})} {
		never := WithTask(parent, &Task{ID: 1})
		if !never.(*taskCtx).never {
			t.Errorf("a task ctx over %T is not marked never done", parent)
		}
		if err := Err(never); err != nil {
			t.Errorf("Err over %T: %v, want nil", parent, err)
		}
	}
	// a never-done task ctx is answered without its parent's Err (were the
	// flag set here, over a parent that counts, no call would reach it)
	n := 0
	counted := &taskCtx{Context: errCountCtx{context.Background(), &n}, Call: Call{RT: Real, Task: &Task{ID: 1}}, real: true, never: true}
	if err := Err(counted); err != nil || n != 0 {
		t.Errorf("Err of a never-done task ctx: %v, with %d calls of the parent's Err, want nil with none", err, n)
	}
	if err := counted.Err(); err != nil || n != 0 {
		t.Errorf("ctx.Err of a never-done task ctx: %v, with %d calls of the parent's Err, want nil with none", err, n)
	}
	if WithTask(errCountCtx{context.Background(), &n}, &Task{ID: 1}).(*taskCtx).never {
		t.Error("a task ctx over a parent of the user's own type is marked never done (its methods were not asked)")
	}

	parent, cancel := context.WithCancel(context.Background())
	m := 0
	live := WithTask(errCountCtx{parent, &m}, &Task{ID: 2})
	if err := Err(live); err != nil || m != 1 {
		t.Errorf("Err over a live cancellable parent: %v, with %d calls of the parent's Err, want nil with 1", err, m)
	}
	cancel()
	if err := Err(live); err != context.Canceled {
		t.Errorf("Err over a cancelled parent: %v, want context.Canceled", err)
	}
	if err := live.Err(); err != context.Canceled {
		t.Errorf("ctx.Err over a cancelled parent: %v, want context.Canceled", err)
	}
}

// donePanicCtx is a context of the user's own type whose Done panics.
type donePanicCtx struct{ context.Context }

func (donePanicCtx) Done() <-chan struct{} { panic("donePanicCtx.Done") }

// A park with a real task's ctx over a parent of the user's own type
// calls the parent's methods (arming the task's watcher asks its Done): a
// panic there is returned as a *ctxPanic, for Block to take the waiter out
// of its queue before raising it. A task context over a standard-library
// context needs no guard (safe), one over the user's type does.
func TestRealParkReturnsCtxPanic(t *testing.T) {
	ctx := WithTask(donePanicCtx{context.Background()}, &Task{ID: 1}).(*taskCtx)
	if ctx.safe {
		t.Fatal("a task ctx over a parent of the user's own type is marked safe")
	}
	var p Parker
	if err := Real.Prepare(&p, "test"); err != nil {
		t.Fatal(err)
	}
	parked := make(chan error, 1)
	go func() { parked <- Real.Park(ctx, &p, "test") }()
	err := recvBounded(t, parked, "the park")
	if cp, ok := err.(*ctxPanic); !ok || cp.v != "donePanicCtx.Done" {
		t.Fatalf("Park: %v, want a *ctxPanic of donePanicCtx.Done", err)
	}
	for _, parent := range []context.Context{context.Background(), context.TODO(), ctx.Context} {
		parent := parent
		if _, ok := parent.(donePanicCtx); ok {
			continue
		}
		c, cancel := context.WithCancel(parent)
		d, cancelD := context.WithTimeout(parent, time.Hour)
		for _, p := range []context.Context{parent, c, d} {
			if !WithTask(p, &Task{ID: 2}).(*taskCtx).safe {
				t.Errorf("a task ctx over %T is not marked safe", p)
			}
		}
		cancel()
		cancelD()
	}
	if WithTask(context.WithValue(context.Background(), &ctxKey{"k"}, 1), &Task{ID: 3}).(*taskCtx).safe {
		t.Error("a task ctx over a WithValue (whose methods ask its parent's) is marked safe")
	}
}

// TestRealIsAPointer: Real holds a *realRuntime, whose methods have pointer
// receivers, so that a primitive's call through the Runtime interface
// reaches them with no wrapper between (see Real).
func TestRealIsAPointer(t *testing.T) {
	if k := reflect.TypeOf(Real).Kind(); k != reflect.Pointer {
		t.Fatalf("Real holds a %v (%T): an interface call would go through the compiler's pointer wrapper", k, Real)
	}
	if _, ok := reflect.TypeOf(Real).Elem().MethodByName("Park"); ok {
		t.Fatalf("realRuntime has value methods: an interface call on Real goes through the compiler's pointer wrapper")
	}
}
