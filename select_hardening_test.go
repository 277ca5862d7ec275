package tock_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// OnChannel subscribes when the case is made and relies on disarm to
// unsubscribe. A Select that returns before arming that case (an earlier
// case completes at once, ctx is already done, a case's check panics, an
// earlier case's arm panics) never calls its disarm (select.go, Select and
// armAll disarm only cases[:armed]; Select returns before armAll when ctx
// is done): the temporary subscription stays on the Channel forever,
// buffering one message.
// Expected (and now so): Subscribers() == 0 after Select returns (the doc of OnChannel:
// "unsubscribes when the Select that uses it returns"). Before the fix: 1.
func TestSelectHardeningOnChannelLeaksSubscription(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		c := tock.NewChannel[int]()
		var e tock.Event
		e.Set()
		i, err := tock.Select(ctx, tock.OnEvent(&e, nil), tock.OnChannel(c, nil))
		if i != 0 || err != nil {
			t.Errorf("select: %d %v", i, err)
		}
		if n := c.Subscribers(); n != 0 {
			t.Errorf("earlier case completed at once: %d subscribers left, want 0", n)
		}
		c2 := tock.NewChannel[int]()
		cctx, cancel := tock.WithCancel(ctx)
		cancel()
		i, err = tock.Select(cctx, tock.OnChannel(c2, nil))
		if i != -1 || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled select: %d %v", i, err)
		}
		if n := c2.Subscribers(); n != 0 {
			t.Errorf("ctx done at the call: %d subscribers left, want 0", n)
		}
		// A case's check panics before any case is armed.
		c3 := tock.NewChannel[int]()
		l := tock.NewCapacityLimiter(1)
		expectPanic(t, "two cases of one Select borrow for it", func() {
			tock.Select(ctx, tock.OnChannel(c3, nil), tock.OnBorrowFor(l, "b", nil), tock.OnBorrowFor(l, "b", nil))
		})
		if n := c3.Subscribers(); n != 0 {
			t.Errorf("a check panicked: %d subscribers left, want 0", n)
		}
		// A case armed before it panics; the OnChannel case after it is
		// never armed.
		c4 := tock.NewChannel[int]()
		tr := tock.NewTracked(0)
		expectPanic(t, "pred boom", func() {
			tock.Select(ctx, tock.OnTracked(tr, func(int) bool { panic("pred boom") }, nil), tock.OnChannel(c4, nil))
		})
		if n := c4.Subscribers(); n != 0 {
			t.Errorf("an earlier arm panicked: %d subscribers left, want 0", n)
		}
		// The condition panicked in the Select's first pass, with the
		// Tracked's lock held: it was released, and nothing was queued.
		if err := noHang("a Set after the condition panicked", func() { tr.Set(1) }); err != nil {
			t.Error(err)
		}
		if n := tr.Stats().Waiting; n != 0 {
			t.Errorf("the condition panicked: %d waiting on the Tracked", n)
		}
		// A nil case: the OnChannel case after it is never checked.
		c5 := tock.NewChannel[int]()
		expectPanic(t, "tock: Select: case 1 is nil", func() {
			tock.Select(ctx, tock.OnEvent(&e, nil), nil, tock.OnChannel(c5, nil))
		})
		if n := c5.Subscribers(); n != 0 {
			t.Errorf("a case before it was nil: %d subscribers left, want 0", n)
		}
		return nil
	})
}

// Channel.Watch re-syncs the Queue monitor to 0 (watch.go, Channel.Watch:
// m.initQueue(0)), assuming no Receive is counted in it. But a Receive in
// progress leaves the monitor it started with when it returns (addQueue(-1)),
// so attaching the same Monitors again (or a new Monitors sharing that
// Queue monitor) while a Receive waits drives the Queue below zero.
// Expected (and now so): Queue back at 0 (Min 0) after the Receive returns. Before the fix: -1.
func TestSelectHardeningChannelRewatchQueueNegative(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		for _, detach := range []bool{false, true} {
			c := tock.NewChannel[int]()
			q := tock.NewMonitor(ctx, 0)
			m := &tock.Monitors{Queue: q}
			c.Watch(m)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				_, err := c.Receive(ctx)
				return err
			})
			h.WaitUntil(ctx, "receiver waits", func() bool { return c.Subscribers() == 1 && q.Value() == 1 })
			if detach {
				c.Watch(nil)
				c.Watch(&tock.Monitors{Queue: q}) // another Monitors, same Queue monitor
			} else {
				c.Watch(m) // the same Monitors again
			}
			if err := errors.Join(c.Put(ctx, 1), g.Wait()); err != nil {
				return err
			}
			if s := q.Stats(); s.Value != 0 || s.Min < 0 {
				t.Errorf("detach %v: queue monitor after the Receive returned: value %v min %v, want 0 0", detach, s.Value, s.Min)
			}
		}
		return nil
	})
}

