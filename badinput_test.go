package tock_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// Issue 12, defect 8: bad input gets a named panic at the call, not a nil
// dereference later. Every constructor, option and method of the primitives
// is called with each odd input it can get (nil ctx, nil funcs, nil options,
// out-of-range enums, negative counts, zero values that are not usable, bad
// borrowers); each must panic at once with "tock: <Type.Method>: <rule>",
// and every primitive it touched must still work afterwards (no internal
// mutex left held, nothing half-queued). The table runs on both runtimes.

// badCall is one call that must panic with a message containing want.
type badCall struct {
	want string
	call func()
}

// prims is one set of primitives the bad calls are made on, checked for
// health afterwards.
type prims struct {
	lock  tock.Lock
	cond  *tock.Condition
	sem   *tock.Semaphore
	ev    tock.Event
	lim   *tock.CapacityLimiter
	queue *tock.Queue[int]
	ch    *tock.Channel[int]
	sub   *tock.Subscription[int]
	send  *tock.SendStream[int]
	recv  *tock.ReceiveStream[int]
}

func newPrims() *prims {
	p := &prims{
		cond:  tock.NewCondition(nil),
		sem:   tock.NewSemaphore(1),
		lim:   tock.NewCapacityLimiter(2),
		queue: tock.NewQueue[int](),
		ch:    tock.NewChannel[int](),
	}
	p.sub = p.ch.Subscribe()
	p.send, p.recv = tock.NewStream[int](4)
	return p
}

