package dist_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tockgo/tock"
	"github.com/tockgo/tock/dist"
)

func TestLockBasic(t *testing.T) {
	s := startServer(t)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(2*time.Second))
	b := client(t, s.ClientURL(), dist.WithLeaseTTL(2*time.Second))
	ctx := bounded(t, 30*time.Second)
	la, lb := a.NewLock("L"), b.NewLock("L")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	f1, err := la.Fence(ctx)
	if err != nil || f1 == 0 {
		t.Fatalf("Fence = %d, %v", f1, err)
	}
	if ok, err := lb.TryLock(ctx); ok || err != nil {
		t.Fatalf("TryLock while held = %v, %v; want false, nil", ok, err)
	}
	got := make(chan uint64, 1)
	go func() {
		if err := lb.Lock(ctx); err != nil {
			t.Error(err)
			got <- 0
			return
		}
		f, _ := lb.Fence(ctx)
		got <- f
	}()
	// b must not have it while a holds it (renewals keep it past the TTL).
	select {
	case <-got:
		t.Fatal("b got the lock while a held it")
	case <-time.After(3 * time.Second):
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case f2 := <-got:
		if f2 <= f1 {
			t.Fatalf("fence after hand-over %d <= %d", f2, f1)
		}
	case <-ctx.Done():
		t.Fatal("b never got the lock")
	}
	lb.Unlock(ctx)
	if locked, err := la.Locked(ctx); locked || err != nil {
		t.Fatalf("Locked after release = %v, %v", locked, err)
	}
}

func TestLockReentrantPerTask(t *testing.T) {
	s := startServer(t)
	c := client(t, s.ClientURL())
	l := c.NewLock("R")
	err := tock.Run(bounded(t, 30*time.Second), func(ctx context.Context) error {
		if err := l.Lock(ctx); err != nil {
			return err
		}
		if err := l.Lock(ctx); err != nil { // re-entry
			return err
		}
		f1, _ := l.Fence(ctx)
		// Another task of the same process must wait.
		g := tock.NewGroup(ctx)
		var other tock.Event
		var otherFence uint64
		g.Go(func(ctx context.Context) error {
			if err := l.Lock(ctx); err != nil {
				return err
			}
			otherFence, _ = l.Fence(ctx)
			other.Set()
			l.Unlock(ctx)
			return nil
		})
		l.Unlock(ctx) // depth 2 -> 1: still held
		if other.IsSet() {
			t.Error("other task got the lock at depth 1")
		}
		if locked, err := l.Locked(ctx); !locked || err != nil {
			t.Errorf("Locked at depth 1 = %v, %v", locked, err)
		}
		l.Unlock(ctx)
		if err := other.Wait(ctx); err != nil {
			return err
		}
		if otherFence <= f1 {
			t.Errorf("fences not increasing: %d then %d", f1, otherFence)
		}
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLockUnlockByNonOwnerPanics(t *testing.T) {
	s := startServer(t)
	c := client(t, s.ClientURL())
	l := c.NewLock("P")
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("Unlock of a lock not held did not panic")
		}
		if msg, _ := r.(string); msg == "" || msg[:19] != "tock/dist: Lock.Unl" {
			t.Fatalf("panic %v does not name the type", r)
		}
	}()
	l.Unlock(context.Background())
}

func TestLockFIFOAcrossClients(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	holder := client(t, s.ClientURL())
	hl := holder.NewLock("F")
	if err := hl.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 5
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c := client(t, s.ClientURL())
		l := c.NewLock("F")
		// Queue them one after the other: wait until i waiters are queued.
		waitQueued(t, ctx, holder, "F", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Lock(ctx); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			l.Unlock(ctx)
		}()
	}
	waitQueued(t, ctx, holder, "F", n)
	hl.Unlock(ctx)
	within(t, 15*time.Minute, "the clients", wg.Wait)
	for i, v := range order {
		if v != i {
			t.Fatalf("order %v, want FIFO 0..%d", order, n-1)
		}
	}
}