// AnyOf ignores what g.Wait returns (anyof.go: `g.Wait()` with its result
// dropped). A wait that ends by runtime.Goexit (t.FailNow in a wait) never
// returns, so errs[i] stays nil; the group records ErrGoexit, and AnyOf
// drops it. With no other wait succeeding, AnyOf returns -1 with a nil
// error: "no winner" and "no error" at once.
// Expected (and now so): -1 and an error (errors.Is(err, tock.ErrGoexit)). Before the fix: -1, nil.
func TestSelectHardeningAnyOfGoexitLost(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		i, err := tock.AnyOf(ctx, func(context.Context) error {
			runtime.Goexit()
			return nil
		})
		if i != -1 || !errors.Is(err, tock.ErrGoexit) {
			t.Errorf("AnyOf over a wait that ended by Goexit: %d, %v; want -1 and ErrGoexit", i, err)
		}
		return nil
	})
}

// A Select over many primitives at once; one of them is closed while it
// waits: that case completes with the close's error, its callback is not
// called, the other cases leave their queues (taking nothing), and every
// primitive still works afterwards.
func TestSelectAdversarialCloseWhileWaiting(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		for k := range 7 {
			q := tock.NewQueue[int]()
			s1, r1 := tock.NewStream[int](0)
			s2, r2 := tock.NewStream[int](0) // rendezvous, nobody receives: the Send case waits
			ch := tock.NewChannel[int]()
			sub := ch.Subscribe(tock.MaxBuffer(2, tock.DropOldest))
			sem := tock.NewSemaphore(0)
			var l tock.Lock
			holder := tock.NewGroup(ctx)
			unlock, err := advSelHoldLock(ctx, holder, &l)
			if err != nil {
				return err
			}
			called := -1
			cb := func(i int) func(int) { return func(int) { called = i } }
			var idx int
			var serr error
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				idx, serr = tock.Select(ctx,
					tock.OnGet(q, cb(0)),
					tock.OnReceive(r1, cb(1)),
					tock.OnSubscription(sub, cb(2)),
					tock.OnChannel(ch, cb(3)),
					tock.OnSend(s2, 5, func() { called = 4 }),
					tock.OnAcquire(sem, func() { called = 5 }),
					tock.OnLock(&l, func() { called = 6 }))
				return nil
			})
			h.WaitUntil(ctx, "select waits", func() bool {
				return q.Waiting() == 1 && r1.Stats().WaitingReceive == 1 && s2.Stats().WaitingSend == 1 &&
					sem.Stats().Waiting == 1 && l.Stats().Waiting == 1 && ch.Subscribers() == 2
			})
			var wantIdx int
			var want error
			switch k {
			case 0:
				q.Close()
				wantIdx, want = 0, tock.ErrStreamClosed
			case 1:
				s1.Close()
				wantIdx, want = 1, tock.ErrEndOfStream
			case 2:
				r1.Close()
				wantIdx, want = 1, tock.ErrClosedResource
			case 3:
				sub.Close()
				wantIdx, want = 2, tock.ErrStreamClosed
			case 4:
				ch.Close() // ends sub and the OnChannel subscription: the first armed wins
				wantIdx, want = 2, tock.ErrStreamClosed
			case 5:
				r2.Close()
				wantIdx, want = 4, tock.ErrBrokenResource
			case 6:
				s2.Close()
				wantIdx, want = 4, tock.ErrClosedResource
			}
			if err := within(t, "select after a close", g.Wait); err != nil {
				return err
			}
			if idx != wantIdx || !errors.Is(serr, want) || called != -1 {
				t.Errorf("close %d: case %d %v (callback %d); want case %d %v and no callback", k, idx, serr, called, wantIdx, want)
			}
			// Nothing left queued, nothing taken.
			if q.Waiting() != 0 || r1.Stats().WaitingReceive != 0 || s2.Stats().WaitingSend != 0 || sem.Stats().Waiting != 0 || l.Stats().Waiting != 0 {
				t.Errorf("close %d: waiters left: q %d r1 %d s2 %d sem %d lock %d", k, q.Waiting(), r1.Stats().WaitingReceive,
					s2.Stats().WaitingSend, sem.Stats().Waiting, l.Stats().Waiting)
			}
			if n := ch.Subscribers(); (k == 3 && n != 0) || (k != 3 && k != 4 && n != 1) {
				t.Errorf("close %d: %d subscribers left", k, n)
			}
			unlock()
			if err := holder.Wait(); err != nil {
				return err
			}
			if l.Locked() || sem.Value() != 0 || !(func() bool { sem.Release(); return sem.TryAcquire() })() {
				t.Errorf("close %d: lock %v, semaphore %d", k, l.Locked(), sem.Value())
			}
			if k != 0 {
				q.Put(ctx, 1)
				if v, err := q.Get(ctx); v != 1 || err != nil {
					t.Errorf("close %d: queue after: %d %v", k, v, err)
				}
			}
			if k != 3 && k != 4 {
				ch.Put(ctx, 7)
				if v, err := sub.Receive(ctx); v != 7 || err != nil {
					t.Errorf("close %d: subscription after: %d %v", k, v, err)
				}
			}
		}
		return nil
	})
}