func badCalls(ctx context.Context, p *prims) []badCall {
	var nilCtx context.Context
	var zs tock.SendStream[int]
	var zr tock.ReceiveStream[int]
	var zsub tock.Subscription[int]
	var nilSend *tock.SendStream[int]
	var nilRecv *tock.ReceiveStream[int]
	var nilSub *tock.Subscription[int]
	return []badCall{
		// nil ctx, every ctx-taking call
		{"tock: TaskID: nil ctx", func() { tock.TaskID(nilCtx) }},
		{"tock: TaskName: nil ctx", func() { tock.TaskName(nilCtx) }},
		{"tock: Simulated: nil ctx", func() { tock.Simulated(nilCtx) }},
		{"tock: Lock.Lock: nil ctx", func() { p.lock.Lock(nilCtx) }},
		{"tock: Lock.TryLock: nil ctx", func() { p.lock.TryLock(nilCtx) }},
		{"tock: Lock.Unlock: nil ctx", func() { p.lock.Unlock(nilCtx) }},
		{"tock: Lock.Available: nil ctx", func() { p.lock.Available(nilCtx) }},
		{"tock: Condition.Lock: nil ctx", func() { p.cond.Lock(nilCtx) }},
		{"tock: Condition.Unlock: nil ctx", func() { p.cond.Unlock(nilCtx) }},
		{"tock: Condition.Wait: nil ctx", func() { p.cond.Wait(nilCtx) }},
		{"tock: Condition.WaitFor: nil ctx", func() { p.cond.WaitFor(nilCtx, func() bool { return true }) }},
		{"tock: Condition.Notify: nil ctx", func() { p.cond.Notify(nilCtx, 1) }},
		{"tock: Condition.NotifyAll: nil ctx", func() { p.cond.NotifyAll(nilCtx) }},
		{"tock: Semaphore.Acquire: nil ctx", func() { p.sem.Acquire(nilCtx) }},
		{"tock: Event.Wait: nil ctx", func() { p.ev.Wait(nilCtx) }},
		{"tock: CapacityLimiter.Acquire: nil ctx", func() { p.lim.Acquire(nilCtx) }},
		{"tock: CapacityLimiter.AcquireFor: nil ctx", func() { p.lim.AcquireFor(nilCtx, "b") }},
		{"tock: CapacityLimiter.TryAcquire: nil ctx", func() { p.lim.TryAcquire(nilCtx) }},
		{"tock: CapacityLimiter.Release: nil ctx", func() { p.lim.Release(nilCtx) }},
		{"tock: Queue.Put: nil ctx", func() { p.queue.Put(nilCtx, 1) }},
		{"tock: Queue.Get: nil ctx", func() { p.queue.Get(nilCtx) }},
		{"tock: Queue.All: nil ctx", func() { p.queue.All(nilCtx) }},
		{"tock: Channel.Put: nil ctx", func() { p.ch.Put(nilCtx, 1) }},
		{"tock: Channel.Receive: nil ctx", func() { p.ch.Receive(nilCtx) }},
		{"tock: Channel.All: nil ctx", func() { p.ch.All(nilCtx) }},
		{"tock: Subscription.Receive: nil ctx", func() { p.sub.Receive(nilCtx) }},
		{"tock: Subscription.All: nil ctx", func() { p.sub.All(nilCtx) }},
		{"tock: SendStream.Send: nil ctx", func() { p.send.Send(nilCtx, 1) }},
		{"tock: ReceiveStream.Receive: nil ctx", func() { p.recv.Receive(nilCtx) }},
		{"tock: ReceiveStream.All: nil ctx", func() { p.recv.All(nilCtx) }},
		{"tock: Now: nil ctx", func() { tock.Now(nilCtx) }},
		{"tock: Sleep: nil ctx", func() { tock.Sleep(nilCtx, time.Second) }},
		{"tock: SleepUntil: nil ctx", func() { tock.SleepUntil(nilCtx, time.Time{}) }},
		{"tock: Yield: nil ctx", func() { tock.Yield(nilCtx) }},
		{"tock: WithTimeout: nil ctx", func() { tock.WithTimeout(nilCtx, time.Second) }},
		{"tock: WithDeadline: nil ctx", func() { tock.WithDeadline(nilCtx, time.Time{}) }},
		{"tock: WithCancel: nil ctx", func() { tock.WithCancel(nilCtx) }},

		// nil funcs and nil options
		{"tock: Condition.WaitFor: nil predicate", func() { p.cond.WaitFor(ctx, nil) }},
		{"tock: NewSemaphore: option 0 is nil", func() { tock.NewSemaphore(1, nil) }},
		{"tock: NewSemaphore: option 1 is nil", func() { tock.NewSemaphore(1, tock.FastAcquire(), nil) }},
		{"tock: Channel.Subscribe: option 0 is nil", func() { p.ch.Subscribe(nil) }},
		{"tock: Channel.Subscribe: option 1 is nil", func() { p.ch.Subscribe(tock.MaxBuffer(1, tock.DropOldest), nil) }},

		// out-of-range enums and counts
		{"tock: MaxBuffer: unknown Overflow policy 99; use DropOldest or DropNewest", func() { tock.MaxBuffer(1, tock.Overflow(99)) }},
		{"tock: MaxBuffer: unknown Overflow policy -1", func() { tock.MaxBuffer(1, tock.Overflow(-1)) }},
		{"tock: MaxBuffer: a subscription buffer must hold at least 1 message, not 0", func() { tock.MaxBuffer(0, tock.DropNewest) }},
		{"tock: MaxBuffer: a subscription buffer must hold at least 1 message, not -3", func() { tock.MaxBuffer(-3, tock.DropNewest) }},
		{"tock: NewSemaphore: the initial value -1 is negative", func() { tock.NewSemaphore(-1) }},
		{"tock: MaxValue: the maximum value -1 is negative", func() { tock.MaxValue(-1) }},
		{"tock: NewSemaphore: the maximum value 0 is below the initial value 1", func() { tock.NewSemaphore(1, tock.MaxValue(0)) }},
		{"tock: NewCapacityLimiter: the total -1 is negative", func() { tock.NewCapacityLimiter(-1) }},
		{"tock: CapacityLimiter.SetTotal: the total -5 is negative", func() { p.lim.SetTotal(-5) }},
		{"tock: NewStream: the buffer size -1 is negative", func() { tock.NewStream[int](-1) }},
		{"tock: Condition.Notify: negative count -2", func() { p.cond.Lock(ctx); defer p.cond.Unlock(ctx); p.cond.Notify(ctx, -2) }},

		// borrowers that cannot be map keys
		{"tock: CapacityLimiter.AcquireFor: borrower of type []int is not comparable", func() { p.lim.AcquireFor(ctx, []int{1}) }},
		{"tock: CapacityLimiter.AcquireFor: borrower of type [1]interface {} is not comparable", func() { p.lim.AcquireFor(ctx, [1]any{[]int{}}) }},
		{"tock: CapacityLimiter.AcquireFor: borrower of type struct { F interface {} } is not comparable", func() { p.lim.AcquireFor(ctx, struct{ F any }{map[int]int{}}) }},
		{"tock: CapacityLimiter.TryAcquireFor: borrower of type map[string]int is not comparable", func() { p.lim.TryAcquireFor(map[string]int{}) }},
		{"tock: CapacityLimiter.ReleaseFor: borrower of type func() is not comparable", func() { p.lim.ReleaseFor(func() {}) }},
		{"tock: CapacityLimiter.AcquireFor: nil borrower", func() { p.lim.AcquireFor(ctx, nil) }},
		{"tock: CapacityLimiter.TryAcquireFor: nil borrower", func() { p.lim.TryAcquireFor(nil) }},
		{"tock: CapacityLimiter.ReleaseFor: nil borrower", func() { p.lim.ReleaseFor(nil) }},

		// zero and nil handles
		{"tock: SendStream.Send: zero or nil SendStream; make streams with NewStream", func() { zs.Send(ctx, 1) }},
		{"tock: SendStream.TrySend: zero or nil SendStream", func() { zs.TrySend(1) }},
		{"tock: SendStream.Clone: zero or nil SendStream", func() { zs.Clone() }},
		{"tock: SendStream.Close: zero or nil SendStream", func() { zs.Close() }},
		{"tock: SendStream.Stats: zero or nil SendStream", func() { zs.Stats() }},
		{"tock: SendStream.Send: zero or nil SendStream", func() { nilSend.Send(ctx, 1) }},
		{"tock: ReceiveStream.Receive: zero or nil ReceiveStream; make streams with NewStream", func() { zr.Receive(ctx) }},
		{"tock: ReceiveStream.TryReceive: zero or nil ReceiveStream", func() { zr.TryReceive() }},
		{"tock: ReceiveStream.Clone: zero or nil ReceiveStream", func() { zr.Clone() }},
		{"tock: ReceiveStream.Close: zero or nil ReceiveStream", func() { zr.Close() }},
		{"tock: ReceiveStream.Stats: zero or nil ReceiveStream", func() { zr.Stats() }},
		{"tock: ReceiveStream.All: zero or nil ReceiveStream", func() { zr.All(ctx) }},
		{"tock: ReceiveStream.Close: zero or nil ReceiveStream", func() { nilRecv.Close() }},
		{"tock: Subscription.Receive: zero or nil Subscription; make it with Channel.Subscribe", func() { zsub.Receive(ctx) }},
		{"tock: Subscription.All: zero or nil Subscription", func() { zsub.All(ctx) }},
		{"tock: Subscription.Close: zero or nil Subscription", func() { zsub.Close() }},
		{"tock: Subscription.Stats: zero or nil Subscription", func() { zsub.Stats() }},
		{"tock: Subscription.Stats: zero or nil Subscription", func() { nilSub.Stats() }},

		// Select and its cases: a bad case panics where it is made, or when
		// Select starts, before any case is armed (the shared primitives'
		// health is checked afterwards)
		{"tock: Select: nil ctx", func() { tock.Select(nilCtx, tock.OnEvent(&p.ev, nil)) }},
		{"tock: Select: no case given", func() { tock.Select(ctx) }},
		{"tock: ReceiveStream.OnReceive: zero or nil ReceiveStream; make streams with NewStream", func() { tock.OnReceive(nilRecv, nil) }},
		{"tock: ReceiveStream.OnReceive: zero or nil ReceiveStream", func() { tock.OnReceive(&zr, nil) }},
		{"tock: SendStream.OnSend: zero or nil SendStream; make streams with NewStream", func() { tock.OnSend(nilSend, 1, nil) }},
		{"tock: SendStream.OnSend: zero or nil SendStream", func() { tock.OnSend(&zs, 1, nil) }},
		{"tock: Subscription.OnSubscription: zero or nil Subscription; make it with Channel.Subscribe", func() { tock.OnSubscription(nilSub, nil) }},
		{"tock: Subscription.OnSubscription: zero or nil Subscription", func() { tock.OnSubscription(&zsub, nil) }},
		{"tock: Queue.OnGet: nil *Queue", func() { tock.OnGet[int](nil, nil) }},
		{"tock: Channel.OnChannel: nil *Channel", func() { tock.OnChannel[int](nil, nil) }},
		{"tock: Event.OnEvent: nil *Event", func() { tock.OnEvent(nil, nil) }},
		{"tock: Lock.OnLock: nil *Lock", func() { tock.OnLock(nil, nil) }},
		{"tock: Semaphore.OnAcquire: nil *Semaphore", func() { tock.OnAcquire(nil, nil) }},
		{"tock: CapacityLimiter.OnBorrow: nil *CapacityLimiter", func() { tock.OnBorrow(nil, nil) }},
		{"tock: CapacityLimiter.OnBorrowFor: nil *CapacityLimiter", func() { tock.OnBorrowFor(nil, "b", nil) }},
		{"tock: CapacityLimiter.OnBorrowFor: nil borrower", func() { tock.OnBorrowFor(p.lim, nil, nil) }},
		{"tock: CapacityLimiter.OnBorrowFor: borrower of type []int is not comparable", func() { tock.OnBorrowFor(p.lim, []int{1}, nil) }},
		{"tock: PriorityLimiter.OnPermit: nil *PriorityLimiter", func() { tock.OnPermit(nil, 0, nil) }},
		{"tock: PriorityLimiter.OnPermit: the PriorityLimiter was not made with NewPriorityLimiter", func() { tock.OnPermit(new(tock.PriorityLimiter), 0, nil) }},
		{"tock: PriorityLimiter.Acquire: the PriorityLimiter was not made with NewPriorityLimiter", func() { new(tock.PriorityLimiter).Acquire(ctx, 0) }},
		{"tock: PriorityLimiter.AcquireTimeout: the PriorityLimiter was not made with NewPriorityLimiter", func() { new(tock.PriorityLimiter).AcquireTimeout(ctx, 0, time.Second) }},
		{"tock: PriorityLimiter.TryAcquire: the PriorityLimiter was not made with NewPriorityLimiter", func() { new(tock.PriorityLimiter).TryAcquire(ctx, 0) }},
		{"tock: Container.OnContainerPut: nil *Container", func() { tock.OnContainerPut(nil, 1, nil) }},
		{"tock: Container.OnContainerGet: nil *Container", func() { tock.OnContainerGet(nil, 1, nil) }},
		{"tock: Container.OnContainerPut: the Container was not made with NewContainer", func() { tock.OnContainerPut(new(tock.Container), 1, nil) }},
		{"tock: Container.OnContainerGet: the amount -1 is not a finite non-negative number", func() { tock.OnContainerGet(tock.NewContainer(5, 0), -1, nil) }},
		{"tock: Container.OnContainerPut: the amount NaN is not a finite non-negative number", func() { tock.OnContainerPut(tock.NewContainer(5, 0), math.NaN(), nil) }},
		{"tock: Container.OnContainerPut: the amount 6 exceeds the capacity 5", func() { tock.OnContainerPut(tock.NewContainer(5, 0), 6, nil) }},
		{"tock: Tracked.OnTracked: nil *Tracked", func() { tock.OnTracked[int](nil, func(int) bool { return true }, nil) }},
		{"tock: Tracked.OnTracked: the condition is nil", func() { tock.OnTracked(tock.NewTracked(0), nil, nil) }},
		{"tock: Flag.OnFlag: nil *Flag", func() { tock.OnFlag(nil, nil) }},
		{"tock: CapacityLimiter.OnBorrowFor: this borrower is already waiting for a token (two cases of one Select borrow for it)", func() {
			tock.Select(ctx, tock.OnGet(p.queue, nil), tock.OnBorrowFor(p.lim, "b", nil), tock.OnBorrowFor(p.lim, "b", nil))
		}},
		{"tock: CapacityLimiter.OnBorrowFor: this borrower already holds one of the limiter's tokens", func() {
			l := tock.NewCapacityLimiter(2)
			l.TryAcquireFor("b")
			tock.Select(ctx, tock.OnGet(p.queue, nil), tock.OnBorrowFor(l, "b", nil))
		}},

		// misuse the library already named, made on the shared primitives
		// so that their health is checked afterwards too
		{"tock: Lock.Unlock: the lock is not locked", func() { p.lock.Unlock(ctx) }},
		{"tock: Condition.Wait: the caller does not hold the condition's lock", func() { p.cond.Wait(ctx) }},
		{"tock: Condition.WaitFor: the caller does not hold the condition's lock", func() { p.cond.WaitFor(ctx, func() bool { return true }) }},
		{"tock: CapacityLimiter.ReleaseFor: this borrower holds none of the limiter's tokens", func() { p.lim.ReleaseFor("nobody") }},
	}
}

