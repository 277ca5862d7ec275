package tock_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
)

// A case that a grant won while a later case was being armed gives back what
// the grant handed it when that later arm panics: the unit, lock, token,
// permit, amount or item goes back to its primitive (an item to the front of
// its queue), and no case stays queued. The grant is made from inside the
// panicking Tracked condition, so that it lands, on both runtimes, exactly
// between the two arms. A Send or Put case whose value a grant took has
// delivered it.
func TestSelectArmPanicGivesBack(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		// selAfter runs a Select of first and a Tracked case whose
		// condition calls grant and then panics when the cases are armed:
		// its first looks calls (the Select's first pass, which queues no
		// case, looks at it once unless a case before it cannot be looked
		// at without being armed) find it false. It checks the panic got
		// out.
		selAfter := func(looks int, name string, first tock.SelectCase, grant func()) {
			t.Helper()
			tr := tock.NewTracked(0)
			called := false
			r := panicOf(func() {
				tock.Select(ctx, first, tock.OnTracked(tr, func(int) bool {
					if looks > 0 {
						looks--
						return false
					}
					called = true
					grant()
					panic("boom")
				}, nil))
			})
			if r != "boom" || !called {
				t.Errorf("%s: recovered %v (condition called %v)", name, r, called)
			}
			if n := tr.Stats().Waiting; n != 0 {
				t.Errorf("%s: tracked case left queued", name)
			}
		}
		sel := func(name string, first tock.SelectCase, grant func()) {
			t.Helper()
			selAfter(1, name, first, grant)
		}

		q := tock.NewQueue[int]()
		sel("queue", tock.OnGet(q, nil), func() { q.Put(ctx, 7); q.Put(ctx, 8) })
		if q.Len() != 2 || q.Waiting() != 0 {
			t.Errorf("queue: %d buffered, %d waiting; want 2, 0", q.Len(), q.Waiting())
		}
		// get is a Get bounded in time: a failing check does not hang.
		get := func(q *tock.Queue[int]) (int, error) {
			gctx, cancel := tock.WithTimeout(ctx, h.U(100))
			defer cancel()
			return q.Get(gctx)
		}
		for _, want := range []int{7, 8} { // the item given back is the next one
			if v, err := get(q); v != want || err != nil {
				t.Errorf("queue: got %d %v, want %d", v, err, want)
			}
		}

		pq := tock.NewPriorityQueue(func(a, b int) bool { return a < b })
		sel("priority queue", tock.OnGet(pq, nil), func() { pq.Put(ctx, 5); pq.Put(ctx, 9); pq.Put(ctx, 1) })
		for _, want := range []int{1, 5, 9} { // given back in its order
			if v, err := get(pq); v != want || err != nil {
				t.Errorf("priority queue: got %d %v, want %d", v, err, want)
			}
		}

		s, r := tock.NewStream[int](0)
		sel("stream", tock.OnReceive(r, nil), func() {
			if err := s.TrySend(7); err != nil {
				t.Errorf("stream: TrySend: %v", err)
			}
		})
		// The item given back fills the rendezvous stream beyond its limit:
		// a sender still waits for a receiver.
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return s.Send(ctx, 8) })
		h.WaitUntil(ctx, "sender waits", func() bool { return s.Stats().WaitingSend == 1 })
		if v, err := r.TryReceive(); v != 7 || err != nil {
			t.Errorf("stream: got %d %v, want 7", v, err)
		}
		if st := s.Stats(); st.WaitingSend != 1 || st.BufferUsed != 0 {
			t.Errorf("stream: the sender did not wait for a receiver: %+v", st)
		}
		if v, err := r.Receive(ctx); v != 8 || err != nil {
			t.Errorf("stream: got %d %v, want 8", v, err)
		}
		if err := g.Wait(); err != nil {
			return err
		}

		ch := tock.NewChannel[int]()
		sub := ch.Subscribe()
		sel("subscription", tock.OnSubscription(sub, nil), func() { ch.Put(ctx, 7) })
		if st := sub.Stats(); st.Buffered != 1 {
			t.Errorf("subscription: %+v", st)
		}
		sub.Close()
		// A full subscription drops as its policy says, the item given back
		// being the oldest.
		for _, c := range []struct {
			policy tock.Overflow
			want   int
		}{{tock.DropOldest, 8}, {tock.DropNewest, 7}} {
			sub := ch.Subscribe(tock.MaxBuffer(1, c.policy))
			sel("full subscription", tock.OnSubscription(sub, nil), func() { ch.Put(ctx, 7); ch.Put(ctx, 8) })
			st := sub.Stats()
			if v, err := sub.Receive(ctx); v != c.want || err != nil || st.Buffered != 1 || st.Dropped != 1 {
				t.Errorf("policy %v: got %d %v, %+v; want %d", c.policy, v, err, st, c.want)
			}
			sub.Close()
		}

		sem := tock.NewSemaphore(0)
		sel("semaphore", tock.OnAcquire(sem, nil), sem.Release)
		if v, st := sem.Value(), sem.Stats(); v != 1 || st.Waiting != 0 {
			t.Errorf("semaphore: value %d, %+v", v, st)
		}

		var l tock.Lock
		anon := context.Background()
		l.Lock(anon) // held by an anonymous owner, which any anonymous caller may unlock
		sel("lock", tock.OnLock(&l, nil), func() { l.Unlock(anon) })
		if st := l.Stats(); st.Locked || st.Waiting != 0 {
			t.Errorf("lock: %+v", st)
		}

		c := tock.NewContainer(10, 0)
		sel("container get", tock.OnContainerGet(c, 3, nil), func() { c.TryPut(3) })
		if st := c.Stats(); st.Level != 3 || st.WaitingGets != 0 {
			t.Errorf("container get: %+v", st)
		}
		// Puts let in after the grant used the room the Get made: the
		// amount still goes back, above the capacity until Gets take it.
		c = tock.NewContainer(10, 0)
		sel("container get, refilled", tock.OnContainerGet(c, 3, nil), func() { c.TryPut(3); c.TryPut(10) })
		if st := c.Stats(); st.Level != 13 || c.TryPut(1) || !c.TryGet(4) || c.Level() != 9 {
			t.Errorf("container get, refilled: %+v, then level %v", st, c.Level())
		}
		full := tock.NewContainer(5, 5)
		sel("container put", tock.OnContainerPut(full, 2, nil), func() { full.TryGet(2) })
		if st := full.Stats(); st.Level != 5 || st.WaitingPuts != 0 { // put: delivered
			t.Errorf("container put: %+v", st)
		}

		pl := tock.NewPriorityLimiter(1)
		hold, _ := pl.TryAcquire(ctx, 0)
		var got *tock.Permit
		// a Permit case is armed in the first pass, which stops there
		selAfter(0, "permit", tock.OnPermit(pl, 0, func(p *tock.Permit) { got = p }), hold.Release)
		if st := pl.Stats(); st.InUse != 0 || st.Waiting != 0 || got != nil {
			t.Errorf("permit: %+v, callback ran %v", st, got != nil)
		}

		cl := tock.NewCapacityLimiter(1)
		cl.TryAcquireFor("h")
		sel("borrow for", tock.OnBorrowFor(cl, "x", nil), func() { cl.ReleaseFor("h") })
		if st := cl.Stats(); st.Borrowed != 0 || st.Waiting != 0 {
			t.Errorf("borrow for: %+v", st)
		}
		cl.TryAcquireFor("h")
		sel("borrow", tock.OnBorrow(cl, nil), func() { cl.ReleaseFor("h") })
		if st := cl.Stats(); st.Borrowed != 0 || st.Waiting != 0 {
			t.Errorf("borrow: %+v", st)
		}
		if err := cl.Acquire(ctx); err != nil { // not refused: the task neither holds nor awaits
			return err
		}
		cl.Release(ctx)

		ss, sr := tock.NewStream[int](0)
		var taken int
		sel("send", tock.OnSend(ss, 7, nil), func() { taken, _ = sr.TryReceive() })
		if st := ss.Stats(); taken != 7 || st.BufferUsed != 0 || st.WaitingSend != 0 { // sent: the receiver has it
			t.Errorf("send: the receiver took %d; %+v", taken, st)
		}
		return nil
	})
}

