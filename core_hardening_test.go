package tock_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
)

// Adversarial tests of the core primitives (second review).

// advCoreRingSlots is the number of slots of q's buffer, read by reflection
// (the documented bound: with n items buffered, at most max(8, 4n) slots).
func advCoreRingSlots[T any](q *tock.Queue[T]) int {
	return reflect.ValueOf(q).Elem().FieldByName("p").FieldByName("buf").FieldByName("b").Len()
}

// TestCoreHardeningGetWhereKeepsBurstMemory: a Queue documents that "with n
// items buffered it has at most max(8, 4n) slots, so a queue drained after
// a burst gives the burst's memory back". Scenario: put 4096 items, drain
// them with GetWhere (a condition that accepts everything). Expected: the
// ring is back to 8 slots (as after draining with Get). Before the fix: it keeps
// its 4096 slots until a later Get pops. Cause: ring.removeAt (store.go,
// removeAt, line 164) decrements r.n but never does the shrink that
// ring.pop (pipe.go:289-291) does; GetWhere takes every item through
// removeAt (store.go:72).
func TestCoreHardeningGetWhereKeepsBurstMemory(t *testing.T) {
	ctx := context.Background()
	all := func(int) bool { return true }
	for _, name := range []string{"Get", "GetWhere"} {
		q := tock.NewQueue[int]()
		const n = 4096
		for i := 0; i < n; i++ {
			q.Put(ctx, i)
		}
		for i := 0; i < n; i++ {
			var v int
			var err error
			if name == "Get" {
				v, err = q.Get(ctx)
			} else {
				v, err = q.GetWhere(ctx, all)
			}
			if err != nil || v != i {
				t.Fatalf("%s #%d = %d, %v", name, i, v, err)
			}
		}
		if got := advCoreRingSlots(q); got > 8 {
			t.Errorf("drained by %s: the empty queue keeps %d slots; want at most 8 (max(8, 4n))", name, got)
		}
	}
}

// TestCoreHardeningLimiterNaNBorrower: a borrower must identify who holds the
// token (AcquireFor panics on a nil or non-comparable borrower, and on a
// borrower that already holds one). A float NaN passes checkBorrower
// (comparable) but is never equal to itself. Scenario: AcquireFor(NaN)
// twice, then ReleaseFor(NaN). Expected: the programming error is caught
// at AcquireFor (panic naming the rule), or the token can be given back.
// Before the fix: both AcquireFor calls succeed (two tokens for "one" borrower),
// and ReleaseFor panics "holds none": the tokens are lost for good, the
// limiter stays full. Cause: limiter.go:87-95 checkBorrower accepts any
// reflect-comparable value; find (limiter.go:323-334) compares with ==, and the
// index is a map, whose NaN keys can be neither found nor deleted.
func TestCoreHardeningLimiterNaNBorrower(t *testing.T) {
	ctx := context.Background()
	l := tock.NewCapacityLimiter(2)
	nan := math.NaN()
	first := panicOf(func() { l.AcquireFor(ctx, nan) })
	if first != "" {
		return // refused at the call: the rule holds
	}
	second := panicOf(func() {
		c, cancel := context.WithTimeout(ctx, time.Second) //tockvet:ignore real runtime only: bounds a wait that should not happen
		defer cancel()
		l.AcquireFor(c, nan)
	})
	rel := panicOf(func() { l.ReleaseFor(nan) })
	if second == "" || rel != "" {
		t.Errorf("NaN borrower: second AcquireFor panic %q (want the 'already holds' rule), ReleaseFor panic %q (want none); Borrowed=%d of %d, the tokens cannot be returned",
			second, rel, l.Borrowed(), l.Total())
	}
}