// Select cases on a Subscription, a Channel and both ends of a rendezvous
// stream, cancelled in the same step as the hand-off (either order): the
// item is never lost nor duplicated: the Select has it, or it is still
// where it was.
func TestSelectAdversarialCancelRaceStreams(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		for _, cancelFirst := range []bool{true, false} {
			// Subscription
			ch := tock.NewChannel[int]()
			sub := ch.Subscribe(tock.MaxBuffer(1, tock.DropNewest))
			subQ := tock.NewMonitor(ctx, 0)
			sub.Watch(&tock.Monitors{Queue: subQ}) // to see the Select wait
			got, idx := 0, 0
			err := h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
				var err error
				idx, err = tock.Select(ctx, tock.OnSubscription(sub, func(v int) { got = v }), tock.OnTimeout(h.U(1000), nil))
				return err
			}, func() bool { return subQ.Value() == 1 },
				func() { ch.Put(ctx, 3) })
			left := sub.Stats().Buffered
			if (err == nil) == (left == 1) || (err == nil && (got != 3 || idx != 0)) || (err != nil && idx != -1) {
				t.Errorf("subscription, cancel first %v: case %d %v got %d, buffered %d", cancelFirst, idx, err, got, left)
			}
			sub.Close()

			// Rendezvous stream, the Select receiving
			s, r := tock.NewStream[int](0)
			got = 0
			err = h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
				var err error
				_, err = tock.Select(ctx, tock.OnReceive(r, func(v int) { got = v }), tock.OnTimeout(h.U(1000), nil))
				return err
			}, func() bool { return r.Stats().WaitingReceive == 1 }, func() {
				if e := s.TrySend(4); (e == nil) != !cancelFirst {
					t.Errorf("receive case, cancel first %v: TrySend %v", cancelFirst, e)
				}
			})
			if (err == nil) != (got == 4) || (err == nil) == cancelFirst {
				t.Errorf("receive case, cancel first %v: %v got %d", cancelFirst, err, got)
			}

			// Rendezvous stream, the Select sending
			s, r = tock.NewStream[int](0)
			sent := false
			var recvd int
			var rerr error
			err = h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
				var err error
				_, err = tock.Select(ctx, tock.OnSend(s, 5, func() { sent = true }), tock.OnTimeout(h.U(1000), nil))
				return err
			}, func() bool { return s.Stats().WaitingSend == 1 }, func() { recvd, rerr = r.TryReceive() })
			if (err == nil) != sent || sent != (rerr == nil && recvd == 5) || (err == nil) == cancelFirst {
				t.Errorf("send case, cancel first %v: %v sent %v; receiver %d %v", cancelFirst, err, sent, recvd, rerr)
			}
		}
		return nil
	})
}

