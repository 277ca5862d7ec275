package dist_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/nats-io/nats.go"
	"github.com/tockgo/tock"
	"github.com/tockgo/tock/dist"
)

// The load tests run loadClients clients (each its own nats connection and
// dist.Client) doing loadOps operations each, per type, against one embedded
// server per type, record every operation with its call and return times,
// and check the histories with porcupine. The types run one after the
// other: run in parallel (two at a time on 2 cores) under -race, each took
// five to eight times as long, and the package passed go test's 10-minute
// limit.
//
// loadOps is 10,000 per client for every type, under the race detector
// too (the load: 8 clients x 10,000 operations per type). On a
// 2-core machine under -race, Lock, Semaphore and CapacityLimiter take
// about 163 s, 137 s and 100 s at that size, the package about 9 minutes:
// more than go test's default 10-minute limit allows on a slower machine,
// so the README's test command passes -timeout. TOCK_DIST_LOAD=N sets the
// size to N (e.g. 2000 for a quick run).
//
// The clients' lease TTL is loadTTL, longer than the default, so that a
// machine starved by the load itself (and by the race detector) does not
// make a holder miss its renewals: lease loss has tests of its own.
const (
	loadClients = 8
	loadTTL     = 20 * time.Second
)

var loadOps, heavyOps = loadSizes()

func loadSizes() (int, int) {
	if v := os.Getenv("TOCK_DIST_LOAD"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 {
			panic("TOCK_DIST_LOAD must be a number >= 4, got " + v)
		}
		return n, n
	}
	return 10000, 10000
}

// history records operations with call and return times from one monotonic
// clock.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func newHistory() *history { return &history{start: time.Now()} }

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, in, out any, call, ret int64) {
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
}

// conns sums the requests (messages sent to the server, including lease
// renewals and the hand-overs of a contended lock) of the load's clients.
type conns []*nats.Conn

func (cs *conns) client(t *testing.T, url string) *dist.Client {
	nc := connect(t, url)
	*cs = append(*cs, nc)
	return newClient(t, nc, dist.WithLeaseTTL(loadTTL))
}

func (cs conns) logRequests(t *testing.T, what string, ops int) {
	var n uint64
	for _, nc := range cs {
		n += nc.Stats().OutMsgs
	}
	t.Logf("%s: %.2f requests per operation (%d operations)", what, float64(n)/float64(ops), ops)
}

func checkLinearizable(t *testing.T, what string, m porcupine.Model, h *history) {
	t.Helper()
	res := porcupine.CheckOperationsTimeout(m, h.ops, 3*time.Minute)
	if res != porcupine.Ok {
		t.Fatalf("%s: porcupine says %s for %d operations", what, res, len(h.ops))
	}
	t.Logf("%s: porcupine: %d operations of %d clients linearizable", what, len(h.ops), loadClients)
}

// ---- Lock: mutual exclusion in fencing order ----

type lockIn struct {
	name    int
	client  int
	acquire bool
}

type lockState struct {
	holder int // -1: free
	fence  uint64
}

var lockModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		for _, o := range ops {
			n := o.Input.(lockIn).name
			by[n] = append(by[n], o)
		}
		var out [][]porcupine.Operation
		for _, p := range by {
			out = append(out, p)
		}
		return out
	},
	Init: func() any { return lockState{holder: -1} },
	Step: func(s, in, out any) (bool, any) {
		st, op := s.(lockState), in.(lockIn)
		if op.acquire {
			f := out.(uint64)
			if st.holder != -1 || f <= st.fence {
				return false, st
			}
			return true, lockState{holder: op.client, fence: f}
		}
		if st.holder != op.client {
			return false, st
		}
		return true, lockState{holder: -1, fence: st.fence}
	},
}

func TestLoadLock(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 8*time.Minute)
	const names = 8 // contention: 8 clients over 8 locks, each op on a random one
	h := newHistory()
	var cs conns
	var wg sync.WaitGroup
	for c := 0; c < loadClients; c++ {
		cl := cs.client(t, s.ClientURL())
		locks := make([]*dist.Lock, names)
		for i := range locks {
			locks[i] = cl.NewLock(fmt.Sprintf("load%d", i))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 1))
			for i := 0; i < heavyOps/2; i++ { // each round: Lock and Unlock
				n := r.IntN(names)
				call := h.now()
				if err := locks[n].Lock(ctx); err != nil {
					t.Errorf("client %d: Lock: %v", c, err)
					return
				}
				ret := h.now()
				f, err := locks[n].Fence(ctx)
				if err != nil {
					t.Errorf("client %d: Fence: %v", c, err)
					return
				}
				h.add(c, lockIn{name: n, client: c, acquire: true}, f, call, ret)
				call = h.now()
				if err := locks[n].Release(ctx); err != nil {
					t.Errorf("client %d: Release: %v", c, err)
					return
				}
				h.add(c, lockIn{name: n, client: c}, nil, call, h.now())
			}
		}()
	}
	within(t, 15*time.Minute, "the clients", wg.Wait)
	if t.Failed() {
		return
	}
	cs.logRequests(t, "Lock", len(h.ops))
	checkLinearizable(t, "Lock", lockModel, h)
}

