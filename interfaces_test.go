package tock_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tockgo/tock"
)

// incrementUnder is service code written against the interfaces only.
func incrementUnder(ctx context.Context, l tock.Locker, lim tock.Limiter, n *int) error {
	if err := lim.Acquire(ctx); err != nil {
		return err
	}
	defer lim.Release(ctx)
	if err := l.Lock(ctx); err != nil {
		return err
	}
	defer l.Unlock(ctx)
	*n++
	return nil
}

func TestInterfacesInProcess(t *testing.T) {
	var lk tock.Lock
	lim := tock.NewCapacityLimiter(2)
	n := 0
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		for i := 0; i < 20; i++ {
			g.Go(func(ctx context.Context) error { return incrementUnder(ctx, &lk, lim, &n) })
		}
		return g.Wait()
	})
	if err != nil || n != 20 {
		t.Fatalf("n=%d err=%v, want 20 <nil>", n, err)
	}
	if lk.Locked() || lim.Borrowed() != 0 {
		t.Fatalf("left held: locked=%v borrowed=%d", lk.Locked(), lim.Borrowed())
	}

	// Putter/Getter/Receiver/Waiter/Acquirer on the in-process types.
	q := tock.NewQueue[int]()
	var p tock.Putter[int] = q
	var g tock.Getter[int] = q
	var w tock.Waiter = new(tock.Event)
	var a tock.Acquirer = tock.NewSemaphore(1)
	ctx := context.Background()
	if err := p.Put(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if v, err := g.Get(ctx); v != 7 || err != nil {
		t.Fatalf("Get = %d, %v", v, err)
	}
	if err := a.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	a.Release()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Wait(cctx); err != context.Canceled {
		t.Fatalf("Wait on a cancelled ctx = %v", err)
	}
}

// Service code takes a tock.Locker, so the same function runs over a
// *tock.Lock here and over a distributed lock (module tock/dist) elsewhere.
func ExampleLocker() {
	var l tock.Locker = new(tock.Lock)
	count := 0
	_ = tock.Run(context.Background(), func(ctx context.Context) error {
		if err := l.Lock(ctx); err != nil {
			return err
		}
		defer l.Unlock(ctx)
		count++
		return nil
	})
	fmt.Println(count)
	// Output: 1
}