// A borrower that becomes a holder after Select checked it (as another
// goroutine may make it; here the Tracked condition armed before it does)
// makes its case panic while it is armed, with the check's message; no
// case stays queued.
func TestSelectBorrowerRace(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		q := tock.NewQueue[int]()
		l := tock.NewCapacityLimiter(1)
		tr := tock.NewTracked(0)
		r := panicOf(func() {
			tock.Select(ctx, tock.OnGet(q, nil),
				tock.OnTracked(tr, func(int) bool {
					l.TryAcquireFor("b")
					return false
				}, nil),
				tock.OnBorrowFor(l, "b", nil))
		})
		if !strings.Contains(r, "tock: CapacityLimiter.OnBorrowFor: this borrower already holds one of the limiter's tokens") {
			t.Errorf("recovered %v", r)
		}
		if q.Waiting() != 0 || tr.Stats().Waiting != 0 || l.Stats().Waiting != 0 {
			t.Errorf("queue %d waiting, tracked %d waiting, limiter %+v", q.Waiting(), tr.Stats().Waiting, l.Stats())
		}
		return nil
	})
}

// Bad Select cases panic before any case is armed: at the call that makes
// them (the nil and zero primitives, bad amounts, nil conditions and
// borrowers; see badCalls) or, for what depends on the Select's ctx or on
// its other cases, when Select starts; nothing is armed, so nothing is
// queued or taken.
func TestSelectChecksBeforeArming(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		q := tock.NewQueue[int]()
		q.Put(ctx, 1) // the first case could complete at once
		l := tock.NewCapacityLimiter(1)
		l.TryAcquireFor("held")
		for _, c := range []struct {
			want  string
			cases []tock.SelectCase
		}{
			{"tock: CapacityLimiter.OnBorrowFor: this borrower already holds one of the limiter's tokens",
				[]tock.SelectCase{tock.OnGet(q, nil), tock.OnBorrowFor(l, "held", nil)}},
			{"tock: CapacityLimiter.OnBorrowFor: this borrower is already waiting for a token (two cases of one Select borrow for it)",
				[]tock.SelectCase{tock.OnGet(q, nil), tock.OnBorrowFor(l, "b", nil), tock.OnBorrowFor(l, "b", nil)}},
			{"tock: CapacityLimiter.OnBorrow: this borrower is already waiting for a token (two cases of one Select borrow for it)",
				[]tock.SelectCase{tock.OnGet(q, nil), tock.OnBorrow(l, nil), tock.OnBorrow(l, nil)}},
		} {
			r := panicOf(func() { tock.Select(ctx, c.cases...) })
			if !strings.Contains(r, c.want) {
				t.Errorf("panic %q, want %q", r, c.want)
			}
			if q.Len() != 1 || l.Stats().Waiting != 0 {
				t.Errorf("%q: queue %d, limiter %+v", c.want, q.Len(), l.Stats())
			}
		}
		// A task-less ctx for OnBorrow: refused before the Get case takes
		// the item (and, in a simulation, before Select refuses the
		// task-less ctx in a simulated task).
		//tockvet:ignore a task-less ctx is the misuse under test
		r := panicOf(func() { tock.Select(context.Background(), tock.OnGet(q, nil), tock.OnBorrow(l, nil)) })
		if want := "tock: CapacityLimiter.OnBorrow: ctx carries no tock task"; !strings.Contains(r, want) {
			t.Errorf("panic %q, want %q", r, want)
		}
		if q.Len() != 1 {
			t.Errorf("the Get case took the item")
		}
		return nil
	})
}

