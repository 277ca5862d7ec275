package dist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tockgo/tock/dist/internal/embed"
)

// testClient starts a single-node server and returns a Client on it; both
// end with the test.
func testClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	s, err := embed.Single(t.TempDir())
	if err != nil {
		t.Fatalf("start nats server: %v", err)
	}
	t.Cleanup(func() { embed.Stop(s) })
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Connect(ctx, nc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// A lease's revision only moves forward: adopting a write older than one it
// recorded (a rewrite and a renewal that crossed) keeps the newer revision
// and value, and never shortens the lease.
func TestLeaseAdoptNeverMovesBack(t *testing.T) {
	c := &Client{cfg: config{ttl: time.Second}}
	now := time.Now()
	l := &lease{c: c, key: "k", rev: 10, val: []byte("at 10"), valid: now}
	l.adopt(7, []byte("at 7"), now.Add(time.Second))
	if l.rev != 10 || string(l.val) != "at 10" {
		t.Fatalf("after adopting revision 7 over 10: rev %d, val %q; want 10, \"at 10\"", l.rev, l.val)
	}
	if want := now.Add(time.Second + c.validFor()); !l.valid.Equal(want) {
		t.Fatalf("valid %v, want %v (the later deadline)", l.valid, want)
	}
	l.adopt(12, []byte("at 12"), now)
	if l.rev != 12 || string(l.val) != "at 12" {
		t.Fatalf("after adopting revision 12: rev %d, val %q", l.rev, l.val)
	}
	if want := now.Add(time.Second + c.validFor()); !l.valid.Equal(want) {
		t.Fatalf("valid %v moved back, want %v", l.valid, want)
	}
	l.mu.Lock()
	l.advanceLocked(11, []byte("at 11")) // a renewal's reread of an older write
	l.mu.Unlock()
	if l.rev != 12 || string(l.val) != "at 12" {
		t.Fatalf("after a reread of revision 11: rev %d, val %q; want 12", l.rev, l.val)
	}
}

// A rewrite waiting after a conflict with another writer returns ctx's
// error as soon as ctx is done, without waiting out its pause (an hour
// here: a rewrite that ignored ctx would not return within the bound).
func TestRewriteWaitReturnsOnCtxDone(t *testing.T) {
	c := testClient(t, WithLeaseTTL(time.Minute))
	ctx, cancelAll := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelAll()
	const key = "test.rewrite"
	sent := time.Now()
	rev, err := c.create(ctx, key, []byte("mine"))
	if err != nil {
		t.Fatal(err)
	}
	l := c.startLease(key, rev, []byte("mine"), sent, nil)
	defer l.stop()
	// Another writer: the rewrite's compare-and-set on rev fails, and the
	// lease's revision did not move, so the rewrite waits.
	if _, err := c.cas(ctx, key, []byte("other"), rev, time.Minute); err != nil {
		t.Fatal(err)
	}
	old := rewriteBackoff
	rewriteBackoff = time.Hour
	defer func() { rewriteBackoff = old }()
	waiting := make(chan struct{})
	var once sync.Once
	f := func() { once.Do(func() { close(waiting) }) }
	testHookRewriteWait.Store(&f)
	defer testHookRewriteWait.Store(nil)
	rctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- l.rewrite(rctx, []byte("rewritten")) }()
	select {
	case <-waiting:
	case err := <-errc:
		t.Fatalf("rewrite returned %v before it waited", err)
	case <-ctx.Done():
		t.Fatal("the rewrite never waited")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("rewrite with ctx cancelled while it waits = %v, want context.Canceled", err)
		}
	case <-ctx.Done():
		t.Fatal("the rewrite did not return when its ctx was cancelled")
	}
}

// setHubHook sets testHookHub to f for the rest of the test.
func setHubHook(t *testing.T, f func(event string)) {
	testHookHub.Store(&f)
	t.Cleanup(func() { testHookHub.Store(nil) })
}

// hubReady gets c's hub of pattern and waits (bounded by ctx) until its
// view is complete.
func hubReady(ctx context.Context, c *Client, pattern string) error {
	h, err := c.hub(ctx, pattern, "")
	if err != nil {
		return err
	}
	return h.await(ctx, 0, nil, nil, func(map[string]jetstream.KeyValueEntry, uint64) bool { return true })
}

// A hub's setup runs under the caller's ctx: cancelled during the setup, it
// returns ctx's error and leaves no hub behind; the next caller sets the hub
// up afresh.
func TestHubSetupHonoursCtx(t *testing.T) {
	c := testClient(t)
	bound, cancelAll := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelAll()
	ctx, cancel := context.WithCancel(bound)
	setups := 0
	setHubHook(t, func(event string) {
		if event == "setup" {
			setups++
			if setups == 1 {
				cancel()
			}
		}
	})
	h, err := c.hub(ctx, "test.setup.>", "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("hub with ctx cancelled during its setup = %v, %v; want context.Canceled", h, err)
	}
	if c.peekHub("test.setup.>") != nil {
		t.Fatal("an abandoned setup left its hub in the Client")
	}
	if err := hubReady(bound, c, "test.setup.>"); err != nil {
		t.Fatalf("the hub set up after an abandoned one: %v", err)
	}
	if setups != 2 {
		t.Fatalf("%d setups, want 2", setups)
	}
}