// A Condition.Wait at depth 3 comes back at depth 3 whichever way it ends:
// notified, cancelled before any notification, notified and then cancelled
// while queued for the lock behind its notifier. The lock is then fully
// released by three Unlocks, and nobody is left queued.
func TestCoreAdversarialConditionWaitReentrantDepth(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		c := tock.NewCondition(nil)
		for _, mode := range []string{"notified", "cancelled", "notified-then-cancelled"} {
			res := make(chan string, 1)
			g := tock.NewGroup(ctx)
			var cancel context.CancelFunc
			var ready tock.Event
			g.Go(func(ctx context.Context) error {
				wctx, cc := tock.WithCancel(ctx)
				cancel = cc
				ready.Set()
				for i := 0; i < 3; i++ {
					c.Lock(ctx)
				}
				err := c.Wait(wctx)
				st := c.Stats()
				res <- fmt.Sprintf("err=%v owner=%v depth=%d", err, st.Lock.Owner == tock.TaskID(ctx), st.Lock.Depth) //tockvet:ignore res is buffered: the send never blocks
				for i := 0; i < 3; i++ {
					c.Unlock(ctx)
				}
				return nil
			})
			ready.Wait(ctx)
			h.WaitUntil(ctx, "waiter", func() bool { return c.Stats().Waiting == 1 })
			switch mode {
			case "notified":
				c.Lock(ctx)
				c.Notify(ctx, 1)
				c.Unlock(ctx)
			case "cancelled":
				cancel()
			case "notified-then-cancelled":
				c.Lock(ctx)
				c.Notify(ctx, 1)
				cancel()
				h.WaitUntil(ctx, "moved to the lock", func() bool { return c.Stats().Lock.Waiting == 1 })
				c.Unlock(ctx)
			}
			if err := g.Wait(); err != nil {
				return err
			}
			got := <-res //tockvet:ignore the task sent it before g.Wait returned: it never blocks
			want := "err=<nil> owner=true depth=3"
			if mode == "cancelled" {
				want = "err=context canceled owner=true depth=3"
			}
			if got != want {
				t.Errorf("%s: %s; want %s", mode, got, want)
			}
			if st := c.Stats(); st.Waiting != 0 || st.Lock.Waiting != 0 || st.Lock.Locked {
				t.Errorf("%s: left behind %+v", mode, st)
			}
			cancel()
		}
		// still usable
		if !c.Stats().Lock.Locked && c.Lock(ctx) == nil {
			c.Unlock(ctx)
		}
		return nil
	})
}

// A ctx derived with WithValue and WithCancel from a task's ctx is that
// task: it re-enters the task's Lock, unlocks it, waits on its Condition,
// and borrows under the task's name (Release with the plain ctx returns
// the token). A raw goroutine's Background ctx is anonymous: it cannot
// unlock the task's lock.
func TestCoreAdversarialDerivedCtxIsTheTask(t *testing.T) {
	type key struct{}
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		var l tock.Lock
		vctx := context.WithValue(ctx, key{}, 1)
		cctx, cancel := context.WithCancel(vctx)
		defer cancel()
		l.Lock(ctx)
		if err := l.Lock(cctx); err != nil {
			return err
		}
		if !l.TryLock(vctx) {
			t.Error("TryLock with a WithValue ctx of the owner failed")
		}
		if d := l.Stats().Depth; d != 3 {
			t.Errorf("depth %d, want 3", d)
		}
		expectPanic(t, "tock: Lock.Unlock: only the owner may unlock", func() { l.Unlock(context.Background()) }) //tockvet:ignore an anonymous caller is refused the unlock, on purpose
		l.Unlock(vctx)
		l.Unlock(cctx)
		l.Unlock(ctx)
		if l.Locked() {
			t.Error("locked after three unlocks")
		}
		lim := tock.NewCapacityLimiter(1)
		if err := lim.Acquire(cctx); err != nil {
			return err
		}
		expectPanic(t, "already holds", func() { lim.Acquire(vctx) })
		lim.Release(ctx)
		if lim.Borrowed() != 0 {
			t.Errorf("borrowed %d after Release", lim.Borrowed())
		}
		return nil
	})
}