// waitQueued waits until the lock name has n queued waiters.
func waitQueued(t *testing.T, ctx context.Context, c *dist.Client, name string, n int) {
	t.Helper()
	for {
		got, err := dist.LockWaiters(ctx, c, name)
		if err != nil {
			t.Fatal(err)
		}
		if got == n {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("never saw %d waiters (saw %d)", n, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLockCancelWhileWaiting(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	// b's leases last a minute: its ticket must go because b gives it up,
	// not because it expires.
	b := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	la, lb := a.NewLock("C"), b.NewLock("C")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- lb.Lock(cctx) }()
	waitQueued(t, ctx, a, "C", 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Lock = %v", err)
	}
	waitQueued(t, bounded(t, 20*time.Second), a, "C", 0) // the place in line was given up
	la.Unlock(ctx)
	// Nobody holds it now: a fresh TryLock succeeds at once.
	if ok, err := lb.TryLock(ctx); !ok || err != nil {
		t.Fatalf("TryLock after the cancelled waiter left = %v, %v", ok, err)
	}
	lb.Unlock(ctx)
	// A done ctx fails first, even though the lock is free.
	if err := lb.Lock(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a done ctx = %v", err)
	}
}

// A waiter cancelled as the lock is handed to it either keeps the lock (the
// wake-up wins, Lock returns nil) or gives it up so that it is free at once:
// never held by nobody until a lease expires. Each round queues b behind a
// and waits until b flagged a's key, so that a's release hands over to b;
// then it cancels b at one of two points, both sequenced on state, not on
// timing:
//
//   - before a releases, waiting until b's Lock returned: the cancellation
//     always wins (b gave up its ticket before the release, which then
//     frees the lock);
//   - from the hand-over hook, between a's choice of b and the hand-over
//     write: the cancellation and the hand-over race, and either may win
//     (both outcomes are checked; the order in which b's give-up lands is
//     what decides, and no hook of this test can pin it without taking the
//     race away). TestLockCancelledWaiterSeesLateHandOver pins the case of
//     a give-up that lands after the hand-over.
func TestLockCancelRaceWakeupWins(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 120*time.Second)
	a := client(t, s.ClientURL())
	b := client(t, s.ClientURL())
	c := client(t, s.ClientURL())
	la, lb, lc := a.NewLock("W"), b.NewLock("W"), c.NewLock("W")
	_, kv := rawKV(t, s.ClientURL())
	won, lost := 0, 0
	for i := 0; i < 30; i++ {
		if err := la.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() { errc <- lb.Lock(cctx) }()
		waitQueued(t, ctx, a, "W", 1)
		waitFlagged(t, ctx, kv, "lock.W.h")
		var err error
		if i%2 == 0 {
			cancel()
			err = <-errc
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("round %d: Lock cancelled before the release = %v, want context.Canceled", i, err)
			}
			la.Unlock(ctx)
		} else {
			dist.SetHandOverHook(func(string) { cancel() })
			la.Unlock(ctx)
			dist.SetHandOverHook(nil)
			if cctx.Err() == nil {
				t.Fatalf("round %d: the release did not hand over to b", i)
			}
			err = <-errc
		}
		cancel()
		if err == nil {
			won++
			if ok, _ := lc.TryLock(ctx); ok {
				t.Fatal("b's Lock returned nil but the lock was free")
			}
			lb.Unlock(ctx)
		} else {
			lost++
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled Lock = %v", err)
			}
		}
		ok, err := lc.TryLock(ctx)
		if !ok || err != nil {
			t.Fatalf("round %d: lock not free after the race (TryLock = %v, %v)", i, ok, err)
		}
		lc.Unlock(ctx)
	}
	t.Logf("wake-up won %d times, cancellation %d times", won, lost)
}