// A case may be used again by a later Select: what its last Select's
// waiter was granted does not leak into the next result (a Get case won by
// a Put, then completing at once, returns the new item; a Tracked case the
// new value).
func TestSelectCaseReused(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		q := tock.NewQueue[int]()
		tr := tock.NewTracked(0)
		var got, gotT int
		get := tock.OnGet(q, func(v int) { got = v })
		tracked := tock.OnTracked(tr, func(v int) bool { return v > 0 }, func(v int) { gotT = v })
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			h.WaitUntil(ctx, "get case waits", func() bool { return q.Waiting() == 1 })
			q.Put(ctx, 1)
			h.WaitUntil(ctx, "tracked case waits", func() bool { return tr.Stats().Waiting == 1 })
			tr.Set(1)
			return nil
		})
		if i, err := tock.Select(ctx, get); i != 0 || err != nil || got != 1 {
			t.Errorf("first get: %d %v %d", i, err, got)
		}
		if i, err := tock.Select(ctx, tracked); i != 0 || err != nil || gotT != 1 {
			t.Errorf("first tracked: %d %v %d", i, err, gotT)
		}
		if err := g.Wait(); err != nil {
			return err
		}
		q.Put(ctx, 2)
		tr.Set(2)
		if i, err := tock.Select(ctx, get); i != 0 || err != nil || got != 2 {
			t.Errorf("second get: %d %v %d, want 2", i, err, got)
		}
		if i, err := tock.Select(ctx, tracked); i != 0 || err != nil || gotT != 2 {
			t.Errorf("second tracked: %d %v %d, want 2", i, err, gotT)
		}
		return nil
	})
}

