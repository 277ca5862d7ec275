package dist_test

import (
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tockgo/tock/dist"
)

// requests counts the messages a connection sent to the server (each a
// request the server answers: a round trip) during each of ops runs of f,
// and returns the median count (so that a rare retry on a starved machine,
// say a fetch that timed out, does not make the test flaky).
func requests(t *testing.T, nc *nats.Conn, ops int, f func(i int)) uint64 {
	t.Helper()
	counts := make([]uint64, ops)
	for i := range counts {
		before := nc.Stats().OutMsgs
		f(i)
		counts[i] = nc.Stats().OutMsgs - before
	}
	slices.Sort(counts)
	return counts[ops/2]
}

// The uncontended fast paths send as few requests as the raw JetStream
// operations they stand for: Lock+Unlock is one compare-and-set write of
// the holder's key and one delete marker (a raw KV Create over a deleted key
// takes three requests, Delete one); Queue Put+Take+Ack is one publish, one
// pull request and one acknowledgement, as the raw floor. The lease TTL is
// long so that no renewal falls inside the count.
func TestRoundTrips(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	nc := connect(t, s.ClientURL())
	c := newClient(t, nc, dist.WithLeaseTTL(time.Hour))
	const ops = 20

	l := c.NewLock("rt")
	lockOp := func(int) {
		if err := l.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	lockOp(0) // the key's first creation
	lock := requests(t, nc, ops, lockOp)

	q, err := dist.NewQueue[int](ctx, c, "rt")
	if err != nil {
		t.Fatal(err)
	}
	queue := requests(t, nc, ops, func(i int) {
		if err := q.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
		it, err := q.Take(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := it.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	})

	// The raw floors, over a connection of their own.
	rnc := connect(t, s.ClientURL())
	js, err := jetstream.New(rnc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, "tock")
	if err != nil {
		t.Fatal(err)
	}
	rawLock := requests(t, rnc, ops, func(int) {
		if _, err := kv.Create(ctx, "raw.rt", []byte("x"), jetstream.KeyTTL(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := kv.Delete(ctx, "raw.rt"); err != nil {
			t.Fatal(err)
		}
	})
	cons, err := js.CreateOrUpdateConsumer(ctx, "tock_queues", jetstream.ConsumerConfig{
		Durable: "rawrt", FilterSubject: "tock.q.rawrt", AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	rawQueue := requests(t, rnc, ops, func(int) {
		if _, err := js.Publish(ctx, "tock.q.rawrt", []byte("1")); err != nil {
			t.Fatal(err)
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n != 1 {
			t.Fatalf("raw fetch got %d messages (%v)", n, batch.Error())
		}
	})

	t.Logf("requests per op (median of %d): Lock+Unlock %d (raw KV Create+Delete %d); Queue Put+Take+Ack %d (raw publish+fetch+ack %d)", ops, lock, rawLock, queue, rawQueue)
	if lock != 2 {
		t.Errorf("Lock+Unlock uncontended sends %d requests per op, want 2 (one write, one delete marker)", lock)
	}
	if queue != 3 {
		t.Errorf("Queue Put+Take+Ack sends %d requests per op, want 3 (publish, pull, ack)", queue)
	}
	if lock > rawLock || queue > rawQueue {
		t.Errorf("more requests than the raw floor")
	}
}