// waitFlagged waits until the holder's key hkey is flagged by a waiter (so
// that its holder hands over on release).
func waitFlagged(t *testing.T, ctx context.Context, kv jetstream.KeyValue, hkey string) {
	t.Helper()
	for {
		e, err := kv.Get(ctx, hkey)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(e.Value(), []byte(`"w":true`)) {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling a state that cannot lapse
	}
}

// A releaser that hands the lock to a waiter whose ticket was gone by then
// (the waiter gave up just before the hand-over, and so did not see it)
// takes the lock back and frees it, rather than leave it to a ghost until
// its lease expires. The waiter here is a ticket with no process behind
// it, removed by the hook between the releaser's choice and its hand-over.
func TestLockHandOverToAWaiterThatLeft(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	c := client(t, s.ClientURL())
	la, lc := a.NewLock("G"), c.NewLock("G")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	_, kv := rawKV(t, s.ClientURL())
	const ghost = "lock.G.q.ghost"
	if _, err := kv.Create(ctx, ghost, []byte(`{"o":"ghost"}`)); err != nil {
		t.Fatal(err)
	}
	// Flag the holder's key as a waiter does.
	e, err := kv.Get(ctx, "lock.G.h")
	if err != nil {
		t.Fatal(err)
	}
	flagged := bytes.Replace(e.Value(), []byte(`"c":true`), []byte(`"w":true,"c":true`), 1)
	if _, err := kv.Update(ctx, "lock.G.h", flagged, e.Revision()); err != nil {
		t.Fatal(err)
	}
	var handed []string
	dist.SetHandOverHook(func(key string) {
		handed = append(handed, key)
		if key == ghost {
			if err := kv.Purge(ctx, ghost); err != nil {
				t.Error(err)
			}
		}
	})
	defer dist.SetHandOverHook(nil)
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	dist.SetHandOverHook(nil)
	if len(handed) != 1 || handed[0] != ghost {
		t.Fatalf("hand-overs %v, want one to %s", handed, ghost)
	}
	if ok, err := lc.TryLock(ctx); !ok || err != nil {
		t.Fatalf("TryLock after a hand-over to a waiter that left = %v, %v; want the lock free", ok, err)
	}
	lc.Unlock(ctx)
}

// handOverScene is the start of the hand-over races: a holds the lock
// name, b waits for it with a cancellable ctx (cancelB) and its Lock's
// error comes on errc, and the lock's key is flagged, so that a's release
// hands over to b. lc is a third client's handle, to look whether the
// lock is free; kv reads the bucket directly. ctx bounds it all (60 s).
type handOverScene struct {
	ctx        context.Context
	a          *dist.Client
	kv         jetstream.KeyValue
	la, lb, lc *dist.Lock
	cancelB    context.CancelFunc
	errc       chan error
}

func newHandOverScene(t *testing.T, name string) *handOverScene {
	t.Helper()
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	b := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	c := client(t, s.ClientURL())
	_, kv := rawKV(t, s.ClientURL())
	sc := &handOverScene{ctx: ctx, a: a, kv: kv, la: a.NewLock(name), lb: b.NewLock(name), lc: c.NewLock(name), errc: make(chan error, 1)}
	if err := sc.la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	bctx, cancelB := context.WithCancel(ctx)
	t.Cleanup(cancelB)
	sc.cancelB = cancelB
	go func() { sc.errc <- sc.lb.Lock(bctx) }()
	waitQueued(t, ctx, a, name, 1)
	waitFlagged(t, ctx, kv, "lock."+name+".h") // so that a hands over
	return sc
}

// bResult is the error of b's Lock, waited for (bounded) after a's release.
func (sc *handOverScene) bResult(t *testing.T) error {
	t.Helper()
	select {
	case err := <-sc.errc:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("b's Lock did not return within 30s of the hand-over")
		return nil
	}
}

// bHolds fails t unless b holds the lock (a third client cannot take it),
// then releases it.
func (sc *handOverScene) bHolds(t *testing.T) {
	t.Helper()
	if ok, _ := sc.lc.TryLock(sc.ctx); ok {
		t.Fatal("b's Lock returned nil but the lock is free")
	}
	sc.lb.Unlock(sc.ctx)
}

// A waiter cancelled just before the lock is handed to it, which gives up
// its place only after the hand-over landed, keeps the lock (the wake-up
// wins): it must not return the cancellation and leave the lock named after
// it. The hooks order the two: the releaser cancels the waiter, the waiter
// gives up, then waits for the hand-over before it removes its ticket.
func TestLockCancelledWaiterSeesLateHandOver(t *testing.T) {
	sc := newHandOverScene(t, "H")
	ctx, a, kv, la, lc, cancelB := sc.ctx, sc.a, sc.kv, sc.la, sc.lc, sc.cancelB
	gaveUp := make(chan struct{})
	handed := make(chan struct{})
	released := make(chan struct{}) // a's Release returned: its hand-over is final
	var gaveUpOnce sync.Once
	dist.SetGiveUpHook(func() {
		gaveUpOnce.Do(func() { close(gaveUp) })
		// Hold the ticket until the lock is handed to b, and until a's
		// Release has returned: a releaser takes a hand-over back if it
		// finds the waiter's ticket gone when it checks right after its
		// write, so the wake-up wins for a waiter that gives up after that
		// check (polling the key alone raced it: about 1 run in 30).
		for ctx.Err() == nil {
			if e, err := kv.Get(ctx, "lock.H.h"); err == nil && !bytes.Contains(e.Value(), []byte(a.ID())) {
				close(handed)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		select {
		case <-released:
		case <-ctx.Done(): // bounded: the test fails below
		}
	})
	defer dist.SetGiveUpHook(nil)
	dist.SetHandOverHook(func(string) {
		cancelB()
		select {
		case <-gaveUp:
		case <-ctx.Done(): // bounded: the test fails below
		}
	})
	defer dist.SetHandOverHook(nil)
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	close(released)
	dist.SetHandOverHook(nil)
	err := sc.bResult(t)
	dist.SetGiveUpHook(nil)
	select {
	case <-handed:
	default:
		t.Fatal("the hooks did not run in the planned order")
	}
	if err != nil {
		if ok, terr := lc.TryLock(ctx); !ok || terr != nil {
			t.Fatalf("b's Lock returned %v but the lock is not free (TryLock = %v, %v)", err, ok, terr)
		}
		lc.Unlock(ctx)
		t.Fatalf("b's Lock = %v; the lock was handed to it before it gave up its ticket, so the wake-up wins", err)
	}
	sc.bHolds(t)
}

// A waiter that gives up right after the hand-over write, before the
// releaser checks its ticket, keeps the lock (the wake-up wins): the
// releaser's check counts a ticket deleted after its hand-over as queued
// then. Here the releaser checks only once its view holds the deletion,
// and the waiter looks at the lock only after the releaser returned;
// before, the releaser found the ticket gone, took the lock back and
// freed it, and the waiter's Lock returned its cancellation.
func TestLockWaiterGivingUpJustAfterHandOverKeepsIt(t *testing.T) {
	sc := newHandOverScene(t, "HJ")
	ctx, a, la, cancelB := sc.ctx, sc.a, sc.la, sc.cancelB
	gaveUp := make(chan struct{})   // b is giving up (it no longer looks at the lock)
	written := make(chan struct{})  // a's hand-over write is done
	released := make(chan struct{}) // a's Release returned
	var gaveUpOnce sync.Once
	dist.SetHandOverHook(func(string) {
		cancelB()
		select {
		case <-gaveUp:
		case <-ctx.Done(): // bounded: the test fails below
		}
	})
	defer dist.SetHandOverHook(nil)
	dist.SetGiveUpHook(func() {
		gaveUpOnce.Do(func() { close(gaveUp) })
		select {
		case <-written:
		case <-ctx.Done():
		}
	})
	defer dist.SetGiveUpHook(nil)
	checked := false
	dist.SetHandedOverHook(func(key string) {
		close(written)
		for ctx.Err() == nil && !dist.HubLacks(a, "HJ", key) {
			time.Sleep(time.Millisecond) //tockvet:ignore polls a state that cannot lapse: the ticket, once deleted, stays gone
		}
		checked = ctx.Err() == nil
	})
	defer dist.SetHandedOverHook(nil)
	dist.SetGaveUpHook(func() {
		select {
		case <-released:
		case <-ctx.Done(): // bounded: the test fails below
		}
	})
	defer dist.SetGaveUpHook(nil)
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	dist.SetHandOverHook(nil)
	dist.SetHandedOverHook(nil)
	close(released)
	err := sc.bResult(t)
	if !checked {
		t.Fatal("the releaser's view never lost b's ticket")
	}
	if err != nil {
		t.Fatalf("b's Lock = %v; the lock was handed to it before it gave up its ticket, so the wake-up wins", err)
	}
	sc.bHolds(t)
}

// A Lock whose ticket write reports an error although it landed (a
// timeout) drops the ticket; if a release handed the lock to that ticket
// first, the Lock keeps it and returns nil (the wake-up wins) instead of
// leaving the lock handed to nobody until its lease expires. Here b's
// ticket write lands, the release hands b the lock, and only then does
// b's write report an error; c, queued behind b, gets the lock from b.
func TestLockTicketWriteErrorAfterHandOverKeepsIt(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	b := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	c := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	d := client(t, s.ClientURL())
	la, lb, lc, ld := a.NewLock("CE"), b.NewLock("CE"), c.NewLock("CE"), d.NewLock("CE")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	_, kv := rawKV(t, s.ClientURL())
	var bKey atomic.Value
	bQueued := make(chan struct{})
	handed := make(chan struct{})
	injected := errors.New("injected: the ticket write timed out")
	var first sync.Once
	dist.SetTicketCreateHook(func(key string, err error) error {
		isB := false
		first.Do(func() { isB = true })
		if !isB || err != nil {
			return err
		}
		bKey.Store(key)
		close(bQueued)
		select {
		case <-handed:
		case <-ctx.Done(): // bounded: the test fails below
		}
		return injected
	})
	defer dist.SetTicketCreateHook(nil)
	dist.SetHandedOverHook(func(key string) {
		if k, _ := bKey.Load().(string); k == key {
			close(handed)
		}
	})
	defer dist.SetHandedOverHook(nil)
	berr := make(chan error, 1)
	go func() { berr <- lb.Lock(ctx) }()
	select {
	case <-bQueued:
	case <-ctx.Done():
		t.Fatal("b's ticket was never written")
	}
	cerr := make(chan error, 1)
	go func() { cerr <- lc.Lock(ctx) }()
	waitQueued(t, ctx, a, "CE", 2)
	waitFlagged(t, ctx, kv, "lock.CE.h") // c flags: a hands over, to the oldest ticket (b's)
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-berr:
	case <-time.After(30 * time.Second):
		t.Fatal("b's Lock did not return within 30s")
	}
	select {
	case <-handed:
	default:
		t.Fatal("a's release did not hand the lock to b's ticket")
	}
	if err != nil {
		t.Fatalf("b's Lock = %v; the lock was handed to its ticket before the write's error, so the wake-up wins", err)
	}
	if ok, _ := ld.TryLock(ctx); ok {
		t.Fatal("b's Lock returned nil but the lock is free")
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatalf("b's Release = %v", err)
	}
	select {
	case err = <-cerr:
		if err != nil {
			t.Fatalf("c's Lock = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("c did not get the lock within 30s of b's release (the lock was left handed to nobody)")
	}
	lc.Unlock(ctx)
}

// Anonymous callers of one Lock handle are one owner (see Lock's doc): after
// the anonymous hold's lease is lost (here its key is removed by hand, as
// an expiry would), an anonymous Lock on the handle takes the lock afresh
// and replaces the lost hold, and the next anonymous Release ends the new
// hold, which it reports as held to the end.
func TestLockAnonymousHoldReplaced(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Second))
	b := client(t, s.ClientURL())
	la, lb := a.NewLock("AN"), b.NewLock("AN")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	f1, err := la.Fence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lost := la.Lost(ctx)
	_, kv := rawKV(t, s.ClientURL())
	if err := kv.Purge(ctx, "lock.AN.h"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost: // the next renewal found the key gone
	case <-ctx.Done():
		t.Fatal("the hold whose key was removed was never lost")
	}
	if _, err := la.Fence(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Fatalf("Fence of the lost hold = %v, want ErrLeaseLost", err)
	}
	if err := la.Lock(ctx); err != nil {
		t.Fatalf("anonymous Lock after the anonymous hold was lost = %v", err)
	}
	f2, err := la.Fence(ctx)
	if err != nil || f2 <= f1 {
		t.Fatalf("Fence of the new hold = %d, %v; want > %d and no error (the lost hold was replaced)", f2, err, f1)
	}
	select {
	case <-la.Lost(ctx):
		t.Fatal("the new hold's Lost is closed")
	default:
	}
	if ok, err := lb.TryLock(ctx); ok || err != nil {
		t.Fatalf("another client's TryLock while the new hold holds = %v, %v", ok, err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatalf("anonymous Release after the replacement = %v, want nil (it ends the new hold)", err)
	}
	if _, err := la.Fence(ctx); !errors.Is(err, dist.ErrNotHeld) {
		t.Fatalf("Fence after the release = %v, want ErrNotHeld (one hold, ended)", err)
	}
	if ok, err := lb.TryLock(ctx); !ok || err != nil {
		t.Fatalf("TryLock after the release = %v, %v; want the lock free", ok, err)
	}
	lb.Unlock(ctx)
}
