package internal

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// grantNext grants the next waiter of q from another goroutine, once one is
// queued; the returned channel reports whether it did.
func grantNext[T any](t *testing.T, mu *sync.Mutex, q *Queue[T]) <-chan bool {
	done := make(chan bool, 1)
	go func() {
		ok := waitQueued(t, mu, q, 1)
		if ok {
			mu.Lock()
			w := q.PopLive()
			if w != nil {
				w.Grant()
			}
			mu.Unlock()
			ok = w != nil
		}
		done <- ok
	}()
	return done
}

// blockOnce queues a waiter on q and parks it with ctx.
func blockOnce(ctx context.Context, mu *sync.Mutex, q *Queue[int]) error {
	mu.Lock()
	_, err := Block(ctx, Decode(ctx), mu, q, 0, "test")
	return err
}

// derivedTestKey is the key of the derived contexts of the watcher tests.
type derivedTestKey struct{}

// A ctx derived from a real task's with a cancellation of its own gets a
// watcher of its own at the armAfter-th park in a row with it (before that,
// its parks select), its cancellation reaches the park there, a ctx the
// task then parks with armAfter times replaces it (the old one is retired:
// its AfterFunc stopped), and the task's end retires the last one.
//
// It runs over a parent that can be cancelled (the task's own watcher
// watches it) and over context.Background() (the task's ctx is never done:
// its watcher watches nothing, and holds the derived one).
func TestRealDerivedWatcherArmedReplacedRetired(t *testing.T) {
	t.Run("cancellable", func(t *testing.T) {
		parent, cancelParent := context.WithCancel(context.Background())
		defer cancelParent()
		testDerivedWatcherArmedReplacedRetired(t, parent)
	})
	t.Run("never done", func(t *testing.T) { testDerivedWatcherArmedReplacedRetired(t, context.Background()) })
}