// In the real runtime's checked mode (TOCK_CHECK), a Lock records the
// goroutine that took it (l.g) so that a re-entry from another goroutine
// under the same task ctx is caught. OnLock takes the lock (unitCase.take in
// select.go's OnLock, and a hand-off to a waiting OnLock case through
// l.release) without recording the goroutine, so the owner's own, legal
// re-entry on the same goroutine right after the Select panics.
// Expected (and now so): l.Lock(ctx) after winning OnLock re-enters (depth 2).
// Before the fix: "tock: Lock.Lock: re-entered under the same task ctx by a
// goroutine other than the one that took the lock". Conversely, a raw
// goroutine sharing the task's ctx re-enters the task's lock through
// OnLock unchecked (take never calls checkReentry): expected the
// re-entry panic, actual none (two goroutines hold the lock).
func TestSelectHardeningOnLockCheckedReentry(t *testing.T) {
	checkLeaks(t)
	withCheckedReal(t)
	err := within(t, "the run", func() error {
		return tock.Run(context.Background(), func(ctx context.Context) error {
			var l tock.Lock
			// free lock: taken at once by the case
			if i, err := tock.Select(ctx, tock.OnLock(&l, nil)); i != 0 || err != nil {
				return fmt.Errorf("select: %d %v", i, err)
			}
			if msg := panicOf(func() { l.Lock(ctx) }); msg != "" {
				t.Errorf("re-entry by the owner after OnLock took a free lock: panic %q", msg)
			} else {
				l.Unlock(ctx)
			}
			l.Unlock(ctx)
			// handed over to a waiting case
			g := tock.NewGroup(ctx)
			unlock, err := advSelHoldLock(ctx, g, &l)
			if err != nil {
				return err
			}
			g.Go(func(ctx context.Context) error {
				for l.Stats().Waiting == 0 {
					tock.Yield(ctx)
				}
				unlock()
				return nil
			})
			if i, err := tock.Select(ctx, tock.OnLock(&l, nil)); i != 0 || err != nil {
				return fmt.Errorf("select: %d %v", i, err)
			}
			if msg := panicOf(func() { l.Lock(ctx) }); msg != "" {
				t.Errorf("re-entry by the owner after OnLock was handed the lock: panic %q", msg)
			} else {
				l.Unlock(ctx)
			}
			l.Unlock(ctx)
			if err := g.Wait(); err != nil {
				return err
			}
			// The other way round: a raw goroutine sharing the task's ctx
			// re-enters the task's lock through OnLock, and checked mode
			// does not see it (OnLock's take never calls checkReentry).
			l.Lock(ctx)
			got := make(chan string, 1)
			go func() { //tockvet:ignore the raw goroutine sharing the task's ctx is the misuse under test
				got <- panicOf(func() {
					if i, err := tock.Select(ctx, tock.OnLock(&l, nil)); i == 0 && err == nil {
						l.Unlock(ctx)
					}
				})
			}()
			var msg string
			if err := within(t, "the raw goroutine's Select", func() error { msg = <-got; return nil }); err != nil { //tockvet:ignore bounded by within
				return err
			}
			if !strings.Contains(msg, "re-entered") {
				t.Errorf("raw goroutine re-entering through OnLock in checked mode: panic %q, want the re-entry panic", msg)
			}
			l.Unlock(ctx)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Programming errors must panic at the call with a message naming the type
// and the rule ("tock: X: ..."). These odd inputs panic with a bare
// runtime error instead (or, for AnyOf's nil wait, with a *PanicError
// wrapping the nil-func call, raised from a task after the other waits
// started):
//   - Select(ctx, nil) and a nil case among others: select.go, Select's
//     `c.check(s)` loop calls a method on the nil interface;
//   - AnyOf(nil, ...) and AllOf(nil, ...): anyof.go calls ctx.Err() with no
//     panicIfNilCtx;
//   - AnyOf(ctx, nil): anyof.go never checks the waits (Group.Go checks
//     its task, but AnyOf wraps each wait in a closure);
//   - the zero Monitor's Stats and Mean: monitor.go, Stats has no usable()
//     check, and advance calls m.rt.Now() on a nil Runtime (Set, Add and
//     Reset name the rule).
func TestSelectHardeningOddInputsUnnamedPanics(t *testing.T) {
	var nilCtx context.Context
	ctx := context.Background()
	var e tock.Event
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Select with a nil case", func() { tock.Select(ctx, nil) }},
		{"Select with a nil second case", func() { tock.Select(ctx, tock.OnEvent(&e, nil), nil) }},
		{"AnyOf with a nil ctx", func() { tock.AnyOf(nilCtx, e.Wait) }},
		{"AllOf with a nil ctx", func() { tock.AllOf(nilCtx, e.Wait) }},
		{"AnyOf with a nil wait", func() { tock.AnyOf(ctx, nil) }},
		{"zero Monitor Stats", func() { var m tock.Monitor; m.Stats() }},
		{"zero Monitor Mean", func() { var m tock.Monitor; m.Mean() }},
	} {
		msg := panicOf(c.f)
		if len(msg) > 120 {
			msg = msg[:120] + "..."
		}
		if !strings.HasPrefix(msg, "tock: ") || strings.Contains(msg, "runtime error") {
			t.Errorf("%s: panic %q; want a message naming the type and the rule", c.name, msg)
		}
	}
}

// A full DropOldest Subscription that takes a new message drops its oldest
// one: the number buffered does not change. The watched ring records it as
// two changes, a pop (n-1) then a push (n) (pipe.go, offer:
// p.buf.pop(); p.buf.push(v), each recording into ring.lvl), so the Level
// monitor counts changes that did not happen and reports a Min the level
// never had.
// Expected (and now so): Level Min 2, Changes 0 (the level stays 2 throughout).
// Before the fix: Min 1, Changes 2 per dropped message.
func TestSelectHardeningDropOldestLevelPhantomDip(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		ch := tock.NewChannel[int]()
		sub := ch.Subscribe(tock.MaxBuffer(2, tock.DropOldest))
		defer sub.Close()
		ch.Put(ctx, 1)
		ch.Put(ctx, 2)
		lvl := tock.NewMonitor(ctx, 2)
		sub.Watch(&tock.Monitors{Level: lvl})
		tock.Sleep(ctx, h.U(1))
		ch.Put(ctx, 3) // drops 1
		tock.Sleep(ctx, h.U(1))
		if st := sub.Stats(); st.Buffered != 2 || st.Dropped != 1 {
			return fmt.Errorf("subscription: %+v", st)
		}
		if s := lvl.Stats(); s.Min != 2 || s.Changes != 0 || s.Value != 2 {
			return fmt.Errorf("level monitor: min %v changes %d value %v; want 2 0 2 (the level never changed)", s.Min, s.Changes, s.Value)
		}
		return nil
	})
}

// In a simulation, a wait whose ctx carries a wall-clock deadline
// (context.WithTimeout over a task's ctx) is refused with
// sim.ErrWallClockDeadline: Queue.Get returns it. Select drops the park's
// error (select.go, Select: after ParkSelect fails with an error that is
// neither a refusal nor a timer's deadline, it cancels the claim and
// returns `-1, ctx.Err()`), and ctx is not done: Select returns -1 and a
// nil error, "no case won" and "no error" at once.
// Expected (and now so): -1, sim.ErrWallClockDeadline. Before the fix: -1, nil.
func TestSelectHardeningWallClockDeadlineLost(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		wctx, cancel := context.WithTimeout(ctx, time.Hour) //tockvet:ignore a wall-clock deadline in a simulation is the misuse under test
		defer cancel()
		if _, err := q.Get(wctx); !errors.Is(err, sim.ErrWallClockDeadline) {
			t.Errorf("Get: %v", err)
		}
		i, err := tock.Select(wctx, tock.OnGet(q, nil))
		if i != -1 || !errors.Is(err, sim.ErrWallClockDeadline) {
			t.Errorf("Select: %d, %v; want -1 and sim.ErrWallClockDeadline", i, err)
		}
		if q.Waiting() != 0 {
			t.Errorf("%d waiting", q.Waiting())
		}
		return nil
	})
}

