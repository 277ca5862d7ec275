package dist_test

import (
	"context"
	"encoding/base64"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tockgo/tock"
	"github.com/tockgo/tock/dist"
)

func TestSemaphoreBasic(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	b := client(t, s.ClientURL())
	sa, err := a.NewSemaphore(ctx, "S", 2)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.NewSemaphore(ctx, "S", 99) // the first creator's total stands
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sb.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := sa.Value(ctx); v != 0 || err != nil {
		t.Fatalf("Value = %d, %v; want 0", v, err)
	}
	if ok, err := sb.TryAcquire(ctx); ok || err != nil {
		t.Fatalf("TryAcquire when exhausted = %v, %v", ok, err)
	}
	done := make(chan error, 1)
	go func() { done <- sb.Acquire(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("Acquire beyond the total returned %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	sa.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sb.Held() != 2 {
		t.Fatalf("b holds %d, want 2", sb.Held())
	}
	sb.Release()
	sb.Release()
	if v, err := sa.Value(ctx); v != 2 || err != nil {
		t.Fatalf("Value after all released = %d, %v; want 2", v, err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Release with no token held did not panic")
			}
		}()
		sb.Release()
	}()
}

func TestSemaphoreCancelNothingLost(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	sem, err := a.NewSemaphore(ctx, "SC", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := sem.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	// Waiters that give up leave no token behind.
	for i := 0; i < 5; i++ {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := sem.Acquire(cctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire past its deadline = %v", err)
		}
	}
	sem.Release()
	if v, err := sem.Value(ctx); v != 1 || err != nil {
		t.Fatalf("Value = %d, %v; want 1 (a cancelled waiter kept a token)", v, err)
	}
	if ok, err := sem.TryAcquire(ctx); !ok || err != nil {
		t.Fatalf("TryAcquire = %v, %v", ok, err)
	}
	sem.Release()
}

func TestCapacityLimiterAcrossClients(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 120*time.Second)
	const total, clients, rounds = 3, 6, 5
	var in, peak atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c := client(t, s.ClientURL())
		lim, err := c.NewCapacityLimiter(ctx, "CL", total)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := tock.Run(ctx, func(ctx context.Context) error {
				for r := 0; r < rounds; r++ {
					if err := lim.Acquire(ctx); err != nil {
						return err
					}
					n := in.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					time.Sleep(5 * time.Millisecond) //tockvet:ignore real-runtime test: holds the token for a moment of wall time
					in.Add(-1)
					lim.Release(ctx)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	within(t, 15*time.Minute, "the clients", wg.Wait)
	if p := peak.Load(); p > total || p < 1 {
		t.Fatalf("peak borrowers %d, total %d", p, total)
	}
}

func TestCapacityLimiterBorrowerAndSetTotal(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	b := client(t, s.ClientURL())
	la, err := a.NewCapacityLimiter(ctx, "B", 1)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.NewCapacityLimiter(ctx, "B", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := la.AcquireFor(ctx, "user-1"); err != nil {
		t.Fatal(err)
	}
	// The same string borrower in another process: busy, not a second token.
	if err := lb.AcquireFor(ctx, "user-1"); !errors.Is(err, dist.ErrBorrowerBusy) {
		t.Fatalf("AcquireFor of a busy borrower = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("AcquireFor twice through one handle did not panic")
			}
		}()
		_ = la.AcquireFor(ctx, "user-1")
	}()
	done := make(chan error, 1)
	go func() { done <- lb.AcquireFor(ctx, "user-2") }()
	select {
	case err := <-done:
		t.Fatalf("AcquireFor beyond the total returned %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := la.SetTotal(ctx, 2); err != nil { // raising admits the waiter
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := lb.Borrowed(ctx); n != 2 || err != nil {
		t.Fatalf("Borrowed = %d, %v; want 2", n, err)
	}
	if err := la.SetTotal(ctx, 1); err != nil { // lowering evicts nobody
		t.Fatal(err)
	}
	if n, _ := lb.Borrowed(ctx); n != 2 {
		t.Fatalf("Borrowed after lowering = %d; want 2", n)
	}
	if ok, err := lb.TryAcquireFor(ctx, "user-3"); ok || err != nil {
		t.Fatalf("TryAcquireFor above the lowered total = %v, %v", ok, err)
	}
	if err := la.ReleaseFor(ctx, "user-1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := lb.TryAcquireFor(ctx, "user-3"); ok {
		t.Fatal("TryAcquireFor admitted while 1 of a total of 1 is out")
	}
	if err := lb.ReleaseFor(ctx, "user-2"); err != nil {
		t.Fatal(err)
	}
	if ok, err := lb.TryAcquireFor(ctx, "user-3"); !ok || err != nil {
		t.Fatalf("TryAcquireFor with a free token = %v, %v", ok, err)
	}
	if av, _ := la.Available(ctx); av != 0 {
		t.Fatalf("Available = %d, want 0", av)
	}
	_ = lb.ReleaseFor(ctx, "user-3")
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Acquire with a task-less ctx did not panic")
			}
		}()
		_ = la.Acquire(ctx)
	}()
}

func TestEvent(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	b := client(t, s.ClientURL())
	ea, eb := a.NewEvent("E"), b.NewEvent("E")
	if set, err := eb.IsSet(ctx); set || err != nil {
		t.Fatalf("IsSet before Set = %v, %v", set, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	if err := eb.Wait(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past its deadline = %v", err)
	}
	cancel()
	const n = 4
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { errs <- eb.Wait(ctx) }()
	}
	if err := ea.Set(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ea.Set(ctx); err != nil { // again: nothing
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if set, err := eb.IsSet(ctx); !set || err != nil {
		t.Fatalf("IsSet after Set = %v, %v", set, err)
	}
	done, stop := context.WithCancel(ctx)
	stop()
	if err := eb.Wait(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a done ctx on a set event = %v (ctx is checked first)", err)
	}
}

// A token whose queueing write has an uncertain outcome (here: the hook
// turns the write's result into a timeout-like error) is cleaned up only if
// the key is ours: a write that landed is dropped (no token is left behind
// until its TTL), and another process's token for the same borrower is left
// alone.
func TestCapacityLimiterUncertainCreate(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	b := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	la, err := a.NewCapacityLimiter(ctx, "U", 2)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.NewCapacityLimiter(ctx, "U", 2)
	if err != nil {
		t.Fatal(err)
	}
	_, kv := rawKV(t, s.ClientURL())
	errUncertain := errors.New("no answer (test)")
	var keys []string
	var landed []error
	dist.SetTokenCreateHook(func(key string, err error) error {
		keys = append(keys, key)
		landed = append(landed, err)
		return errUncertain
	})
	defer dist.SetTokenCreateHook(nil)

	// Ours: the write landed, the clean-up drops it.
	if err := la.AcquireFor(ctx, "mine"); !errors.Is(err, dist.ErrUnavailable) || !errors.Is(err, errUncertain) {
		t.Fatalf("AcquireFor with an uncertain create = %v, want ErrUnavailable with the cause", err)
	}
	if len(keys) != 1 || landed[0] != nil {
		t.Fatalf("the hook saw %v (%v), want one write that landed", keys, landed)
	}
	if e, err := kv.Get(ctx, keys[0]); !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyDeleted) {
		t.Fatalf("our token's key after the clean-up = %v, %v; want it gone", e, err)
	}

	// Another process's: the write failed (the borrower's key exists), the
	// clean-up leaves the other's token alone.
	dist.SetTokenCreateHook(nil)
	if err := lb.AcquireFor(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	before, err := kv.Get(ctx, "lim.U.t."+base64.RawURLEncoding.EncodeToString([]byte("s:shared")))
	if err != nil {
		t.Fatal(err)
	}
	keys, landed = nil, nil
	dist.SetTokenCreateHook(func(key string, err error) error {
		keys = append(keys, key)
		landed = append(landed, err)
		return errUncertain
	})
	if err := la.AcquireFor(ctx, "shared"); !errors.Is(err, dist.ErrUnavailable) {
		t.Fatalf("AcquireFor of another's borrower with an uncertain create = %v, want ErrUnavailable", err)
	}
	dist.SetTokenCreateHook(nil)
	if len(keys) != 1 || keys[0] != before.Key() || landed[0] == nil {
		t.Fatalf("the hook saw %v (%v), want one failed write of %s", keys, landed, before.Key())
	}
	after, err := kv.Get(ctx, before.Key())
	if err != nil || after.Revision() != before.Revision() {
		t.Fatalf("the other's token after the clean-up = %v, %v; want it untouched at %d", after, err, before.Revision())
	}
	if err := lb.ReleaseFor(ctx, "shared"); err != nil {
		t.Fatalf("the other's ReleaseFor = %v, want nil (its token was left alone)", err)
	}
	// Nothing of ours is left: both tokens are free.
	if err := la.AcquireFor(ctx, "mine"); err != nil {
		t.Fatal(err)
	}
	if err := la.AcquireFor(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	_ = la.ReleaseFor(ctx, "mine")
	_ = la.ReleaseFor(ctx, "shared")
}

// The clean-up after an uncertain queueing write drops the key only at the
// revision it read: another writer that updates the key between the
// clean-up's read and its drop (the cleanup hook writes there) keeps its
// value.
func TestCapacityLimiterUncertainCreateCleanupKeepsNewerWrite(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	la, err := a.NewCapacityLimiter(ctx, "UW", 2)
	if err != nil {
		t.Fatal(err)
	}
	_, kv := rawKV(t, s.ClientURL())
	errUncertain := errors.New("no answer (test)")
	dist.SetTokenCreateHook(func(key string, err error) error { return errUncertain })
	defer dist.SetTokenCreateHook(nil)
	var cleaned []string
	var otherRev uint64
	var otherErr error
	dist.SetTokenCleanupHook(func(key string) {
		cleaned = append(cleaned, key)
		otherRev, otherErr = kv.Put(ctx, key, []byte("other writer"))
	})
	defer dist.SetTokenCleanupHook(nil)
	if err := la.AcquireFor(ctx, "mine"); !errors.Is(err, dist.ErrUnavailable) || !errors.Is(err, errUncertain) {
		t.Fatalf("AcquireFor with an uncertain create = %v, want ErrUnavailable with the cause", err)
	}
	dist.SetTokenCreateHook(nil)
	dist.SetTokenCleanupHook(nil)
	if len(cleaned) != 1 {
		t.Fatalf("the clean-up hook saw %v, want one key", cleaned)
	}
	if otherErr != nil {
		t.Fatalf("the other writer's put: %v", otherErr)
	}
	e, err := kv.Get(ctx, cleaned[0])
	if err != nil {
		t.Fatalf("the other writer's key after the clean-up = %v; want its value kept", err)
	}
	if string(e.Value()) != "other writer" || e.Revision() != otherRev {
		t.Fatalf("the key after the clean-up = %q at %d, want %q at %d (the other writer's)", e.Value(), e.Revision(), "other writer", otherRev)
	}
}

// An acquisition admitted while its Client is being closed returns
// ErrClientClosed and leaves no token behind, rather than return a token
// whose lease Close already marked lost. The hook closes the Client between
// the admission and the return.
func TestCapacityLimiterAcquireRacingClose(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
	b := client(t, s.ClientURL())
	la, err := a.NewCapacityLimiter(ctx, "RC", 1)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.NewCapacityLimiter(ctx, "RC", 1)
	if err != nil {
		t.Fatal(err)
	}
	closes := 0
	dist.SetAdmittedHook(func() {
		closes++
		a.Close()
	})
	defer dist.SetAdmittedHook(nil)
	err = la.AcquireFor(ctx, "u")
	dist.SetAdmittedHook(nil)
	if closes != 1 || !errors.Is(err, dist.ErrClientClosed) {
		t.Fatalf("AcquireFor racing Close = %v (hook ran %d times), want ErrClientClosed", err, closes)
	}
	// Nothing left: the same borrower is not busy, the token is free.
	if err := lb.AcquireFor(ctx, "u"); err != nil {
		t.Fatalf("the same borrower's AcquireFor in another client = %v, want nil", err)
	}
	if n, err := lb.Borrowed(ctx); n != 1 || err != nil {
		t.Fatalf("Borrowed = %d, %v; want 1 (only b's token)", n, err)
	}
	if err := lb.ReleaseFor(ctx, "u"); err != nil {
		t.Fatal(err)
	}
}
