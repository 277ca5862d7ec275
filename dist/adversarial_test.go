package dist_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/tockgo/tock"
	"github.com/tockgo/tock/dist"
)

// advServer starts a single JetStream node on a fixed free port and store
// dir, and returns it with a function that restarts it (same port, same
// store), as an operator's restart would.
func advServer(t *testing.T) (url string, restart func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := &server.Options{ServerName: "adv", Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: t.TempDir()}
	var mu sync.Mutex
	var cur *server.Server
	startIt := func() {
		s, err := server.NewServer(opts.Clone())
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatal("server not ready")
		}
		mu.Lock()
		cur = s
		mu.Unlock()
	}
	startIt()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if cur != nil {
			cur.Shutdown()
			cur.WaitForShutdown()
		}
	})
	return fmt.Sprintf("nats://127.0.0.1:%d", port), func() {
		mu.Lock()
		s := cur
		cur = nil
		mu.Unlock()
		s.Shutdown()
		s.WaitForShutdown()
		startIt()
	}
}

// TestDistHardeningSemaphoreTryAcquireIgnoresCancel
//
// Scenario: a Semaphore (and a CapacityLimiter) with free tokens; TryAcquire
// (TryAcquireFor) is called with an already-cancelled ctx.
// Expected: (true, nil) — the doc says TryAcquire "ignores ctx's
// cancellation; the error is a network one" (semaphore.go:64,
// limiter.go:86), as Lock.TryLock does (it runs under
// context.WithoutCancel, lock.go:188).
// Before the fix: (false, context.Canceled).
// Cause (fixed): Semaphore.TryAcquire passes ctx straight to pool.acquire
// (semaphore.go:67), whose queueing write c.create(ctx, ...) (pool.go:115/118)
// and hub setup c.hub(ctx, ...) (pool.go:148) run under the caller's ctx;
// only the await is made cancellation-proof (pool.go:152-155).
func TestDistHardeningSemaphoreTryAcquireIgnoresCancel(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 20*time.Second)
	c := client(t, s.ClientURL())
	sem, err := c.NewSemaphore(ctx, "advtry", 1)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := c.NewCapacityLimiter(ctx, "advtry", 1)
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	// Control: TryLock does ignore the cancellation.
	if ok, err := c.NewLock("advtry").TryLock(done); !ok || err != nil {
		t.Fatalf("control: TryLock with a cancelled ctx = %v, %v", ok, err)
	}
	ok, err := sem.TryAcquire(done)
	if !ok || err != nil {
		t.Errorf("Semaphore.TryAcquire(cancelled ctx) with a free token = %v, %v; want true, nil (doc: ignores ctx's cancellation)", ok, err)
	} else {
		sem.Release()
	}
	ok, err = lim.TryAcquireFor(done, "b")
	if !ok || err != nil {
		t.Errorf("CapacityLimiter.TryAcquireFor(cancelled ctx) with a free token = %v, %v; want true, nil", ok, err)
	} else if err := lim.ReleaseFor(ctx, "b"); err != nil {
		t.Error(err)
	}
	// Nothing leaked: the tokens are all free.
	if v, err := sem.Value(ctx); v != 1 || err != nil {
		t.Fatalf("Value after = %d, %v", v, err)
	}
}