// OnLock's arm (select.go, unitCase.arm with OnLock's take and pre) reads
// the lock's state in take, finds it held, and then, in pre, sets the
// waiters bit with a CAS on whatever the state is then, without checking
// again that it is still held. The owner's unwatched Unlock is a lock-free
// CAS (held -> 0) that does not take l.mu, so when it lands between take
// and pre, pre turns the free lock's state 0 into waitersBit alone (free,
// "waiters queued") and queues the Select's waiter: nobody will ever hand
// the lock over (lockSlow, by contrast, retries the take when it sees 0).
// The Select waits until its timeout and every later Lock queues forever.
// Expected (and now so): the Select gets the lock (it is free), and Lock never times out
// on a lock nobody holds. Before the fix (within a few thousand rounds on 2 cores):
// "Lock: context deadline exceeded; lock {Locked:false ... Waiting:1}".
func TestSelectHardeningOnLockLostWakeup(t *testing.T) {
	checkLeaks(t)
	var l tock.Lock
	start := time.Now() //tockvet:ignore bounds a real-runtime race hunt on the wall clock
	err := within(t, "the race", func() error {
		return tock.Run(context.Background(), func(ctx context.Context) error {
			var stop atomic.Bool
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { // the owner: fast-path Lock and Unlock
				defer stop.Store(true)
				for i := 0; i < 200000 && !stop.Load() && time.Since(start) < 5*time.Second; i++ { //tockvet:ignore the same bound
					lctx, cancel := tock.WithTimeout(ctx, 2*time.Second)
					err := l.Lock(lctx)
					cancel()
					if err != nil {
						return fmt.Errorf("round %d: Lock: %v; lock %+v", i, err, l.Stats())
					}
					l.Unlock(ctx)
				}
				return nil
			})
			g.Go(func(ctx context.Context) error { // the Select
				for i := 0; !stop.Load(); i++ {
					j, err := tock.Select(ctx, tock.OnLock(&l, nil), tock.OnTimeout(2*time.Second, nil))
					if err != nil {
						return err
					}
					if j != 0 {
						stop.Store(true)
						return fmt.Errorf("round %d: the Select timed out; lock %+v", i, l.Stats())
					}
					l.Unlock(ctx)
				}
				return nil
			})
			return g.Wait()
		})
	})
	if err != nil {
		t.Error(err)
	}
}