// advCoreHunt runs body(ctx, worker, iter) on n Group tasks under the real
// runtime until iters iterations each or 2 s of wall time.
func advCoreHunt(t *testing.T, n, iters int, body func(ctx context.Context, w, i int, rng *rand.Rand) error, after func(ctx context.Context) error) {
	t.Helper()
	checkLeaks(t)
	deadline := time.Now().Add(2 * time.Second) //tockvet:ignore real-runtime hunt bounded by wall time
	err := within(t, "hunt", func() error {
		return tock.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			for w := 0; w < n; w++ {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				g.Go(func(ctx context.Context) error {
					for i := 0; i < iters; i++ {
						if i%64 == 0 && time.Now().After(deadline) { //tockvet:ignore real-runtime hunt bounded by wall time
							return nil
						}
						if err := body(ctx, w, i, rng); err != nil {
							return fmt.Errorf("worker %d iter %d: %w", w, i, err)
						}
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				return err
			}
			return after(ctx)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// advCoreMaybeCancel returns ctx, or a ctx derived from it that is
// cancelled at a random moment soon (by a stdlib timer or at once).
func advCoreMaybeCancel(ctx context.Context, rng *rand.Rand) (context.Context, context.CancelFunc) {
	switch rng.IntN(5) {
	case 0:
		return context.WithTimeout(ctx, time.Duration(rng.IntN(40))*time.Microsecond) //tockvet:ignore real runtime only: a wall-clock timeout racing the grant
	case 1:
		c, cancel := context.WithCancel(context.WithValue(ctx, advCoreKey{}, 1))
		if rng.IntN(2) == 0 {
			cancel()
		}
		return c, cancel
	case 2:
		return tock.WithTimeout(ctx, time.Duration(rng.IntN(40))*time.Microsecond)
	}
	return ctx, func() {}
}

type advCoreKey struct{}

// CapacityLimiter hammered through every path at once: a task's fast
// Acquire/Release, AcquireFor with string borrowers (non-task, shared by
// two workers so that "already waits" races cancellations), TryAcquireFor,
// SetTotal moving the total between 1 and 12 (past the scan limit, so the
// index comes and goes in use), cancellations by every kind of ctx. The
// total is never exceeded beyond a lowering, every borrow is given back,
// nothing stays queued, and the limiter still works at the end.
func TestCoreAdversarialLimiterHunt(t *testing.T) {
	l := tock.NewCapacityLimiter(3)
	var inside atomic.Int64
	var maxTotal atomic.Int64
	maxTotal.Store(3)
	var setMu sync.Mutex
	advCoreHunt(t, 14, 4000, func(ctx context.Context, w, i int, rng *rand.Rand) error {
		wctx, cancel := advCoreMaybeCancel(ctx, rng)
		defer cancel()
		switch rng.IntN(8) {
		case 0, 1, 2:
			if err := l.Acquire(wctx); err != nil {
				if wctx.Err() == nil {
					return fmt.Errorf("Acquire: %v with a live ctx", err)
				}
				return nil
			}
			if n := inside.Add(1); n > maxTotal.Load() {
				return fmt.Errorf("%d inside, total at most %d", n, maxTotal.Load())
			}
			tock.Yield(ctx)
			inside.Add(-1)
			l.Release(ctx)
		case 3, 4:
			b := fmt.Sprint("b", w/2, "-", rng.IntN(2)) // two workers share each name
			err := func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						s := fmt.Sprint(r)
						if s != "tock: CapacityLimiter.AcquireFor: this borrower is already waiting for a token" &&
							s != "tock: CapacityLimiter.AcquireFor: this borrower already holds one of the limiter's tokens" {
							err = fmt.Errorf("AcquireFor panic %s", s)
						} else {
							err = errors.ErrUnsupported // refused: fine
						}
					}
				}()
				return l.AcquireFor(wctx, b)
			}()
			if errors.Is(err, errors.ErrUnsupported) {
				return nil
			}
			if err != nil {
				if wctx.Err() == nil {
					return fmt.Errorf("AcquireFor: %v with a live ctx", err)
				}
				return nil
			}
			if n := inside.Add(1); n > maxTotal.Load() {
				return fmt.Errorf("%d inside, total at most %d", n, maxTotal.Load())
			}
			tock.Yield(ctx)
			inside.Add(-1)
			l.ReleaseFor(b)
		case 5:
			b := w*100000 + i
			if l.TryAcquireFor(b) {
				l.ReleaseFor(b)
			}
		case 6:
			if w < 2 {
				setMu.Lock()
				n := 1 + rng.IntN(12)
				if int64(n) > maxTotal.Load() {
					maxTotal.Store(int64(n))
				}
				l.SetTotal(n)
				setMu.Unlock()
			}
		case 7:
			s := l.Stats()
			if s.Borrowed != len(s.Borrowers) || s.Waiting < 0 {
				return fmt.Errorf("stats do not add up: %+v", s)
			}
		}
		return nil
	}, func(ctx context.Context) error {
		l.SetTotal(2)
		if s := l.Stats(); s.Borrowed != 0 || s.Waiting != 0 || len(s.Borrowers) != 0 {
			return fmt.Errorf("left behind: %+v", s)
		}
		if err := l.Acquire(ctx); err != nil {
			return err
		}
		if err := l.AcquireFor(ctx, "x"); err != nil {
			return err
		}
		if l.TryAcquireFor("y") {
			return errors.New("TryAcquireFor on a full limiter succeeded")
		}
		l.Release(ctx)
		l.ReleaseFor("x")
		return nil
	})
}

// Lock and Condition hammered: the fast Lock/Unlock CAS racing lockSlow
// (waitersBit), re-entry, TryLock, cancellation of Lock waits and of
// Condition waits, Notify(1) and NotifyAll. Mutual exclusion holds, every
// Wait returns with the lock at its depth, and at the end nobody is left.
func TestCoreAdversarialLockConditionHunt(t *testing.T) {
	var lk tock.Lock
	c := tock.NewCondition(&lk)
	var holder atomic.Uint64
	var tickets atomic.Int64
	advCoreHunt(t, 10, 3000, func(ctx context.Context, w, i int, rng *rand.Rand) error {
		me := tock.TaskID(ctx)
		enter := func() error {
			if prev := holder.Swap(me); prev != 0 && prev != me {
				return fmt.Errorf("task %d inside with %d", me, prev)
			}
			return nil
		}
		leave := func() { holder.Store(0) }
		wctx, cancel := advCoreMaybeCancel(ctx, rng)
		defer cancel()
		switch rng.IntN(6) {
		case 0, 1:
			if err := c.Lock(wctx); err != nil {
				return nil
			}
			if err := enter(); err != nil {
				return err
			}
			if rng.IntN(2) == 0 {
				c.Lock(ctx) // re-entry never waits
				c.Unlock(ctx)
			}
			leave()
			c.Unlock(ctx)
		case 2:
			anon := context.Background() // anonymous: a different owner
			if err := c.Lock(anon); err != nil {
				return err
			}
			if prev := holder.Swap(math.MaxUint64); prev != 0 {
				return fmt.Errorf("anonymous inside with %d", prev)
			}
			holder.Store(0)
			c.Unlock(anon)
		case 3:
			if tl := new(tock.Lock); tl.TryLock(ctx) {
				tl.Unlock(ctx)
			}
			if c.Lock(wctx) == nil {
				if !lk.TryLock(ctx) {
					return errors.New("TryLock by the owner failed")
				}
				c.Unlock(ctx)
				c.Unlock(ctx)
			}
		case 4:
			c.Lock(ctx)
			depth := 1 + rng.IntN(2)
			if depth == 2 {
				c.Lock(ctx)
			}
			if err := enter(); err != nil {
				return err
			}
			leave()
			if tickets.Load() == 0 {
				tctx, stop := tock.WithTimeout(wctx, time.Millisecond)
				_ = c.Wait(tctx)
				stop()
			}
			if tock.TaskID(ctx) != c.Stats().Lock.Owner || c.Stats().Lock.Depth != depth {
				return fmt.Errorf("after Wait: %+v, want owner %d depth %d", c.Stats().Lock, me, depth)
			}
			if err := enter(); err != nil {
				return err
			}
			if tickets.Load() > 0 {
				tickets.Add(-1)
			}
			leave()
			for ; depth > 0; depth-- {
				c.Unlock(ctx)
			}
		case 5:
			c.Lock(ctx)
			tickets.Add(1)
			if rng.IntN(3) == 0 {
				c.NotifyAll(ctx)
			} else {
				c.Notify(ctx, 1)
			}
			c.Unlock(ctx)
		}
		return nil
	}, func(ctx context.Context) error {
		c.Lock(ctx)
		c.NotifyAll(ctx)
		c.Unlock(ctx)
		if st := c.Stats(); st.Waiting != 0 || st.Lock.Waiting != 0 || st.Lock.Locked {
			return fmt.Errorf("left behind: %+v", st)
		}
		return nil
	})
}

// Streams: closing one clone of either end while operations wait on it
// and on its siblings. A rendezvous sender on a closed send clone fails
// with ErrClosedResource, a sibling's sender still meets a receiver; a
// receiver on a closed receive clone fails, the sibling's receiver gets
// the next item; closing the last receive handle breaks the blocked
// senders and counts the buffered items as Discarded; Stats add up
// after each step, and every later call returns at once.
func TestCoreAdversarialStreamCloseClones(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		for _, size := range []int{0, 1} {
			s1, r1 := tock.NewStream[int](size)
			s2, r2 := s1.Clone(), r1.Clone()
			for i := 0; i < size; i++ {
				s1.Send(ctx, -1) // fill the buffer
			}
			g := tock.NewGroup(ctx)
			errs := tock.NewQueue[error]()
			g.Go(func(ctx context.Context) error { errs.Put(ctx, s2.Send(ctx, 2)); return nil })
			h.WaitUntil(ctx, "sender queued", func() bool { return s1.Stats().WaitingSend == 1 })
			s2.Close()
			if err, _ := errs.Get(ctx); !errors.Is(err, tock.ErrClosedResource) {
				t.Errorf("size %d: Send on a closed clone: %v", size, err)
			}
			// drain the buffer, then a receiver on each handle
			for i := 0; i < size; i++ {
				if v, err := r1.Receive(ctx); v != -1 || err != nil {
					t.Errorf("size %d: buffered item %d, %v", size, v, err)
				}
			}
			got := tock.NewQueue[string]()
			g.Go(func(ctx context.Context) error {
				v, err := r2.Receive(ctx)
				got.Put(ctx, fmt.Sprint("r2 ", v, " ", err))
				return nil
			})
			h.WaitUntil(ctx, "r2 queued", func() bool { return s1.Stats().WaitingReceive == 1 })
			g.Go(func(ctx context.Context) error {
				v, err := r1.Receive(ctx)
				got.Put(ctx, fmt.Sprint("r1 ", v, " ", err))
				return nil
			})
			h.WaitUntil(ctx, "r1 queued", func() bool { return s1.Stats().WaitingReceive == 2 })
			r2.Close()
			if g1, _ := got.Get(ctx); g1 != "r2 0 "+tock.ErrClosedResource.Error() {
				t.Errorf("size %d: %s", size, g1)
			}
			if err := s1.Send(ctx, 7); err != nil {
				t.Errorf("size %d: Send: %v", size, err)
			}
			if g2, _ := got.Get(ctx); g2 != "r1 7 <nil>" {
				t.Errorf("size %d: %s", size, g2)
			}
			// a blocked sender, then the last receive handle closes
			for i := 0; i < size; i++ {
				s1.Send(ctx, 8)
			}
			g.Go(func(ctx context.Context) error { errs.Put(ctx, s1.Send(ctx, 9)); return nil })
			h.WaitUntil(ctx, "sender queued", func() bool { return s1.Stats().WaitingSend == 1 })
			r1.Close()
			if err, _ := errs.Get(ctx); !errors.Is(err, tock.ErrBrokenResource) {
				t.Errorf("size %d: blocked Send at the last receive close: %v", size, err)
			}
			if err := g.Wait(); err != nil {
				return err
			}
			st := s1.Stats()
			want := tock.StreamStats{MaxBuffer: size, OpenSendStreams: 1, Discarded: uint64(size)}
			if st != want {
				t.Errorf("size %d: stats %+v, want %+v", size, st, want)
			}
			if err := s1.Send(ctx, 1); !errors.Is(err, tock.ErrBrokenResource) {
				t.Errorf("size %d: Send after: %v", size, err)
			}
			if err := s1.TrySend(1); !errors.Is(err, tock.ErrBrokenResource) {
				t.Errorf("size %d: TrySend after: %v", size, err)
			}
			s1.Close()
			if _, err := r1.TryReceive(); !errors.Is(err, tock.ErrClosedResource) {
				t.Errorf("size %d: TryReceive on closed handle: %v", size, err)
			}
		}
		return nil
	})
}

// A priority Queue whose order panics, and a GetWhere whose condition
// panics inside a Put: the Put panics with the value, its item is not
// queued, the queue's lock is free, and the queue keeps working (order,
// Len, Waiting, Close) afterwards.
func TestCoreAdversarialQueueCallbacksPanic(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		bad := 13
		q := tock.NewPriorityQueue(func(a, b int) bool {
			if a == bad || b == bad {
				panic("bad order")
			}
			return a < b
		})
		q.Put(ctx, 5)
		q.Put(ctx, 3)
		if p := panicOf(func() { q.Put(ctx, 13) }); p != "bad order" {
			t.Errorf("Put panic %q", p)
		}
		if q.Len() != 2 {
			t.Errorf("Len %d after a panicking Put, want 2", q.Len())
		}
		q.Put(ctx, 4)
		for _, want := range []int{3, 4, 5} {
			if v, err := q.Get(ctx); v != want || err != nil {
				t.Errorf("Get = %d, %v; want %d", v, err, want)
			}
		}
		// a GetWhere waiter whose condition panics on 13
		fq := tock.NewQueue[int]()
		g := tock.NewGroup(ctx)
		res := tock.NewQueue[string]()
		g.Go(func(ctx context.Context) error {
			v, err := fq.GetWhere(ctx, func(v int) bool {
				if v == 13 {
					panic("bad pred")
				}
				return v%2 == 0
			})
			res.Put(ctx, fmt.Sprint(v, err))
			return nil
		})
		h.WaitUntil(ctx, "GetWhere queued", func() bool { return fq.Waiting() == 1 })
		if p := panicOf(func() { fq.Put(ctx, 13) }); p != "bad pred" {
			t.Errorf("Put panic %q", p)
		}
		if fq.Len() != 0 || fq.Waiting() != 1 {
			t.Errorf("after the panic: Len %d Waiting %d, want 0 1", fq.Len(), fq.Waiting())
		}
		fq.Put(ctx, 1) // rejected: buffered
		fq.Put(ctx, 2) // accepted: handed over
		if r, _ := res.Get(ctx); r != "2 <nil>" {
			t.Errorf("GetWhere = %s", r)
		}
		if v, err := fq.Get(ctx); v != 1 || err != nil {
			t.Errorf("Get = %d, %v", v, err)
		}
		fq.Close()
		if _, err := fq.Get(ctx); !errors.Is(err, tock.ErrStreamClosed) {
			t.Errorf("Get after Close: %v", err)
		}
		return g.Wait()
	})
}