// TestDistHardeningChannelSubscriptionLosesValuesAcrossRestart
//
// Scenario: Subscribe; a value is Put (stored: the channel stream is on
// file storage); the server restarts before the subscriber received
// anything; once the publisher is reconnected a second value is Put; then
// the subscriber Receives.
// Expected: both values, in order (doc: "A Subscription receives every
// value put after Subscribe returned, in order, none twice, across server
// restarts and reconnections (within the minute the server keeps
// values)", channel.go:17-20, README "Channel").
// Before the fix: neither: Receive times out; both values are silently skipped.
// Cause (fixed): Subscribe makes a nats.go ordered consumer with
// DeliverNewPolicy (channel.go:92-95). After the reconnection its next
// Next recreates the (in-memory) server consumer, and since it has
// delivered nothing yet (cursor.streamSeq == 0) nats.go reuses the
// original DeliverNew policy (nats.go v1.55.0 jetstream/ordered.go:624-636,
// getConsumerConfig): it starts at the stream's tail as of that Receive,
// skipping everything put since Subscribe. Subscribe should pin the start
// (DeliverByStartSequence at the stream's last sequence + 1, read when it
// subscribes) so that a reset resumes from there.
func TestDistHardeningChannelSubscriptionLosesValuesAcrossRestart(t *testing.T) {
	url, restart := advServer(t)
	ctx := bounded(t, 30*time.Second)
	a := client(t, url)
	b := client(t, url)
	sub, err := dist.NewChannel[string](b, "advch").Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	pub := dist.NewChannel[string](a, "advch")
	if err := pub.Put(ctx, "before-restart"); err != nil {
		t.Fatal(err)
	}
	restart()
	if err := retry(ctx, func() error { return pub.Put(bounded(t, 2*time.Second), "after-restart") }); err != nil {
		t.Fatal(err)
	}
	var got []string
	for tries := 0; len(got) < 2 && tries < 10; tries++ {
		v, err := sub.Receive(bounded(t, 3*time.Second))
		if errors.Is(err, dist.ErrUnavailable) {
			t.Logf("Receive while the client reconnects: %v (retried)", err)
			continue
		}
		if err != nil {
			t.Logf("Receive: %v", err)
			break
		}
		got = append(got, v)
	}
	if len(got) != 2 || got[0] != "before-restart" || got[1] != "after-restart" {
		// Show the subscription is alive and merely skipped them.
		third := "no"
		if err := pub.Put(ctx, "third"); err == nil {
			if v, err := sub.Receive(bounded(t, 3*time.Second)); err == nil {
				third = v
			}
		}
		t.Fatalf("subscriber received %q across the server restart, want [before-restart after-restart] (a value put later is received: %q)", got, third)
	}
}

// TestDistHardeningSubscriptionReceiveIgnoresClientClose
//
// Scenario: a Subscription is made, its Client is closed, then Receive is
// called (and, separately, a Receive already blocked when Close runs).
// Expected: ErrClientClosed (Client.Close doc: "Calls made after Close
// return ErrClientClosed", client.go:228-230; Queue.Take and Event.Wait do
// return it, also when Close interrupts them).
// Before the fix: Receive ignores the Close: it blocks until ctx's deadline and
// returns context.DeadlineExceeded (or a value, if one is put).
// Cause (fixed): Subscription.Receive (channel.go:116-155) never checks
// c.checkOpen() nor selects on c.done; the iterator lives on the
// nats.Conn, which Close does not close.
func TestDistHardeningSubscriptionReceiveIgnoresClientClose(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 30*time.Second)
	c := client(t, s.ClientURL(), dist.WithLeaseTTL(time.Second))
	sub, err := dist.NewChannel[int](c, "advclose").Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	blocked := make(chan struct{})
	var once sync.Once
	dist.SetBlockHook(func(what string) {
		if what == "Subscription.Receive advclose" {
			once.Do(func() { close(blocked) })
		}
	})
	defer dist.SetBlockHook(nil)
	errc := make(chan error, 1)
	go func() {
		_, err := sub.Receive(bounded(t, 3*time.Second))
		errc <- err
	}()
	select {
	case <-blocked:
	case <-ctx.Done():
		t.Fatal("Receive never blocked")
	}
	c.Close()
	if err := <-errc; !errors.Is(err, dist.ErrClientClosed) {
		t.Errorf("Receive blocked during Client.Close = %v, want ErrClientClosed", err)
	}
	if _, err := sub.Receive(bounded(t, 2*time.Second)); !errors.Is(err, dist.ErrClientClosed) {
		t.Errorf("Receive after Client.Close = %v, want ErrClientClosed", err)
	}
}