// One Select waits on nine primitives, each watched; the monitors are
// detached and attached again (the same ones, then fresh ones) while it
// waits. Once it returns, every Queue monitor it was counted in is back at
// 0 and never went negative.
func TestSelectAdversarialWatchReattachWhileSelectWaits(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		q := tock.NewQueue[int]()
		sem := tock.NewSemaphore(0)
		var l tock.Lock
		var ev tock.Event
		pl := tock.NewPriorityLimiter(1)
		permit, _ := pl.TryAcquire(ctx, 0)
		tr := tock.NewTracked(0)
		tank := tock.NewContainer(10, 0)
		cl := tock.NewCapacityLimiter(1)
		cl.TryAcquireFor("holder")
		ch := tock.NewChannel[int]()
		sub := ch.Subscribe()
		defer sub.Close()
		holder := tock.NewGroup(ctx)
		unlock, err := advSelHoldLock(ctx, holder, &l)
		if err != nil {
			return err
		}
		prims := []tock.Watchable{q, sem, &l, &ev, pl, tr, tank, cl, sub}
		mons := make([]*tock.Monitors, len(prims))
		for i, p := range prims {
			mons[i] = &tock.Monitors{Queue: tock.NewMonitor(ctx, 0)}
			p.Watch(mons[i])
		}
		g := tock.NewGroup(ctx)
		var idx int
		g.Go(func(ctx context.Context) error {
			var err error
			idx, err = tock.Select(ctx, tock.OnGet(q, nil), tock.OnAcquire(sem, nil), tock.OnLock(&l, nil),
				tock.OnPermit(pl, 0, nil), tock.OnTracked(tr, func(v int) bool { return v > 0 }, nil),
				tock.OnContainerGet(tank, 5, nil), tock.OnBorrowFor(cl, "me", nil), tock.OnSubscription(sub, nil),
				tock.OnEvent(&ev, nil))
			return err
		})
		h.WaitUntil(ctx, "the select waits in all", func() bool {
			for _, m := range mons {
				if m.Queue.Value() != 1 {
					return false
				}
			}
			return true
		})
		for i, p := range prims {
			p.Watch(nil)
			p.Watch(mons[i]) // the same monitors again
		}
		fresh := make([]*tock.Monitors, len(prims))
		for i, p := range prims {
			p.Watch(mons[i]) // and again, without a detach
			fresh[i] = &tock.Monitors{Queue: tock.NewMonitor(ctx, 0)}
		}
		ev.Set()
		if err := g.Wait(); err != nil || idx != 8 {
			return fmt.Errorf("select: %d %v", idx, err)
		}
		for i, p := range prims {
			if s := mons[i].Queue.Stats(); s.Value != 0 || s.Min < 0 || s.Max != 1 {
				t.Errorf("primitive %d (%T): queue monitor %+v", i, p, s)
			}
			p.Watch(fresh[i])
			if s := fresh[i].Queue.Stats(); s.Value != 0 || s.Changes != 0 {
				t.Errorf("primitive %d (%T): fresh queue monitor %+v", i, p, s)
			}
		}
		// Everything still works, and nothing was taken.
		unlock()
		if err := holder.Wait(); err != nil {
			return err
		}
		permit.Release()
		cl.ReleaseFor("holder")
		if l.Locked() || sem.Value() != 0 || q.Len() != 0 || tank.Level() != 0 || pl.Stats().InUse != 0 || cl.Stats().Borrowed != 0 {
			t.Errorf("after: lock %v sem %d q %d tank %v pl %+v cl %+v", l.Locked(), sem.Value(), q.Len(), tank.Level(), pl.Stats(), cl.Stats())
		}
		return nil
	})
}