// panicOf runs f and returns what it panicked with, as text ("" if it did
// not panic).
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if msg == "" {
				msg = "(empty panic)"
			}
		}
	}()
	f()
	return ""
}

// checkBadCalls makes every bad call on a new set of primitives. With
// bounded (the real runtime), each call runs on its own goroutine and a
// call still blocked after 2s fails the test instead of hanging it.
func checkBadCalls(t *testing.T, ctx context.Context, bounded bool) *prims {
	t.Helper()
	p := newPrims()
	for i, c := range badCalls(ctx, p) {
		var got string
		if bounded {
			done := make(chan string, 1)
			go func() { done <- panicOf(c.call) }()
			//tockvet:ignore real runtime only: bounds a call that should panic, on the wall clock
			select {
			case got = <-done:
			case <-time.After(2 * time.Second): //tockvet:ignore real runtime only, as above
				t.Errorf("call %d: blocked; want a panic %q", i, c.want)
				continue
			}
		} else {
			got = panicOf(c.call)
		}
		switch {
		case got == "":
			t.Errorf("call %d: no panic; want %q", i, c.want)
		case !strings.Contains(got, c.want):
			t.Errorf("call %d: panic %q; want it to contain %q", i, got, c.want)
		}
	}
	return p
}

// use exercises every primitive of p once: each would block on an internal
// mutex that a panic left held, and fails if state was left half-done.
func (p *prims) use(ctx context.Context) error {
	if err := p.lock.Lock(ctx); err != nil {
		return err
	}
	p.lock.Unlock(ctx)
	if err := p.cond.Lock(ctx); err != nil {
		return err
	}
	p.cond.NotifyAll(ctx)
	if st := p.cond.Stats(); st.Waiting != 0 || st.Lock.Waiting != 0 {
		return fmt.Errorf("condition: %+v", st)
	}
	p.cond.Unlock(ctx)
	if err := p.sem.Acquire(ctx); err != nil {
		return err
	}
	p.sem.Release()
	p.ev.Set()
	if err := p.ev.Wait(ctx); err != nil {
		return err
	}
	if !p.lim.TryAcquireFor("b1") || !p.lim.TryAcquireFor("b2") || p.lim.TryAcquireFor("b3") {
		return fmt.Errorf("limiter: %+v", p.lim.Stats())
	}
	p.lim.ReleaseFor("b1")
	p.lim.ReleaseFor("b2")
	if st := p.lim.Stats(); st.Borrowed != 0 || st.Waiting != 0 || st.Total != 2 {
		return fmt.Errorf("limiter: %+v", st)
	}
	if err := p.queue.Put(ctx, 7); err != nil {
		return err
	}
	if v, err := p.queue.Get(ctx); v != 7 || err != nil {
		return fmt.Errorf("queue: %d, %v", v, err)
	}
	if err := p.ch.Put(ctx, 8); err != nil {
		return err
	}
	if v, err := p.sub.Receive(ctx); v != 8 || err != nil {
		return fmt.Errorf("subscription: %d, %v", v, err)
	}
	if n := p.ch.Subscribers(); n != 1 {
		return fmt.Errorf("%d subscribers; the failed Subscribe calls must not subscribe", n)
	}
	if err := p.send.Send(ctx, 9); err != nil {
		return err
	}
	if v, err := p.recv.Receive(ctx); v != 9 || err != nil {
		return fmt.Errorf("stream: %d, %v", v, err)
	}
	return nil
}