// TestDistHardeningLongNameKillsConnection
//
// Scenario: NewLock with a 4,100-character name (letters only, so
// checkName accepts it), then Lock; then an ordinary call on the same
// Client.
// Expected: a bad name is a programming error: NewLock panics naming the
// rule (as it does for "a.b" or ""), or at worst Lock fails alone; the
// Client and its connection go on working.
// Before the fix: the publish's control line exceeds the server's 4 KiB
// max_control_line; the server answers -ERR 'Maximum Control Line
// Exceeded' and the nats.Conn is closed for good (no reconnect): Lock
// returns ErrUnavailable ("connection closed") and so does every later
// call on the Client, for every primitive.
// Cause (fixed): checkName (client.go:283, nameRE client.go:281)
// bounds the characters but not the length of names (nor does
// borrowerLabel bound a borrower, limiter.go:54, whose base64 becomes a
// key: a long string borrower does the same).
func TestDistHardeningLongNameKillsConnection(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 20*time.Second)
	c := client(t, s.ClientURL(), dist.WithRequestTimeout(2*time.Second))
	long := strings.Repeat("a", 4100)
	var msg string
	func() {
		defer func() { msg = fmt.Sprint(recover()) }()
		c.NewLock(long)
	}()
	if !strings.Contains(msg, "characters long") {
		t.Errorf("NewLock(a 4,100-letter name): panic %.200q; want the rule on a name's length", msg)
	}
	// A long borrower is fine: its key is bounded (a hash of it).
	lim, err := c.NewCapacityLimiter(ctx, "longb", 1)
	if err != nil {
		t.Fatal(err)
	}
	b := strings.Repeat("b", 5000)
	if err := lim.AcquireFor(ctx, b); err != nil {
		t.Fatalf("AcquireFor(a 5,000-byte borrower) = %v", err)
	}
	if ok, err := lim.TryAcquireFor(ctx, b+"x"); ok || err != nil {
		t.Fatalf("TryAcquireFor(another long borrower) on the full limiter = %v, %v; want false, nil", ok, err)
	}
	if err := lim.ReleaseFor(ctx, b); err != nil {
		t.Fatalf("ReleaseFor(the long borrower) = %v", err)
	}
	// The Client must still work for an ordinary name.
	ok, err := c.NewLock("after").TryLock(ctx)
	if !ok || err != nil {
		t.Fatalf("TryLock of another lock after the long-named Lock = %v, %v; want true, nil (the connection was killed)", ok, err)
	}
}

// TestDistHardeningLongQueueNameIsUnavailable
//
// Scenario: NewQueue with a 300-character name (accepted by checkName).
// Expected: a panic naming the rule, as for other bad names, or at least an
// error that does not claim the server is unavailable.
// Before the fix: an error matching ErrUnavailable ("the server could not be
// reached") although the server answered: it refuses the durable consumer
// name "q_"+name as too long (JetStream's 255-character limit on consumer
// names, observed here as an API error).
// Cause (fixed): checkName (client.go:283) has no length bound, and
// NewQueue wraps every error of CreateOrUpdateConsumer with netErr
// (queue.go:74), which marks it ErrUnavailable.
func TestDistHardeningLongQueueNameIsUnavailable(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 20*time.Second)
	c := client(t, s.ClientURL(), dist.WithRequestTimeout(2*time.Second))
	var err error
	panicked := func() (p bool) {
		defer func() {
			if r := recover(); r != nil {
				p = true
			}
		}()
		_, err = dist.NewQueue[int](ctx, c, strings.Repeat("q", 300))
		return false
	}()
	if !panicked {
		t.Fatalf("NewQueue(300-char name) = %v; want a panic naming the rule on a name's length", err)
	}
}