// A winning case's callback panics: the panic goes out of Select as is,
// after every case left its queue (no internal lock held, nothing left
// queued), the OnChannel case's subscription is gone, and the primitives
// work afterwards. The item the callback was given was taken (delivered).
func TestSelectAdversarialCallbackPanics(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		q1, q2 := tock.NewQueue[int](), tock.NewQueue[int]()
		ch := tock.NewChannel[int]()
		boom := func(int) { panic("callback boom") }
		// immediate winner
		q1.Put(ctx, 1)
		expectPanic(t, "callback boom", func() {
			tock.Select(ctx, tock.OnGet(q2, nil), tock.OnGet(q1, boom), tock.OnChannel(ch, nil))
		})
		// waiting winner
		g := tock.NewGroup(ctx)
		var msg string
		g.Go(func(ctx context.Context) error {
			msg = panicOf(func() {
				tock.Select(ctx, tock.OnGet(q1, nil), tock.OnChannel(ch, boom), tock.OnGet(q2, nil))
			})
			return nil
		})
		h.WaitUntil(ctx, "select waits", func() bool { return q1.Waiting() == 1 && q2.Waiting() == 1 })
		ch.Put(ctx, 2)
		if err := g.Wait(); err != nil {
			return err
		}
		if msg != "callback boom" {
			t.Errorf("waiting winner: panic %q", msg)
		}
		if q1.Waiting() != 0 || q2.Waiting() != 0 || q1.Len() != 0 {
			t.Errorf("left: waiting %d %d, len %d", q1.Waiting(), q2.Waiting(), q1.Len())
		}
		q2.Put(ctx, 3)
		i, err := tock.Select(ctx, tock.OnGet(q1, nil), tock.OnGet(q2, nil))
		if i != 1 || err != nil {
			t.Errorf("select after: %d %v", i, err)
		}
		return nil
	})
}

