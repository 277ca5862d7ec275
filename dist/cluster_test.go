package dist_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tockgo/tock/dist"
	"github.com/tockgo/tock/dist/internal/embed"
)

func startCluster(t *testing.T) *embed.Cluster {
	t.Helper()
	c, err := embed.NewCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatalf("start 3-node cluster: %v", err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// clusterClient connects a client with R3 to the cluster (see
// connectRetrying).
func clusterClient(t *testing.T, urls string, ttl time.Duration) *dist.Client {
	t.Helper()
	nc := connect(t, urls, nats.Timeout(2*time.Second))
	return connectRetrying(t, nc, dist.WithReplicas(3), dist.WithLeaseTTL(ttl), dist.WithRequestTimeout(2*time.Second))
}

// connectRetrying connects a client over nc, retrying Connect, each
// attempt bounded by 5 s, for up to a minute: a JetStream API request sent
// while a fresh cluster settles can go unanswered, and a request under a
// ctx with a deadline waits for that deadline (a CI run once lost 30 s
// so), where a new attempt is answered.
func connectRetrying(t *testing.T, nc *nats.Conn, opts ...dist.Option) *dist.Client {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := dist.Connect(ctx, nc, opts...)
		cancel()
		if err == nil {
			t.Cleanup(c.Close)
			return c
		}
		if time.Now().After(deadline) || !(errors.Is(err, dist.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)) {
			t.Fatalf("dist.Connect to the cluster: %v", err)
		}
	}
}

// retry runs f until it returns nil or an error that is not a network one,
// for as long as ctx allows: clients ride out a failover this way.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil || !errors.Is(err, dist.ErrUnavailable) || ctx.Err() != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterNodeKilledDuringLoad runs Lock and Queue load on a 3-node
// cluster (R3) while one node is killed and restarted: the lock is never
// held twice at once by holders that both still had their lease, fencing
// tokens only grow, and every item whose Put succeeded is acked at least
// once (redeliveries allowed: at-least-once).
func TestClusterNodeKilledDuringLoad(t *testing.T) {
	cl := startCluster(t)
	ctx := bounded(t, 4*time.Minute)
	const clients = 4
	const ttl = 3 * time.Second
	var cs []*dist.Client
	for i := 0; i < clients; i++ {
		cs = append(cs, clusterClient(t, cl.URLs(), ttl))
	}
	var (
		stop      atomic.Bool
		inCS      atomic.Int32
		lastFence atomic.Uint64
		acquired  atomic.Int64
		stale     atomic.Int64 // critical sections refused by the fence
		mu        sync.Mutex
		put       = map[int]bool{} // items whose Put returned nil
		maybe     = map[int]bool{} // items whose Put failed (may be stored)
		acked     = map[int]int{}
		delivered = map[int]int{} // items handed out by Take (at-least-once delivery)
		nextItem  atomic.Int64
		wg        sync.WaitGroup
	)
	for i, c := range cs {
		lk := c.NewLock("cluster")
		q, err := dist.NewQueue[int](ctx, c, "cluster", dist.RedeliverAfter(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(2)
		go func() { // lock worker
			defer wg.Done()
			for !stop.Load() {
				if err := retry(ctx, func() error { return lk.Lock(ctx) }); err != nil {
					t.Errorf("client %d: Lock: %v", i, err)
					return
				}
				f, _ := lk.Fence(ctx)
				// The protected resource accepts only growing fences; a
				// holder it refuses must know it lost its lease.
				for {
					last := lastFence.Load()
					if f <= last {
						stale.Add(1)
						if _, err := lk.Fence(ctx); !errors.Is(err, dist.ErrLeaseLost) {
							t.Errorf("client %d: fence %d refused (last %d) but its lease is not lost (%v)", i, f, last, err)
						}
						break
					}
					if lastFence.CompareAndSwap(last, f) {
						break
					}
				}
				inCS.Add(1)
				time.Sleep(2 * time.Millisecond)
				inCS.Add(-1)
				acquired.Add(1)
				_ = lk.Release(ctx) // ErrLeaseLost or ErrUnavailable here are allowed in a failover
			}
		}()
		go func() { // queue producer + consumer
			defer wg.Done()
			for !stop.Load() {
				item := int(nextItem.Add(1))
				err := q.Put(ctx, item)
				mu.Lock()
				if err == nil {
					put[item] = true
				} else {
					maybe[item] = true
				}
				mu.Unlock()
				if err != nil && !errors.Is(err, dist.ErrUnavailable) {
					t.Errorf("Put: %v", err)
					return
				}
				tctx, cancel := context.WithTimeout(ctx, time.Second)
				it, err := q.Take(tctx)
				cancel()
				if err != nil {
					continue
				}
				mu.Lock()
				delivered[it.Value]++ // delivered: an Ack that errors in a failover may still have been applied
				mu.Unlock()
				if it.Ack(ctx) == nil {
					mu.Lock()
					acked[it.Value]++
					mu.Unlock()
				}
			}
		}()
	}
	// Let the load run, then kill a node, let it run, restart the node.
	time.Sleep(2 * time.Second)
	before := acquired.Load()
	cl.Kill(1)
	time.Sleep(4 * time.Second)
	if err := cl.Restart(1); err != nil {
		t.Fatal(err)
	}
	if err := cl.WaitLeader(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	stop.Store(true)
	within(t, 15*time.Minute, "the clients", wg.Wait)
	if acquired.Load() <= before {
		t.Fatalf("no lock progress after the node was killed (%d before, %d after)", before, acquired.Load())
	}
	// Drain the queue: every item put must come out (at least once).
	q, err := dist.NewQueue[int](ctx, cs[0], "cluster", dist.RedeliverAfter(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	missing := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for it := range put {
			if delivered[it] == 0 {
				n++
			}
		}
		return n
	}
	for missing() > 0 {
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		it, err := q.Take(tctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("%d items put were never delivered", missing())
			}
			if errors.Is(err, context.DeadlineExceeded) && missing() > 0 {
				// Redelivery of unacked items takes up to 5s.
				continue
			}
			continue
		}
		mu.Lock()
		delivered[it.Value]++
		mu.Unlock()
		if err := retry(ctx, func() error { return it.Ack(ctx) }); err == nil {
			mu.Lock()
			acked[it.Value]++
			mu.Unlock()
		}
	}
	dups := 0
	mu.Lock()
	for it, n := range acked {
		if !put[it] && !maybe[it] {
			t.Errorf("item %d acked but never put", it)
		}
		if n > 1 {
			dups++
		}
	}
	t.Logf("cluster: %d lock acquisitions (%d refused by the fence), %d items put, %d failed puts, %d items acked more than once (redelivered)",
		acquired.Load(), stale.Load(), len(put), len(maybe), dups)
	mu.Unlock()
}

// TestClusterCutHolder: on the 3-node cluster, a client holding the lock is
// cut off; the lease expires, another client gets the lock with a larger
// fencing token, and the old holder learns it lost the lease.
func TestClusterCutHolder(t *testing.T) {
	cl := startCluster(t)
	ctx := bounded(t, 2*time.Minute)
	const ttl = 2 * time.Second
	p := newProxy(t, strings.TrimPrefix(cl.URL(0), "nats://"))
	b := clusterClient(t, cl.URL(1)+","+cl.URL(2), ttl)
	ncA := connect(t, p.URL(), nats.Timeout(time.Second), nats.IgnoreDiscoveredServers())
	a := connectRetrying(t, ncA, dist.WithReplicas(3), dist.WithLeaseTTL(ttl), dist.WithRequestTimeout(2*time.Second))
	la, lb := a.NewLock("cut"), b.NewLock("cut")
	// the fresh cluster may still be settling: a request can go unanswered
	// (CI once saw "no response from stream" here), and a retry is answered
	if err := retry(ctx, func() error { return la.Lock(ctx) }); err != nil {
		t.Fatal(err)
	}
	fa, _ := la.Fence(ctx)
	p.sever()
	// b's watch and create go to the two other nodes, which may be slow to
	// answer on a saturated machine (a run of every module's tests at once
	// once saw "watch lock.cut.>: NATS unavailable" here): b retries, as
	// a's first Lock does
	if err := retry(ctx, func() error { return lb.Lock(ctx) }); err != nil {
		t.Fatalf("b never got the lock: %v", err)
	}
	if _, err := la.Fence(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Fatalf("old holder's Fence = %v, want ErrLeaseLost", err)
	}
	fb, err := lb.Fence(ctx)
	if err != nil || fb <= fa {
		t.Fatalf("fences: old %d, new %d (%v)", fa, fb, err)
	}
	select {
	case <-la.Lost(ctx):
	case <-ctx.Done():
		t.Fatal("Lost never closed")
	}
	if err := la.Release(ctx); !errors.Is(err, dist.ErrLeaseLost) {
		t.Fatalf("old holder's Release = %v, want ErrLeaseLost", err)
	}
	lb.Unlock(ctx)
}