func testDerivedWatcherArmedReplacedRetired(t *testing.T, parent context.Context) {
	var mu sync.Mutex
	var q Queue[int]
	type report struct {
		err  error
		w, d *watcher
	}
	reports := make(chan report, 1)
	fail := func(err error) { reports <- report{err: err} }
	var old, last *watcher
	var cancel2 context.CancelFunc
	{
		spawnFn(Real, parent, "", func(ctx context.Context) {
			c := ctx.(*taskCtx)
			d1, cancel1 := context.WithCancel(ctx)
			defer cancel1()
			for i := 1; i <= armAfter; i++ {
				var g <-chan bool
				if i < armAfter {
					g = grantNext(t, &mu, &q)
				} else {
					// this park is the one that arms: it is granted once
					// it is seen in the new watcher's slot
					armed := make(chan bool, 1)
					g = armed
					go func() {
						ok := waitFor(t, "a park in the derived watcher's slot", func() bool {
							w := c.watch.Load()
							if w == nil || w == noWatch {
								return false
							}
							d := w.derived.Load()
							return d != nil && d.parked.Load() != nil
						})
						mu.Lock()
						if w := q.PopLive(); w != nil {
							w.Grant()
						}
						mu.Unlock()
						armed <- ok
					}()
				}
				if err := blockOnce(d1, &mu, &q); err != nil {
					fail(err)
					return
				}
				if !<-g {
					fail(errors.New("the arming park was not seen in the derived watcher's slot"))
					return
				}
				w := c.watch.Load()
				if got := w.derived.Load() != nil; got != (i == armAfter) {
					fail(errors.New("derived watcher armed after the wrong number of parks"))
					return
				}
			}
			w := c.watch.Load()
			old = w.derived.Load()
			// its cancellation reaches a park in it
			go func() {
				if waitQueued(t, &mu, &q, 1) && waitFor(t, "the park in the derived watcher's slot", func() bool { return old.parked.Load() != nil }) {
					cancel1()
				}
			}()
			if err := blockOnce(d1, &mu, &q); !errors.Is(err, context.Canceled) {
				fail(errors.New("a park in the derived watcher was not ended by its ctx's cancellation: " + errString(err)))
				return
			}
			// another ctx, armAfter parks: it replaces the first
			// (not cancelled before the task ends: the end must stop its
			// watcher's AfterFunc)
			var d2 context.Context
			d2, cancel2 = context.WithTimeout(ctx, time.Hour)
			for i := 1; i <= armAfter; i++ {
				g := grantNext(t, &mu, &q)
				if err := blockOnce(d2, &mu, &q); err != nil {
					fail(err)
					return
				}
				<-g
			}
			last = w.derived.Load()
			reports <- report{w: w, d: last}
		})
	}
	r := recvBounded(t, reports, "the task")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.d == nil || r.d == old || r.d.done == old.done {
		t.Fatal("the second derived ctx did not replace the first one's watcher")
	}
	if !old.ended.Load() || old.stop() {
		t.Error("the replaced derived watcher was not retired (its AfterFunc is still registered)")
	}
	// the task returns after its report, and its end retires the derived
	// watcher: stopped, so that stop reports false (d2 is not cancelled
	// yet, so the AfterFunc has not run)
	if !waitFor(t, "the task's end", func() bool { return last.ended.Load() }) {
		t.Fatal("the task's end did not retire its derived watcher")
	}
	if last.stop() {
		t.Error("the task's end did not stop its derived watcher's AfterFunc")
	}
	cancel2()
	if q.Len() != 0 {
		t.Errorf("%d waiters left queued", q.Len())
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// A grant racing with a derived ctx's cancellation, the park in that ctx's
// own watcher: exactly the granted waits succeed, and the parker is left
// empty for the next park.
func TestRealDerivedWatcherGrantRacesCancel(t *testing.T) {
	const rounds = 200
	granted, succeeded := 0, 0
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	for i := 0; i < rounds; i++ {
		var mu sync.Mutex
		var q Queue[int]
		res := make(chan error, 1)
		cancels := make(chan context.CancelFunc, 1)
		spawnFn(Real, parent, "", func(ctx context.Context) {
			d, cancel := context.WithCancel(ctx)
			defer cancel()
			// the next park with d arms its watcher
			w := ctx.(*taskCtx).watcher()
			w.last.Store(chanID(d.Done()))
			w.runs.Store(armAfter - 1)
			cancels <- cancel
			err := blockOnce(d, &mu, &q)
			if err == nil || errors.Is(err, context.Canceled) {
				if dw := w.derived.Load(); dw == nil || dw.done != d.Done() {
					err = errors.New("the park did not arm the derived ctx's watcher")
				} else if sp := q.spare.Load(); sp == nil {
					err = errors.New("the waiter was not kept for reuse")
				} else if sp.sig.pending() != 0 {
					err = errors.New("a stale signal left in the parker")
				}
			}
			res <- err
		})
		cancel := recvBounded(t, cancels, "the task's start")
		if raceGrant(t, i, &mu, &q, cancel) {
			granted++
		}
		if err := recvBounded(t, res, "park"); err == nil {
			succeeded++
		} else if !errors.Is(err, context.Canceled) {
			t.Fatalf("park: %v", err)
		}
	}
	if granted != succeeded {
		t.Fatalf("%d grants, %d successful waits", granted, succeeded)
	}
}

// A derived ctx whose cancellation cannot be watched without a goroutine is
// never armed, however often the task parks with it: its parks select, and
// its cancellation still ends them.
func TestRealDerivedUnwatchableNotArmed(t *testing.T) {
	var mu sync.Mutex
	var q Queue[int]
	res := make(chan error, 1)
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	d := make(chan struct{})
	last := make(chan bool, 1) // the task's last park is next
	spawnFn(Real, parent, "", func(ctx context.Context) {
		own := &ownDoneCtx{Context: ctx, done: d} // a ctx of the user's own type
		w := ctx.(*taskCtx).watcher()
		for i := 0; i < 2*armAfter; i++ {
			g := grantNext(t, &mu, &q)
			if err := blockOnce(own, &mu, &q); err != nil {
				res <- err
				return
			}
			<-g
		}
		if w.derived.Load() != nil {
			res <- errors.New("a watcher was armed for a ctx of the user's own type")
			return
		}
		last <- true
		res <- blockOnce(own, &mu, &q)
	})
	select {
	case <-last:
	case err := <-res:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("the task's parks did not end within 10 s")
	}
	mustQueue(t, &mu, &q, 1)
	close(d)
	if err := recvBounded(t, res, "park"); !errors.Is(err, context.Canceled) {
		t.Fatalf("park: %v, want context.Canceled", err)
	}
}