// The same Queue and the same Subscription twice in one Select, with
// timeouts racing the hand-offs, on the real runtime: every item is
// received exactly once, and nothing stays queued.
func TestSelectAdversarialSamePrimitiveTwiceConserves(t *testing.T) {
	checkLeaks(t)
	const n = 20000
	err := within(t, "the run", func() error {
		return tock.Run(context.Background(), func(ctx context.Context) error {
			q := tock.NewQueue[int]()
			ch := tock.NewChannel[int]()
			sub := ch.Subscribe()
			seen := make([]atomic.Int32, 2*n)
			var got atomic.Int64
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				for i := range n {
					q.Put(ctx, i)
					ch.Put(ctx, n+i)
				}
				return nil
			})
			for range 2 {
				g.Go(func(ctx context.Context) error {
					record := func(v int) { seen[v].Add(1); got.Add(1) }
					for got.Load() < 2*n {
						_, err := tock.Select(ctx, tock.OnGet(q, record), tock.OnSubscription(sub, record),
							tock.OnGet(q, record), tock.OnSubscription(sub, record), tock.OnTimeout(time.Microsecond, nil))
						if err != nil {
							return err
						}
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				return err
			}
			for v := range seen {
				if c := seen[v].Load(); c != 1 {
					t.Errorf("item %d received %d times", v, c)
					break
				}
			}
			if q.Waiting() != 0 || q.Len() != 0 || sub.Stats().Buffered != 0 {
				t.Errorf("left: waiting %d len %d buffered %d", q.Waiting(), q.Len(), sub.Stats().Buffered)
			}
			sub.Close()
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// On the real runtime, three raw goroutines share one ctx derived from a
// task's (WithValue, then WithCancel) and park in Selects at once; one
// cancel ends all three with context.Canceled and leaves nothing queued.
func TestSelectAdversarialRawGoroutinesDerivedCtxCancel(t *testing.T) {
	checkLeaks(t)
	err := within(t, "run", func() error {
		return tock.Run(context.Background(), func(ctx context.Context) error {
			for round := range 50 {
				dctx, cancel := context.WithCancel(context.WithValue(ctx, struct{}{}, 1))
				q1, q2 := tock.NewQueue[int](), tock.NewQueue[int]()
				errs := make(chan error, 3)
				for range 3 {
					go func() { //tockvet:ignore raw goroutines sharing a task's derived ctx
						_, err := tock.Select(dctx, tock.OnGet(q1, nil), tock.OnGet(q2, nil))
						errs <- err
					}()
				}
				for q1.Waiting() != 3 {
					tock.Yield(ctx)
				}
				cancel()
				for range 3 {
					if err := <-errs; !errors.Is(err, context.Canceled) { //tockvet:ignore bounded by within
						t.Errorf("round %d: %v", round, err)
					}
				}
				if q1.Waiting() != 0 || q2.Waiting() != 0 {
					t.Errorf("round %d: left %d %d", round, q1.Waiting(), q2.Waiting())
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// advSelHoldLock starts a task of g that takes l and holds it until the
// returned unlock is called; it returns once the task holds l.
func advSelHoldLock(ctx context.Context, g *tock.Group, l *tock.Lock) (unlock func(), err error) {
	var locked, release tock.Event
	g.Go(func(ctx context.Context) error {
		if err := l.Lock(ctx); err != nil {
			return err
		}
		locked.Set()
		release.Wait(ctx)
		l.Unlock(ctx)
		return nil
	})
	return release.Set, locked.Wait(ctx)
}

// Cases reused across many Selects, some completing at once and some
// waiting, lose nothing and leave no waiter behind, on both runtimes,
// with the items coming from another task in an order that makes either
// case win.
func TestSelectReusedCasesLoseNothing(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		const n = 300
		q1, q2 := tock.NewQueue[int](), tock.NewQueue[int]()
		var sum, count int
		take := func(v int) { sum += v; count++ }
		cases := []tock.SelectCase{tock.OnGet(q1, take), tock.OnGet(q2, take)}
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			for i := 1; i <= n; i++ {
				q := q1
				if i%3 == 0 {
					q = q2
				}
				if err := q.Put(ctx, i); err != nil {
					return err
				}
				if i%7 == 0 {
					tock.Yield(ctx)
				}
			}
			return nil
		})
		for count < n {
			if _, err := tock.Select(ctx, cases...); err != nil {
				return err
			}
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if want := n * (n + 1) / 2; sum != want {
			t.Errorf("received a sum of %d, want %d", sum, want)
		}
		if w1, w2 := q1.Waiting(), q2.Waiting(); w1 != 0 || w2 != 0 {
			t.Errorf("waiters left behind: %d, %d", w1, w2)
		}
		return nil
	})
}

type selectKey int

// A Select with a timeout case under a ctx derived from a task's (values
// over a stdlib cancel, as a request handler passes it): the timeout fires
// at its instant and leaves no waiter queued; a cancellation while it
// waits returns the ctx's error, not the timeout; a timeout already due
// (zero or negative) wins at once over a ready case behind it, which keeps
// its item.
func TestSelectTimeoutDerivedCtx(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		d := context.WithValue(context.WithValue(cctx, selectKey(1), 1), selectKey(2), 2)
		q := tock.NewQueue[int]()
		start := tock.Now(ctx)
		if i, err := tock.Select(d, tock.OnGet(q, nil), tock.OnTimeout(h.U(1), nil)); i != 1 || err != nil {
			t.Errorf("timeout: Select = %d, %v; want 1, nil", i, err)
		}
		if el := tock.Now(ctx).Sub(start); el < h.U(1) || (h.Sim && el != h.U(1)) {
			t.Errorf("timed out after %v, want %v", el, h.U(1))
		}
		if n := q.Waiting(); n != 0 {
			t.Errorf("after the timeout, %d waiting on the queue", n)
		}
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			h.WaitUntil(ctx, "the Select waits", func() bool { return q.Waiting() == 1 })
			cancel()
			return nil
		})
		if i, err := tock.Select(d, tock.OnGet(q, nil), tock.OnTimeout(h.U(1000), nil)); i != -1 || !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: Select = %d, %v; want -1, context.Canceled", i, err)
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if err := q.Put(ctx, 5); err != nil {
			return err
		}
		for _, due := range []time.Duration{0, -h.U(1)} {
			if i, err := tock.Select(ctx, tock.OnTimeout(due, nil), tock.OnGet(q, nil)); i != 0 || err != nil {
				t.Errorf("timeout %v: Select = %d, %v; want 0, nil", due, i, err)
			}
		}
		if n := q.Len(); n != 1 {
			t.Errorf("%d items left, want the one the due timeouts won over", n)
		}
		return nil
	})
}
