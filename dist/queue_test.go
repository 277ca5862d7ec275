package dist_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/dist"
)

type job struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func TestQueueBasic(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	b := client(t, s.ClientURL())
	qa, err := dist.NewQueue[job](ctx, a, "Q")
	if err != nil {
		t.Fatal(err)
	}
	qb, err := dist.NewQueue[job](ctx, b, "Q")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := qa.Put(ctx, job{ID: i, Name: "j"}); err != nil {
			t.Fatal(err)
		}
	}
	// Len is the server's count, brought up to date a moment after each
	// Put's acknowledgement: it reaches 3 (bounded by ctx) and never
	// passes it.
	for {
		n, err := qb.Len(ctx)
		if err != nil || n > 3 {
			t.Fatalf("Len = %d, %v", n, err)
		}
		if n == 3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("Len stayed %d after 3 Puts", n)
		}
		time.Sleep(time.Millisecond) //tockvet:ignore the server's count, on the wall clock
	}
	for i := 0; i < 3; i++ {
		v, err := qb.Get(ctx)
		if err != nil || v.ID != i {
			t.Fatalf("Get = %+v, %v; want ID %d (FIFO)", v, err, i)
		}
	}
	// Nothing left: a bounded Take returns the ctx error and takes nothing.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := qb.Take(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Take on an empty queue = %v", err)
	}
	qa.Close()
	if err := qa.Put(ctx, job{}); !errors.Is(err, tock.ErrClosedResource) {
		t.Fatalf("Put after Close = %v", err)
	}
}

func TestQueueRedeliveryAfterDeadline(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	b := client(t, s.ClientURL())
	qa, err := dist.NewQueue[int](ctx, a, "RD", dist.RedeliverAfter(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	qb, err := dist.NewQueue[int](ctx, b, "RD", dist.RedeliverAfter(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := qa.Put(ctx, 42); err != nil {
		t.Fatal(err)
	}
	it, err := qa.Take(ctx) // taken, never acked (as if a died)
	if err != nil || it.Value != 42 || it.Deliveries() != 1 {
		t.Fatalf("Take = %+v, %v", it, err)
	}
	// Delivered again after the deadline (1s): well before the default of
	// 30s, so the queue's own deadline is the one applied (15s is a
	// generous bound for a loaded machine).
	rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
	defer rcancel()
	it2, err := qb.Take(rctx)
	if err != nil || it2.Value != 42 || it2.Deliveries() != 2 {
		t.Fatalf("redelivery = %+v, %v", it2, err)
	}
	if err := it2.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	if it3, err := qa.Take(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after the ack, Take = %+v, %v; want nothing", it3, err)
	}
}

func TestQueueCancelledTakeLosesNothing(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	q, err := dist.NewQueue[int](ctx, a, "CT") // default 30s redelivery
	if err != nil {
		t.Fatal(err)
	}
	// Many Takes cancelled while items arrive: every item still comes out
	// promptly (a cancelled Take's item is handed back, not held for 30s).
	for i := 0; i < 20; i++ {
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		var got *dist.Item[int]
		go func() {
			var err error
			got, err = q.Take(cctx)
			errc <- err
		}()
		if err := q.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-errc; err == nil {
			if err := got.Ack(ctx); err != nil { // the wake-up won
				t.Fatal(err)
			}
			continue
		}
		it, err := q.Take(bounded(t, 10*time.Second))
		if err != nil {
			t.Fatalf("item %d not handed back: %v", i, err)
		}
		if it.Value != i {
			t.Fatalf("got %d, want %d", it.Value, i)
		}
		if err := it.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQueueCodecError(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	qs, err := dist.NewQueue[string](ctx, a, "CE")
	if err != nil {
		t.Fatal(err)
	}
	qi, err := dist.NewQueue[int](ctx, a, "CE")
	if err != nil {
		t.Fatal(err)
	}
	if err := qs.Put(ctx, "not a number"); err != nil {
		t.Fatal(err)
	}
	if _, err := qi.Take(ctx); !errors.Is(err, dist.ErrCodec) {
		t.Fatalf("Take of an undecodable item = %v", err)
	}
	ch := dist.NewChannel[chan int](a, "bad")
	if err := ch.Put(ctx, make(chan int)); !errors.Is(err, dist.ErrCodec) {
		t.Fatalf("Put of an unencodable value = %v", err)
	}
}

func TestChannelBroadcast(t *testing.T) {
	s := startServer(t)
	ctx := bounded(t, 60*time.Second)
	a := client(t, s.ClientURL())
	b := client(t, s.ClientURL())
	pub := dist.NewChannel[string](a, "status")
	if err := pub.Put(ctx, "before"); err != nil { // nobody subscribed: dropped
		t.Fatal(err)
	}
	var subs []*dist.Subscription[string]
	for _, c := range []*dist.Client{a, b, b} {
		s, err := dist.NewChannel[string](c, "status").Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		subs = append(subs, s)
	}
	for _, m := range []string{"one", "two", "three"} {
		if err := pub.Put(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range subs {
		for _, want := range []string{"one", "two", "three"} {
			got, err := s.Receive(ctx)
			if err != nil || got != want {
				t.Fatalf("sub %d: Receive = %q, %v; want %q", i, got, err, want)
			}
		}
	}
	// A cancelled Receive loses nothing: the next one gets the value.
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	if _, err := subs[0].Receive(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive with nothing put = %v", err)
	}
	cancel()
	if err := pub.Put(ctx, "four"); err != nil {
		t.Fatal(err)
	}
	if got, err := subs[0].Receive(ctx); got != "four" || err != nil {
		t.Fatalf("Receive after a cancelled one = %q, %v", got, err)
	}
	subs[1].Close()
	if _, err := subs[1].Receive(ctx); !errors.Is(err, tock.ErrClosedResource) {
		t.Fatalf("Receive after Close = %v", err)
	}
}
