package dist_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tockgo/tock/dist"
)

// The benchmarks put each dist operation beside its raw JetStream floor on
// the same embedded server and in the same run. BenchmarkLockVsRaw and
// BenchmarkQueueVsRaw interleave the rows operation by operation (rotating
// which goes first), so that the load of a shared, noisy machine falls on
// all of them alike, and report each row's median ns/op and the ratios of
// the medians (x-...). The single-row benchmarks after them time one row
// alone.

// rawKV opens the bucket the dist Client made, over a connection of its own.
func rawKV(b testing.TB, url string) (jetstream.JetStream, jetstream.KeyValue) {
	nc := connect(b, url)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), "tock")
	if err != nil {
		b.Fatal(err)
	}
	return js, kv
}

// rawDel writes a delete marker for key as kv.Delete does, and returns its
// revision (which kv.Delete does not).
func rawDel(ctx context.Context, js jetstream.JetStream, key string) (uint64, error) {
	m := nats.NewMsg("$KV.tock." + key)
	m.Header.Set("KV-Operation", "DEL")
	pa, err := js.PublishMsg(ctx, m)
	if err != nil {
		return 0, err
	}
	return pa.Sequence, nil
}

// interleave runs the rows in turn, b.N times each, and reports their
// median ns/op and the ratio of the first row's median to each other's
// (ns/op itself is the time of all the rows together).
func interleave(b *testing.B, names []string, rows []func() error) {
	ds := make([][]time.Duration, len(rows))
	for r := range rows {
		ds[r] = make([]time.Duration, 0, b.N)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range rows {
			r := (i + k) % len(rows)
			t0 := time.Now()
			if err := rows[r](); err != nil {
				b.Fatalf("%s: %v", names[r], err)
			}
			ds[r] = append(ds[r], time.Since(t0))
		}
	}
	b.StopTimer()
	med := make([]float64, len(rows))
	for r := range rows {
		slices.Sort(ds[r])
		med[r] = float64(ds[r][len(ds[r])/2].Nanoseconds())
		b.ReportMetric(med[r], names[r]+"-ns/op")
	}
	for r := 1; r < len(rows); r++ {
		b.ReportMetric(med[0]/med[r], "x-"+names[r])
	}
}

// BenchmarkLockVsRaw: Lock+Unlock uncontended (one handle, one task) beside
// a raw KV Create+Delete of a key of the same bucket with the same TTL (the
// issue's floor: nats.go's Create over a deleted key takes three requests,
// Delete one), and beside the two-request floor (a compare-and-set write on
// the revision of the key's delete marker, then a delete marker), which is
// what Lock+Unlock sends.
func BenchmarkLockVsRaw(b *testing.B) {
	s := startServer(b)
	c := client(b, s.ClientURL())
	l := c.NewLock("bench")
	js, kv := rawKV(b, s.ClientURL())
	ctx := context.Background()
	val := []byte(`{"o":"x","c":true}`)
	var marker uint64 // of raw.cas
	interleave(b, []string{"lock", "rawCreateDelete", "rawCASDelete"}, []func() error{
		func() error {
			if err := l.Lock(ctx); err != nil {
				return err
			}
			return l.Release(ctx)
		},
		func() error {
			if _, err := kv.Create(ctx, "raw.create", val, jetstream.KeyTTL(5*time.Second)); err != nil {
				return err
			}
			return kv.Delete(ctx, "raw.create")
		},
		func() error {
			m := nats.NewMsg("$KV.tock.raw.cas")
			m.Data = val
			if _, err := js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(marker), jetstream.WithMsgTTL(5*time.Second)); err != nil {
				return err
			}
			var err error
			marker, err = rawDel(ctx, js, "raw.cas")
			return err
		},
	})
}

// BenchmarkQueueVsRaw: Queue Put+Take+Ack beside a raw publish + fetch of
// one message + double ack (an acknowledgement the server confirms, as
// Item.Ack waits for) on a durable consumer of the same work-queue stream.
func BenchmarkQueueVsRaw(b *testing.B) {
	s := startServer(b)
	c := client(b, s.ClientURL())
	ctx := context.Background()
	q, err := dist.NewQueue[int](ctx, c, "bench")
	if err != nil {
		b.Fatal(err)
	}
	js, _ := rawKV(b, s.ClientURL())
	cons, err := js.CreateOrUpdateConsumer(ctx, "tock_queues", jetstream.ConsumerConfig{
		Durable: "raw", FilterSubject: "tock.q.raw", AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	interleave(b, []string{"queue", "rawPubFetchAck"}, []func() error{
		func() error {
			i++
			if err := q.Put(ctx, i); err != nil {
				return err
			}
			it, err := q.Take(ctx)
			if err != nil {
				return err
			}
			return it.Ack(ctx)
		},
		func() error {
			i++
			if _, err := js.Publish(ctx, "tock.q.raw", []byte(strconv.Itoa(i))); err != nil {
				return err
			}
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
			if err != nil {
				return err
			}
			for m := range batch.Messages() {
				if err := m.DoubleAck(ctx); err != nil {
					return err
				}
			}
			return batch.Error()
		},
	})
}

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
	_, kv := rawKV(b, s.ClientURL())
	ctx := context.Background()
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
	js, _ := rawKV(b, s.ClientURL())
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