// A task waiting for a token in a Select's OnBorrow case awaits it as in
// Acquire: another goroutine of the task (sharing its ctx) is refused a
// second wait, and may wait again once the Select returned.
func TestSelectBorrowTaskWaitsOnce(t *testing.T) {
	checkLeaks(t)
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		l := tock.NewCapacityLimiter(0)
		res := make(chan error, 1)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { //tockvet:ignore a goroutine sharing the task's ctx is the case under test
			_, err := tock.Select(wctx, tock.OnBorrow(l, nil))
			res <- err
		}()
		if err := untilState(ctx, "the goroutine's Select queued", func() bool { return l.Stats().Waiting == 1 }); err != nil {
			t.Fatal(err)
		}
		expectPanic(t, "tock: CapacityLimiter.Acquire: this borrower is already waiting for a token", func() {
			tctx, stop := tock.WithTimeout(ctx, 5*time.Second) // bounded: a second wait that is not refused times out
			defer stop()
			l.Acquire(tctx)
		})
		expectPanic(t, "tock: CapacityLimiter.TryAcquire: this borrower is already waiting for a token", func() { l.TryAcquire(ctx) })
		cancel()
		//tockvet:ignore real runtime only: bounds the wait for the goroutine's Select
		select {
		case err := <-res:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled Select: %v", err)
			}
		case <-time.After(10 * time.Second): //tockvet:ignore real runtime only: bounds the wait
			t.Fatal("the cancelled Select did not return")
		}
		l.SetTotal(1)
		if !l.TryAcquire(ctx) { // not refused: the Select's wait is over
			t.Errorf("TryAcquire after the Select: %+v", l.Stats())
		}
		l.Release(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// On the real runtime, grants that race with the arming of a Select whose
// last case always panics lose nothing: every item and unit handed to the
// Select's earlier cases either is what a Select returned (one that
// completed at once) or goes back, so all of them are accounted for.
func TestSelectArmPanicRaceConserves(t *testing.T) {
	checkLeaks(t)
	const n = 2000
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		sem := tock.NewSemaphore(0)
		tr := tock.NewTracked(0)
		var produced tock.Event
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			defer produced.Set()
			for i := 0; i < n; i++ {
				q.Put(ctx, i)
				sem.Release()
			}
			return nil
		})
		items, units, panics := 0, 0, 0
		for !produced.IsSet() {
			r := panicOf(func() {
				i, err := tock.Select(ctx, tock.OnGet(q, nil), tock.OnAcquire(sem, nil),
					tock.OnTracked(tr, func(int) bool { panic("boom") }, nil))
				switch {
				case err != nil:
					t.Errorf("Select: %v", err)
				case i == 0:
					items++
				case i == 1:
					units++
				}
			})
			switch r {
			case "boom":
				panics++
			case "":
			default:
				t.Fatalf("recovered %q", r)
			}
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if q.Len()+items != n || sem.Value()+units != n || q.Waiting() != 0 || sem.Stats().Waiting != 0 || tr.Stats().Waiting != 0 {
			t.Errorf("%d+%d items, %d+%d units; want %d of each (waiting: %d, %d, %d)", q.Len(), items, sem.Value(), units, n, q.Waiting(), sem.Stats().Waiting, tr.Stats().Waiting)
		}
		t.Logf("%d panics, %d items and %d units taken", panics, items, units)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
