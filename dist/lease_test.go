package dist_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tockgo/tock/dist"
)

// A holder whose connection is cut loses the lease: the lock goes to another
// client after the TTL with a larger fencing token, and the old holder
// knows it lost the lease by then.
func TestLockLeaseLostWhenCut(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	const ttl = 2 * time.Second
	p := newProxy(t, s.Addr().String())
	a := client(t, p.URL(), dist.WithLeaseTTL(ttl), dist.WithRequestTimeout(time.Second))
	b := client(t, s.ClientURL(), dist.WithLeaseTTL(ttl))
	la, lb := a.NewLock("cut"), b.NewLock("cut")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	fa, err := la.Fence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-la.Lost(ctx):
		t.Fatal("lease lost before the cut")
	default:
	}
	p.sever()
	if err := lb.Lock(ctx); err != nil {
		t.Fatalf("b never got the lock after a's lease expired: %v", err)
	}
	// At the moment b holds the lock, a already knows it lost its lease.
	if _, err := la.Fence(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Fatalf("old holder's Fence when the new holder got the lock = %v, want ErrLeaseLost", err)
	}
	fb, err := lb.Fence(ctx)
	if err != nil || fb <= fa {
		t.Fatalf("new fence %d (%v), old %d: want larger", fb, err, fa)
	}
	select {
	case <-la.Lost(ctx):
	case <-ctx.Done():
		t.Fatal("Lost never closed")
	}
	// A re-entry of the lost hold fails with ErrLeaseLost (tock task-less
	// ctx has no re-entry, so check Release instead).
	p.heal()
	if err := la.Release(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Fatalf("Release of the lost hold = %v, want ErrLeaseLost", err)
	}
	// The old holder's release did not free the new holder's lock.
	if locked, err := lb.Locked(ctx); !locked || err != nil {
		t.Fatalf("Locked after the old holder's release = %v, %v", locked, err)
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// A holder cut off learns of the loss from Lost alone, without another call
// (nothing else asks the lease whether it ran out).
func TestLockLostClosesOnItsOwn(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	p := newProxy(t, s.Addr().String())
	a := client(t, p.URL(), dist.WithLeaseTTL(time.Second), dist.WithRequestTimeout(time.Second))
	la := a.NewLock("lost")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	lost := la.Lost(ctx)
	p.sever()
	select {
	case <-lost:
	case <-time.After(30 * time.Second):
		t.Fatal("Lost not closed 30s after the cut (TTL 1s)")
	}
	if _, err := la.Fence(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Fatalf("Fence after Lost closed = %v, want ErrLeaseLost", err)
	}
}

// Closing the client ends its leases' renewals, and a holder watching Lost
// learns it at once: Lost closes, and Fence says the lease is lost because
// the client was closed.
func TestLockLostClosesAtClientClose(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	la := a.NewLock("closed")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	lost := la.Lost(ctx)
	a.Close()
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("Lost not closed 10s after Client.Close")
	}
	_, err := la.Fence(ctx)
	if !errors.Is(err, dist.ErrLeaseLost) || !errors.Is(err, dist.ErrClientClosed) {
		t.Fatalf("Fence after Close = %v, want ErrLeaseLost and ErrClientClosed", err)
	}
}

// A client cut off while it waits gets an error, never a hang.
func TestWaitCutIsAnErrorNotAHang(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	const ttl = time.Second
	p := newProxy(t, s.Addr().String())
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(ttl))
	b := client(t, p.URL(), dist.WithLeaseTTL(ttl), dist.WithRequestTimeout(time.Second))
	la, lb := a.NewLock("hang"), b.NewLock("hang")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	defer la.Unlock(ctx)
	eb := b.NewEvent("hang")
	sem, err := b.NewSemaphore(ctx, "hang", 0)
	if err != nil {
		t.Fatal(err)
	}
	q, err := dist.NewQueue[int](ctx, b, "hang")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := dist.NewChannel[int](b, "hang").Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	waits := map[string]func() error{
		"Lock":    func() error { return lb.Lock(ctx) },
		"Event":   func() error { return eb.Wait(ctx) },
		"Acquire": func() error { return sem.Acquire(ctx) },
		"Take":    func() error { _, err := q.Take(ctx); return err },
		"Receive": func() error { _, err := sub.Receive(ctx); return err },
	}
	// Cut the connection once every wait blocks (the hook runs as each
	// is about to block on what it waits for).
	blockers := map[string]bool{"watch lock.hang.>": false, "watch sem.hang.>": false, "watch event.hang": false,
		"Queue.Take hang": false, "Subscription.Receive hang": false}
	var mu sync.Mutex
	left := len(blockers)
	allBlocked := make(chan struct{})
	dist.SetBlockHook(func(what string) {
		mu.Lock()
		defer mu.Unlock()
		if seen, ok := blockers[what]; ok && !seen {
			blockers[what] = true
			if left--; left == 0 {
				close(allBlocked)
			}
		}
	})
	defer dist.SetBlockHook(nil)
	errs := make(chan error, len(waits))
	names := make(chan string, len(waits))
	for name, w := range waits {
		go func() {
			err := w()
			names <- name
			errs <- err
		}()
	}
	select {
	case <-allBlocked:
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("not every wait blocked: %v", blockers)
	}
	p.sever()
	for range waits {
		select {
		case err := <-errs:
			name := <-names
			if !errors.Is(err, dist.ErrUnavailable) && !errors.Is(err, dist.ErrLeaseLost) {
				t.Errorf("%s after the cut = %v, want ErrUnavailable or ErrLeaseLost", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a wait hung after the connection was cut")
		}
	}
}

// A holder whose key is taken over (here overwritten by hand, as a server
// that lost the holder's writes and let another take the lock would) learns
// it at its next renewal: Lost closes, and it does not renew the other's
// key as its own.
func TestLockTakenOverIsLost(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Second))
	la := a.NewLock("over")
	if err := la.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	_, kv := rawKV(t, s.ClientURL())
	if _, err := kv.Put(ctx, "lock.over.h", []byte(`{"o":"intruder","c":true}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-la.Lost(ctx):
	case <-time.After(30 * time.Second):
		t.Fatal("Lost not closed 30s after the key was taken over (TTL 1s)")
	}
	if _, err := la.Fence(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Fatalf("Fence = %v, want ErrLeaseLost", err)
	}
	if err := la.Release(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Fatalf("Release = %v, want ErrLeaseLost", err)
	}
	e, err := kv.Get(ctx, "lock.over.h")
	if err != nil || string(e.Value()) != `{"o":"intruder","c":true}` {
		t.Fatalf("the other holder's key after the old holder's release = %v, %v", e, err)
	}
}