// TestDistAdversarialLockRaceMutualExclusion: three clients, two tasks each, race
// for one lock with Lock, TryLock and Lock under short, cancelled deadlines
// mixed in; the number of holders (counted inside the critical section)
// never exceeds one, fences only grow, and the lock is free at the end.
func TestDistAdversarialLockRaceMutualExclusion(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	var in, peak atomic.Int32
	var mu sync.Mutex
	var lastFence uint64
	var wg sync.WaitGroup
	var free *dist.Lock
	for i := 0; i < 3; i++ {
		c := client(t, s.ClientURL())
		l := c.NewLock("advmx")
		free = l
		for k := 0; k < 2; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := tock.Run(ctx, func(ctx context.Context) error {
					for r := 0; r < 8; r++ {
						var err error
						switch (r + k) % 3 {
						case 0:
							err = l.Lock(ctx)
						case 1:
							var ok bool
							if ok, err = l.TryLock(ctx); err == nil && !ok {
								continue
							}
						case 2:
							cctx, cancel := tock.WithTimeout(ctx, 20*time.Millisecond)
							err = l.Lock(cctx)
							cancel()
							if errors.Is(err, context.DeadlineExceeded) {
								continue
							}
						}
						if err != nil {
							return err
						}
						n := in.Add(1)
						for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
						}
						f, ferr := l.Fence(ctx)
						mu.Lock()
						if ferr == nil && f <= lastFence {
							t.Errorf("fence %d after %d", f, lastFence)
						}
						lastFence = f
						mu.Unlock()
						in.Add(-1)
						if err := l.Release(ctx); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
	}
	within(t, 50*time.Second, "the racers", wg.Wait)
	if p := peak.Load(); p != 1 {
		t.Fatalf("peak holders %d, want 1", p)
	}
	if locked, err := free.Locked(ctx); locked || err != nil {
		t.Fatalf("Locked at the end = %v, %v", locked, err)
	}
}

// TestDistAdversarialDoubleReleaseAndAfterClose: a second Release of a lock, a
// Semaphore and a CapacityLimiter token panics naming the type; calls after
// Client.Close return ErrClientClosed and leave the primitives usable by
// another client.
func TestDistAdversarialDoubleReleaseAndAfterClose(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 30*time.Second)
	a := client(t, s.ClientURL())
	b := client(t, s.ClientURL())
	mustPanic := func(what, prefix string, f func()) {
		t.Helper()
		defer func() {
			r := recover()
			msg, _ := r.(string)
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("%s: panic %v, want one starting %q", what, r, prefix)
			}
		}()
		f()
	}
	l := a.NewLock("advdr")
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	mustPanic("second Lock.Release", "tock/dist: Lock.Unlock", func() { _ = l.Release(ctx) })
	sem, err := a.NewSemaphore(ctx, "advdr", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := sem.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	sem.Release()
	mustPanic("second Semaphore.Release", "tock/dist: Semaphore.Release", sem.Release)
	lim, err := a.NewCapacityLimiter(ctx, "advdr", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := lim.AcquireFor(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := lim.ReleaseFor(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	mustPanic("second ReleaseFor", "tock/dist: CapacityLimiter.ReleaseFor", func() { _ = lim.ReleaseFor(ctx, "x") })
	// Hold things, then Close.
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lim.AcquireFor(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := l.Lock(ctx); !errors.Is(err, dist.ErrClientClosed) {
		t.Errorf("Lock after Close = %v", err)
	}
	if err := sem.Acquire(ctx); !errors.Is(err, dist.ErrClientClosed) {
		t.Errorf("Acquire after Close = %v", err)
	}
	if err := a.NewEvent("advdr").Wait(ctx); !errors.Is(err, dist.ErrClientClosed) {
		t.Errorf("Event.Wait after Close = %v", err)
	}
	// Releases after Close report the loss and free the keys at once.
	if err := l.Release(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Errorf("Release after Close = %v, want ErrLeaseLost", err)
	}
	if err := lim.ReleaseFor(ctx, "x"); !errors.Is(err, dist.ErrLeaseLost) {
		t.Errorf("ReleaseFor after Close = %v, want ErrLeaseLost", err)
	}
	if ok, err := b.NewLock("advdr").TryLock(ctx); !ok || err != nil {
		t.Errorf("other client's TryLock after the closed holder released = %v, %v", ok, err)
	}
	blim, err := b.NewCapacityLimiter(ctx, "advdr", 1)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := blim.TryAcquireFor(ctx, "x"); !ok || err != nil {
		t.Errorf("other client's TryAcquireFor(x) after the closed holder released = %v, %v", ok, err)
	}
}