// A caller that waits for a hub another caller is setting up is not failed
// by the other's cancellation: it sets the hub up itself. The hooks order
// it: the first setup lets the second caller reach its wait, then cancels
// its own ctx.
func TestHubSetupCancelledIsNotAnothersError(t *testing.T) {
	c := testClient(t)
	bound, cancelAll := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelAll()
	actx, cancelA := context.WithCancel(bound)
	waiting := make(chan struct{})
	resB := make(chan error, 1)
	var setups int
	setHubHook(t, func(event string) {
		switch event {
		case "wait":
			close(waiting)
		case "setup":
			setups++
			if setups != 1 {
				return
			}
			go func() { resB <- hubReady(bound, c, "test.shared.>") }()
			select {
			case <-waiting:
			case <-bound.Done():
			}
			cancelA()
		}
	})
	if _, err := c.hub(actx, "test.shared.>", ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("the first caller's hub = %v, want context.Canceled", err)
	}
	select {
	case err := <-resB:
		if err != nil {
			t.Fatalf("the second caller's hub = %v, want it set up and ready", err)
		}
	case <-bound.Done():
		t.Fatal("the second caller never got its hub")
	}
	if setups != 2 {
		t.Fatalf("%d setups, want 2 (the second caller's own)", setups)
	}
}

// A Close during a hub's setup fails the setup with ErrClientClosed (not
// ErrUnavailable), and starts no worker that Close would not wait for.
func TestHubSetupDuringClose(t *testing.T) {
	c := testClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	setHubHook(t, func(event string) {
		if event == "setup" {
			c.Close()
		}
	})
	if _, err := c.hub(ctx, "test.close.>", ""); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("hub with the Client closed during its setup = %v, want ErrClientClosed", err)
	}
	if c.peekHub("test.close.>") != nil {
		t.Fatal("a setup failed by Close left its hub in the Client")
	}
}

// A Close that lands after a hub's watch is set up and before its worker
// starts (the hook closes the Client there) fails the setup with
// ErrClientClosed: the caller gets no hub, none is left in the Client, and
// no worker runs (the Client's workers are all done).
func TestHubWatchedThenClosed(t *testing.T) {
	c := testClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watched := 0
	setHubHook(t, func(event string) {
		if event == "watched" {
			watched++
			c.Close()
		}
	})
	h, err := c.hub(ctx, "test.watched.>", "")
	if watched != 1 {
		t.Fatalf("the hook saw %d set-up watches, want 1", watched)
	}
	if h != nil || !errors.Is(err, ErrClientClosed) {
		t.Fatalf("hub with the Client closed between its watch and its worker = %v, %v; want nil, ErrClientClosed", h, err)
	}
	if c.peekHub("test.watched.>") != nil {
		t.Fatal("a setup failed by Close left its hub in the Client")
	}
	done := make(chan struct{})
	go func() {
		c.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("a worker is still running after Close")
	}
}

// entry is a jetstream.KeyValueEntry made by hand.
type entry struct {
	key string
	rev uint64
	op  jetstream.KeyValueOp
}

func (e entry) Bucket() string                  { return "b" }
func (e entry) Key() string                     { return e.key }
func (e entry) Value() []byte                   { return nil }
func (e entry) Revision() uint64                { return e.rev }
func (e entry) Created() time.Time              { return time.Time{} }
func (e entry) Delta() uint64                   { return 0 }
func (e entry) Operation() jetstream.KeyValueOp { return e.op }

// The hub's memory of deletions (Lock.queuedAt's exact check) is bounded:
// it keeps the last deletedMax delete markers, forgets a key written again,
// and tells a deletion after a revision from one before it.
func TestHubDeletedRemembersTheLastDeletions(t *testing.T) {
	h := &hub{}
	h.deleted.apply(nil) // the end of the initial values: nothing to remember
	h.deleted.apply(entry{"q.a", 10, jetstream.KeyValuePut})
	h.deleted.apply(entry{"q.a", 12, jetstream.KeyValueDelete})
	h.deleted.apply(entry{"q.p", 13, jetstream.KeyValuePurge})
	if !h.deletedAfter("q.a", 11) || h.deletedAfter("q.a", 12) || h.deletedAfter("q.a", 20) {
		t.Error("q.a deleted at 12: deletedAfter(11) must be true, (12) and (20) false")
	}
	if !h.deletedAfter("q.p", 12) {
		t.Error("a purge counts as a deletion")
	}
	if h.deletedAfter("q.never", 0) {
		t.Error("a key never seen deleted counts as deleted after a revision")
	}
	h.deleted.apply(entry{"q.a", 14, jetstream.KeyValuePut})
	if h.deletedAfter("q.a", 11) {
		t.Error("a key written again keeps its old delete marker")
	}
	for i := range deletedMax {
		h.deleted.apply(entry{fmt.Sprintf("q.n%d", i), uint64(100 + i), jetstream.KeyValueDelete})
	}
	if len(h.deleted.at) > deletedMax || len(h.deleted.ring) > deletedMax {
		t.Fatalf("the memory holds %d markers in a ring of %d; want at most %d", len(h.deleted.at), len(h.deleted.ring), deletedMax)
	}
	if h.deletedAfter("q.p", 12) {
		t.Error("the oldest deletion is still remembered past deletedMax newer ones")
	}
	if !h.deletedAfter("q.n0", 99) || !h.deletedAfter(fmt.Sprintf("q.n%d", deletedMax-1), 99) {
		t.Error("the last deletedMax deletions are not all remembered")
	}
}