func TestBadInputPanicsAtTheCall(t *testing.T) {
	checkLeaks(t)
	t.Run("real", func(t *testing.T) {
		err := tock.Run(context.Background(), func(ctx context.Context) error {
			p := checkBadCalls(t, ctx, true)
			return within(t, "the primitives after the bad calls", func() error { return p.use(ctx) })
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		ctx := context.Background()
		p := checkBadCalls(t, ctx, true)
		if err := within(t, "the primitives after the bad calls", func() error { return p.use(ctx) }); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("sim", func(t *testing.T) {
		err := sim.Run(context.Background(), func(ctx context.Context) error {
			return checkBadCalls(t, ctx, false).use(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// within runs f on a new goroutine and returns its error; it fails the test
// if f has not returned within 10 seconds (a mutex left held, a lost
// wake-up), instead of hanging.
func within(t testing.TB, what string, f func() error) error {
	t.Helper()
	err, ok := returnsWithin(10*time.Second, f)
	if !ok {
		t.Fatalf("%s: still blocked after 10s (an internal mutex left held, or a lost wake-up)", what)
	}
	return err
}

// returnsWithin runs f on a new goroutine and returns its error, or false
// if f has not returned within d (f is left running). It does not touch a
// testing.T, so a simulated task may call it (see noHang).
func returnsWithin(d time.Duration, f func() error) (error, bool) {
	done := make(chan error, 1)
	go func() { done <- f() }() //tockvet:ignore the bounded wait runs f off the caller's goroutine
	select {
	case err := <-done:
		return err, true
	case <-time.After(d): //tockvet:ignore a wall-clock bound on a wait that may hang
		return nil, false
	}
}

// The zero value of every primitive whose constructor takes no argument, and
// of Condition, CapacityLimiter and ResourceGuard, is usable.
func TestZeroValuesUsable(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		var c tock.Condition // over a Lock of its own
		if err := c.Lock(ctx); err != nil {
			return err
		}
		g := tock.NewGroup(ctx)
		ready := false
		g.Go(func(ctx context.Context) error {
			c.Lock(ctx)
			defer c.Unlock(ctx)
			return c.WaitFor(ctx, func() bool { return ready })
		})
		c.Unlock(ctx)
		h.WaitUntil(ctx, "waiting", func() bool { return c.Stats().Waiting == 1 })
		c.Lock(ctx)
		ready = true
		c.NotifyAll(ctx)
		c.Unlock(ctx)
		if err := g.Wait(); err != nil {
			return err
		}
		var lim tock.CapacityLimiter // total 0: nobody until SetTotal
		if lim.TryAcquireFor("x") {
			return fmt.Errorf("zero limiter lent a token")
		}
		lim.SetTotal(1)
		if err := lim.AcquireFor(ctx, "x"); err != nil {
			return err
		}
		lim.ReleaseFor("x")
		var guard tock.ResourceGuard
		if err := guard.Enter(); err != nil {
			return err
		}
		var busy *tock.BusyResourceError
		if err := guard.Enter(); err == nil || !errors.As(err, &busy) || busy.Action != "using" {
			return fmt.Errorf("second Enter: %v", err)
		}
		guard.Exit()
		var sem tock.Semaphore
		sem.Release()
		if err := sem.Acquire(ctx); err != nil {
			return err
		}
		var ev tock.Event
		ev.Set()
		if err := ev.Wait(ctx); err != nil {
			return err
		}
		var l tock.Lock
		if err := l.Lock(ctx); err != nil {
			return err
		}
		l.Unlock(ctx)
		return nil
	})
}