// ---- Semaphore and CapacityLimiter: never above the total ----

type countIn struct{ acquire bool }

func counterModel(total int) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return 0 },
		Step: func(s, in, _ any) (bool, any) {
			n := s.(int)
			if in.(countIn).acquire {
				if n >= total {
					return false, n
				}
				return true, n + 1
			}
			if n == 0 {
				return false, n
			}
			return true, n - 1
		},
	}
}

func TestLoadSemaphore(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 8*time.Minute)
	const total = 3
	h := newHistory()
	var cs conns
	var wg sync.WaitGroup
	var in atomic.Int32
	for c := 0; c < loadClients; c++ {
		cl := cs.client(t, s.ClientURL())
		sem, err := cl.NewSemaphore(ctx, "load", total)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < heavyOps/2; i++ {
				call := h.now()
				if err := sem.Acquire(ctx); err != nil {
					t.Errorf("client %d: Acquire: %v", c, err)
					return
				}
				h.add(c, countIn{acquire: true}, nil, call, h.now())
				if n := in.Add(1); n > total {
					t.Errorf("%d holders of a semaphore of %d", n, total)
				}
				in.Add(-1)
				call = h.now()
				if err := sem.ReleaseErr(ctx); err != nil {
					t.Errorf("client %d: Release: %v", c, err)
					return
				}
				h.add(c, countIn{}, nil, call, h.now())
			}
		}()
	}
	within(t, 15*time.Minute, "the clients", wg.Wait)
	if t.Failed() {
		return
	}
	cs.logRequests(t, "Semaphore", len(h.ops))
	checkLinearizable(t, "Semaphore", counterModel(total), h)
}

func TestLoadCapacityLimiter(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 8*time.Minute)
	const total = 4
	h := newHistory()
	var cs conns
	var wg sync.WaitGroup
	for c := 0; c < loadClients; c++ {
		cl := cs.client(t, s.ClientURL())
		lim, err := cl.NewCapacityLimiter(ctx, "load", total)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := tock.Run(ctx, func(ctx context.Context) error {
				g := tock.NewGroup(ctx)
				for k := 0; k < 2; k++ { // two borrowing tasks per client
					g.Go(func(ctx context.Context) error {
						for i := 0; i < heavyOps/4; i++ {
							call := h.now()
							if err := lim.Acquire(ctx); err != nil {
								return err
							}
							h.add(c, countIn{acquire: true}, nil, call, h.now())
							call = h.now()
							lim.Release(ctx)
							h.add(c, countIn{}, nil, call, h.now())
						}
						return nil
					})
				}
				return g.Wait()
			})
			if err != nil {
				t.Errorf("client %d: %v", c, err)
			}
		}()
	}
	within(t, 15*time.Minute, "the clients", wg.Wait)
	if t.Failed() {
		return
	}
	cs.logRequests(t, "CapacityLimiter", len(h.ops))
	checkLinearizable(t, "CapacityLimiter", counterModel(total), h)
}

// ---- Queue: every item put is acked once, none acked twice ----

type queueIn struct {
	item int
	put  bool
}

// per item: 0 not put, 1 put, 2 acked
var queueModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		for _, o := range ops {
			n := o.Input.(queueIn).item
			by[n] = append(by[n], o)
		}
		out := make([][]porcupine.Operation, 0, len(by))
		for _, p := range by {
			out = append(out, p)
		}
		return out
	},
	Init: func() any { return 0 },
	Step: func(s, in, _ any) (bool, any) {
		st := s.(int)
		if in.(queueIn).put {
			return st == 0, 1
		}
		return st == 1, 2
	},
}

