package dist_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tockgo/tock/dist"
	"github.com/tockgo/tock/dist/internal/embed"
)

// A Lock shared by two clients (as two processes would share it), with its
// fencing token.
func ExampleLock() {
	dir, _ := os.MkdirTemp("", "tock-dist-example-")
	defer os.RemoveAll(dir)
	s, err := embed.Single(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer embed.Stop(s)
	ctx := context.Background()
	var locks []*dist.Lock
	for i := 0; i < 2; i++ {
		nc, _ := nats.Connect(s.ClientURL())
		defer nc.Close()
		c, err := dist.Connect(ctx, nc)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		locks = append(locks, c.NewLock("ledger"))
	}
	var fences []uint64
	for _, l := range locks {
		if err := l.Lock(ctx); err != nil {
			fmt.Println(err)
			return
		}
		f, _ := l.Fence(ctx)
		fences = append(fences, f)
		l.Unlock(ctx)
	}
	fmt.Println("second fence larger:", fences[1] > fences[0])
	// Output: second fence larger: true
}

// A Queue: Take hands out an item to ack; unacked items are redelivered.
func ExampleQueue() {
	cs, ctx, stop, err := exampleClients(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	q, _ := dist.NewQueue[string](ctx, cs[0], "jobs")
	_ = q.Put(ctx, "resize photo 7")
	it, _ := q.Take(ctx)
	fmt.Println(it.Value, it.Deliveries())
	_ = it.Ack(ctx)
	// Output: resize photo 7 1
}

// exampleClients starts an embedded single-node server and connects n
// Clients to it, as n processes would, and gives a ctx that ends within a
// minute; stop closes the Clients and the server. (ExampleLock shows the
// same set-up written out.)
func exampleClients(n int, opts ...dist.Option) (cs []*dist.Client, ctx context.Context, stop func(), err error) {
	dir, err := os.MkdirTemp("", "tock-dist-example-")
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := embed.Single(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	var conns []*nats.Conn
	stop = func() {
		cancel()
		for _, c := range cs {
			c.Close()
		}
		for _, nc := range conns {
			nc.Close()
		}
		embed.Stop(s)
		os.RemoveAll(dir)
	}
	for i := 0; i < n; i++ {
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			stop()
			return nil, nil, nil, err
		}
		conns = append(conns, nc)
		c, err := dist.Connect(ctx, nc, opts...)
		if err != nil {
			stop()
			return nil, nil, nil, err
		}
		cs = append(cs, c)
	}
	return cs, ctx, stop, nil
}

// A Client with options: its leases last 5 s (renewed while held), and its
// primitives live under the prefix "shop" (a Client of another prefix does
// not share them).
func ExampleClient() {
	cs, _, stop, err := exampleClients(1, dist.WithLeaseTTL(5*time.Second), dist.WithPrefix("shop"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	c := cs[0]
	fmt.Println("lease TTL:", c.LeaseTTL(), "has an ID:", c.ID() != "")
	// Output: lease TTL: 5s has an ID: true
}

// Options are passed to Connect: here the TTL of the Client's leases and
// the time it gives each request to the server.
func ExampleOption() {
	cs, _, stop, err := exampleClients(1, dist.WithLeaseTTL(3*time.Second), dist.WithRequestTimeout(2*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	fmt.Println(cs[0].LeaseTTL())
	// Output: 3s
}

// A Semaphore of one token shared by two processes: while one holds it,
// the other's TryAcquire fails; once released, the other takes it.
func ExampleSemaphore() {
	cs, ctx, stop, err := exampleClients(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	a, err := cs[0].NewSemaphore(ctx, "printer", 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := cs[1].NewSemaphore(ctx, "printer", 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := a.Acquire(ctx); err != nil {
		fmt.Println(err)
		return
	}
	ok, _ := b.TryAcquire(ctx)
	fmt.Println("b while a holds:", ok)
	a.Release()
	if err := b.Acquire(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("b after a released: held", b.Held())
	b.Release()
	// Output:
	// b while a holds: false
	// b after a released: held 1
}

// A CapacityLimiter of two tokens lent to named borrowers: a borrower that
// holds a token in one process is refused one in another (ErrBorrowerBusy).
func ExampleCapacityLimiter() {
	cs, ctx, stop, err := exampleClients(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	a, err := cs[0].NewCapacityLimiter(ctx, "workers", 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := cs[1].NewCapacityLimiter(ctx, "workers", 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := a.AcquireFor(ctx, "job-1"); err != nil {
		fmt.Println(err)
		return
	}
	_, err = b.TryAcquireFor(ctx, "job-1")
	fmt.Println("job-1 again, elsewhere:", errors.Is(err, dist.ErrBorrowerBusy))
	if err := b.AcquireFor(ctx, "job-2"); err != nil {
		fmt.Println(err)
		return
	}
	n, _ := a.Available(ctx)
	fmt.Println("available:", n)
	_ = a.ReleaseFor(ctx, "job-1")
	_ = b.ReleaseFor(ctx, "job-2")
	n, _ = b.Available(ctx)
	fmt.Println("available after release:", n)
	// Output:
	// job-1 again, elsewhere: true
	// available: 0
	// available after release: 2
}

// An Event set by one process ends the Wait of another.
func ExampleEvent() {
	cs, ctx, stop, err := exampleClients(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ready := cs[0].NewEvent("warm-cache")
	waited := make(chan error, 1)
	go func() { waited <- ready.Wait(ctx) }()
	if err := cs[1].NewEvent("warm-cache").Set(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wait:", <-waited)
	set, _ := ready.IsSet(ctx)
	fmt.Println("set:", set)
	// Output:
	// wait: <nil>
	// set: true
}

// A Channel broadcasts each value put to every subscriber, in order.
func ExampleChannel() {
	cs, ctx, stop, err := exampleClients(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	news := dist.NewChannel[string](cs[0], "news")
	defer news.Close()
	sub, err := dist.NewChannel[string](cs[1], "news").Subscribe(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()
	for _, v := range []string{"opened", "sold out"} {
		if err := news.Put(ctx, v); err != nil {
			fmt.Println(err)
			return
		}
	}
	for range 2 {
		v, err := sub.Receive(ctx)
		fmt.Println(v, err)
	}
	// Output:
	// opened <nil>
	// sold out <nil>
}

// A Subscription receives only the values put after Subscribe returned.
func ExampleSubscription() {
	cs, ctx, stop, err := exampleClients(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ch := dist.NewChannel[int](cs[0], "ticks")
	defer ch.Close()
	_ = ch.Put(ctx, 1) // nobody subscribes yet: dropped
	sub, err := ch.Subscribe(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()
	_ = ch.Put(ctx, 2)
	v, err := sub.Receive(ctx)
	fmt.Println(v, err)
	// Output: 2 <nil>
}

// An Item handed back with Nak is delivered again at once, counted.
func ExampleItem() {
	cs, ctx, stop, err := exampleClients(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	q, err := dist.NewQueue[string](ctx, cs[0], "mail")
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = q.Put(ctx, "welcome")
	it, _ := q.Take(ctx)
	_ = it.Nak(ctx) // not now: deliver it again
	it, _ = q.Take(ctx)
	fmt.Println(it.Value, "delivery", it.Deliveries())
	_ = it.Ack(ctx)
	// Output: welcome delivery 2
}

// An item taken and neither acked nor handed back is delivered again once
// RedeliverAfter has passed (a worker that died mid-item).
func ExampleQueueOption() {
	cs, ctx, stop, err := exampleClients(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	q, err := dist.NewQueue[string](ctx, cs[0], "jobs", dist.RedeliverAfter(time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = q.Put(ctx, "resize")
	first, _ := q.Take(ctx) // and never acked
	again, _ := q.Take(ctx) // waits about a second
	fmt.Println(first.Value, again.Value, again.Deliveries())
	_ = again.Ack(ctx)
	// Output: resize resize 2
}

// upperJSON is a Codec of the user's: JSON, with strings upper-cased on
// the way in (a stand-in for compression or encryption).
type upperJSON struct{}

func (upperJSON) Marshal(v any) ([]byte, error) {
	if s, ok := v.(string); ok {
		v = strings.ToUpper(s)
	}
	return json.Marshal(v)
}

func (upperJSON) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// A Client's Codec encodes the values of its Queues and Channels.
func ExampleCodec() {
	cs, ctx, stop, err := exampleClients(1, dist.WithCodec(upperJSON{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	q, err := dist.NewQueue[string](ctx, cs[0], "shout")
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = q.Put(ctx, "hello")
	it, _ := q.Take(ctx)
	fmt.Println(it.Value)
	_ = it.Ack(ctx)
	// Output: HELLO
}
