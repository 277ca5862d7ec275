package dist_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tockgo/tock/dist"
)

// Each benchmark pair runs the dist operation beside its raw JetStream
// floor on the same embedded server: compare the ns/op of the two lines.

func BenchmarkLockUncontended(b *testing.B) {
	s := startServer(b)
	c := client(b, s.ClientURL())
	l := c.NewLock("bench")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := l.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		l.Unlock(ctx)
	}
}

func BenchmarkRawKVCreateDelete(b *testing.B) {
	s := startServer(b)
	_ = client(b, s.ClientURL()) // creates the bucket with the same settings
	nc := connect(b, s.ClientURL())
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, "tock")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := kv.Create(ctx, "raw.lock", []byte(`{"o":"x"}`), jetstream.KeyTTL(5*time.Second)); err != nil {
			b.Fatal(err)
		}
		if err := kv.Delete(ctx, "raw.lock"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQueuePutTakeAck(b *testing.B) {
	s := startServer(b)
	c := client(b, s.ClientURL())
	ctx := context.Background()
	q, err := dist.NewQueue[int](ctx, c, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := q.Put(ctx, i); err != nil {
			b.Fatal(err)
		}
		it, err := q.Take(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := it.Ack(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawPublishFetchAck(b *testing.B) {
	s := startServer(b)
	_ = client(b, s.ClientURL()) // creates the queue stream
	nc := connect(b, s.ClientURL())
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	cons, err := js.CreateOrUpdateConsumer(ctx, "tock_queues", jetstream.ConsumerConfig{
		Durable: "raw", FilterSubject: "tock.q.raw", AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := js.Publish(ctx, "tock.q.raw", []byte("1")); err != nil {
			b.Fatal(err)
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}