func TestLoadQueue(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 8*time.Minute)
	h := newHistory()
	var cs conns
	perClient := loadOps / 3 // each item: a Put, a Take and an Ack
	totalItems := perClient * loadClients
	var wg sync.WaitGroup
	var acked atomic.Int64
	seen := make([]atomic.Int32, totalItems)
	redelivered := atomic.Int64{}
	for c := 0; c < loadClients; c++ {
		cl := cs.client(t, s.ClientURL())
		q, err := dist.NewQueue[int](ctx, cl, "load")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(2)
		go func() { // producer
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				item := c*perClient + i
				call := h.now()
				if err := q.Put(ctx, item); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				h.add(c, queueIn{item: item, put: true}, nil, call, h.now())
			}
		}()
		go func() { // consumer: until every item is acked
			defer wg.Done()
			for acked.Load() < int64(totalItems) {
				tctx, cancel := context.WithTimeout(ctx, time.Second)
				call := h.now()
				it, err := q.Take(tctx)
				cancel()
				if err != nil {
					if ctx.Err() != nil {
						t.Errorf("Take: %v", err)
						return
					}
					continue
				}
				if it.Deliveries() > 1 {
					redelivered.Add(1)
				}
				if err := it.Ack(ctx); err != nil {
					t.Errorf("Ack: %v", err)
					return
				}
				h.add(c, queueIn{item: it.Value}, nil, call, h.now())
				seen[it.Value].Add(1)
				acked.Add(1)
			}
		}()
	}
	within(t, 15*time.Minute, "the clients", wg.Wait)
	if t.Failed() {
		return
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("item %d acked %d times", i, n)
		}
	}
	cs.logRequests(t, "Queue", 3*totalItems)
	checkLinearizable(t, "Queue", queueModel, h)
	t.Logf("Queue: %d items put and acked once each by %d clients (%d redelivered)", totalItems, loadClients, redelivered.Load())
}

// ---- Channel: every subscriber gets every value, in each putter's order ----

func TestLoadChannel(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 8*time.Minute)
	// Each client puts perClient values and receives every client's:
	// perClient*(1+loadClients) >= loadOps operations per client.
	perClient := (loadOps + loadClients) / (1 + loadClients)
	subs := make([]*dist.Subscription[[2]int], loadClients)
	chans := make([]*dist.Channel[[2]int], loadClients)
	for c := range chans {
		cl := client(t, s.ClientURL())
		chans[c] = dist.NewChannel[[2]int](cl, "load")
		sub, err := chans[c].Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sub.Close)
		subs[c] = sub
	}
	var wg sync.WaitGroup
	for c := 0; c < loadClients; c++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				if err := chans[c].Put(ctx, [2]int{c, i}); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			next := make([]int, loadClients)
			for n := 0; n < perClient*loadClients; n++ {
				v, err := subs[c].Receive(ctx)
				if err != nil {
					t.Errorf("subscriber %d: Receive after %d values: %v", c, n, err)
					return
				}
				if v[1] != next[v[0]] {
					t.Errorf("subscriber %d: from %d got %d, want %d (lost, duplicated or reordered)", c, v[0], v[1], next[v[0]])
					return
				}
				next[v[0]]++
			}
		}()
	}
	within(t, 15*time.Minute, "the clients", wg.Wait)
	t.Logf("Channel: %d clients each put %d values and received all %d, in order", loadClients, perClient, perClient*loadClients)
}

// ---- Event: once set, set for everyone ----

type eventIn struct {
	event int
	set   bool
}

var eventModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		for _, o := range ops {
			n := o.Input.(eventIn).event
			by[n] = append(by[n], o)
		}
		out := make([][]porcupine.Operation, 0, len(by))
		for _, p := range by {
			out = append(out, p)
		}
		return out
	},
	Init: func() any { return false },
	Step: func(s, in, out any) (bool, any) {
		if in.(eventIn).set {
			return true, true
		}
		return out.(bool) == s.(bool), s
	},
}

func TestLoadEvent(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 8*time.Minute)
	const events = 500
	h := newHistory()
	var wg sync.WaitGroup
	for c := 0; c < loadClients; c++ {
		cl := client(t, s.ClientURL())
		evs := make([]*dist.Event, events)
		for i := range evs {
			evs[i] = cl.NewEvent(fmt.Sprintf("load%d", i))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 2))
			for i := 0; i < loadOps; i++ {
				e := r.IntN(events)
				call := h.now()
				if r.IntN(8) == 0 {
					if err := evs[e].Set(ctx); err != nil {
						t.Errorf("Set: %v", err)
						return
					}
					h.add(c, eventIn{event: e, set: true}, nil, call, h.now())
					continue
				}
				set, err := evs[e].IsSet(ctx)
				if err != nil {
					t.Errorf("IsSet: %v", err)
					return
				}
				h.add(c, eventIn{event: e}, set, call, h.now())
			}
		}()
	}
	within(t, 15*time.Minute, "the clients", wg.Wait)
	if t.Failed() {
		return
	}
	checkLinearizable(t, "Event", eventModel, h)
}