// A non-task borrower whose wait was cancelled but has not yet left the
// queue (in a simulation: cancelled in this turn, not yet run) may wait
// again at once; a TryAcquireFor passes over the cancelled waiter; a
// release goes to the second wait, not the cancelled one; the first wait
// returns Canceled without forgetting the second one; "already holds" is
// enforced after, and every count is back to zero at the end.
func TestCoreAdversarialLimiterRewaitAfterCancel(t *testing.T) {
	checkLeaks(t)
	_, err := runSim(func(ctx context.Context, h *H) error {
		l := tock.NewCapacityLimiter(1)
		l.AcquireFor(ctx, "holder")
		g := tock.NewGroup(ctx)
		res := tock.NewQueue[string]()
		c1, cancel1 := tock.WithCancel(ctx)
		g.Go(func(ctx context.Context) error {
			res.Put(ctx, fmt.Sprint("first ", l.AcquireFor(c1, "x"))) //tockvet:ignore the wait uses a ctx the test cancels from outside the task, on purpose
			return nil
		})
		var go2 tock.Event
		g.Go(func(ctx context.Context) error {
			go2.Wait(ctx)
			// runs before the cancelled first waiter leaves the queue
			err := l.AcquireFor(ctx, "x")
			res.Put(ctx, fmt.Sprint("second ", err))
			if err == nil {
				l.ReleaseFor("x")
			}
			return nil
		})
		h.WaitUntil(ctx, "first wait", func() bool { return l.Stats().Waiting == 1 })
		go2.Set()
		cancel1()
		if p := panicOf(func() { l.TryAcquireFor("x") }); p != "" {
			t.Errorf("TryAcquireFor after the wait was cancelled: panic %q", p)
		}
		h.WaitUntil(ctx, "first left, second queued", func() bool { return res.Len() == 1 && l.Stats().Waiting == 1 })
		expectPanic(t, "already waiting", func() { l.TryAcquireFor("x") })
		l.ReleaseFor("holder")
		a, _ := res.Get(ctx)
		b, _ := res.Get(ctx)
		if a != "first context canceled" || b != "second <nil>" {
			t.Errorf("got %q, %q", a, b)
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if s := l.Stats(); s.Borrowed != 0 || s.Waiting != 0 {
			t.Errorf("left behind %+v", s)
		}
		if !l.TryAcquireFor("x") {
			t.Error("TryAcquireFor on a free limiter failed")
		}
		l.ReleaseFor("x")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
