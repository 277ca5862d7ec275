package dist_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tockgo/tock/dist"
)

// A Lock that takes the lock while its Client is being closed must not
// return nil with a lease that Close already marked lost: it returns
// ErrClientClosed and leaves nothing behind (no holder's key, no ticket, no
// hold). The take hook closes the Client between the start of the lease
// and the record of the hold, on both ways to the lock: a free lock taken
// at once, and one handed over to a waiter.
func TestLockRacingCloseLeavesNothing(t *testing.T) {
	for _, queued := range []bool{false, true} {
		name := map[bool]string{false: "free", true: "handed-over"}[queued]
		t.Run(name, func(t *testing.T) {
			s := startServer(t)
			ctx := bounded(t, 60*time.Second)
			a := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Minute))
			b := client(t, s.ClientURL())
			la, lb := a.NewLock("RC"), b.NewLock("RC")
			if queued {
				if err := lb.Lock(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var closes int
			dist.SetTakeHook(func() {
				closes++
				a.Close()
			})
			defer dist.SetTakeHook(nil)
			errc := make(chan error, 1)
			go func() { errc <- la.Lock(ctx) }()
			if queued {
				waitQueued(t, ctx, b, "RC", 1)
				if err := lb.Release(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			within(t, 30*time.Second, "the Lock racing Close", func() { err = <-errc })
			dist.SetTakeHook(nil)
			if closes != 1 {
				t.Fatalf("the take hook ran %d times, want 1", closes)
			}
			if !errors.Is(err, dist.ErrClientClosed) {
				t.Fatalf("Lock racing Close = %v, want ErrClientClosed", err)
			}
			if _, ferr := la.Fence(ctx); !errors.Is(ferr, dist.ErrNotHeld) {
				t.Fatalf("Fence after the failed Lock = %v, want ErrNotHeld (no hold left)", ferr)
			}
			if locked, lerr := lb.Locked(ctx); locked || lerr != nil {
				t.Fatalf("Locked after the failed Lock = %v, %v; want the holder's key gone", locked, lerr)
			}
			waitQueued(t, bounded(t, 20*time.Second), b, "RC", 0)
			if ok, terr := lb.TryLock(ctx); !ok || terr != nil {
				t.Fatalf("TryLock after the failed Lock = %v, %v", ok, terr)
			}
			lb.Unlock(ctx)
		})
	}
}
