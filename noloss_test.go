package tock_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
)

// No loss, no duplication: 1,000,000 items through each stream type with
// several senders and receivers, under the real runtime, with random
// cancellations racing the hand-offs. Every item sent successfully must be
// received exactly once (per subscriber, for Channel), and every count in
// Stats must return to zero.

const (
	nolossItems     = 1_000_000
	nolossSenders   = 4
	nolossReceivers = 4
)

// maybeCancelled returns ctx, or one time in 64 a context that times out
// after a few microseconds.
func maybeCancelled(ctx context.Context, rng *rand.Rand) (context.Context, context.CancelFunc) {
	if rng.IntN(64) == 0 {
		return tock.WithTimeout(ctx, time.Duration(rng.IntN(20))*time.Microsecond)
	}
	return ctx, func() {}
}

// tally records which items arrived, and how often.
type tally struct {
	seen  []atomic.Int32
	sent  []atomic.Bool
	moved atomic.Int64 // calls that returned (an item moved or a cancellation), for runNoLoss's watch
}

func newTally() *tally {
	return &tally{seen: make([]atomic.Int32, nolossItems), sent: make([]atomic.Bool, nolossItems)}
}

func (ta *tally) verify(t *testing.T, copies int32) {
	t.Helper()
	sent, lost, dup := 0, 0, 0
	for i := range ta.seen {
		n := ta.seen[i].Load()
		if ta.sent[i].Load() {
			sent++
			if n < copies {
				lost++
			}
		}
		if n > copies || (!ta.sent[i].Load() && n > 0) {
			dup++
		}
	}
	if lost != 0 || dup != 0 || sent < nolossItems/2 {
		t.Fatalf("%d sent, %d lost, %d duplicated or never sent", sent, lost, dup)
	}
}

// nolossStall is how long runNoLoss lets no call return before it calls
// the run stuck. The runs take seconds (a minute at most under the race
// detector on a busy machine) and every call returns within microseconds
// of its hand-off or its timeout, so only a lost wake-up (a task parked
// for good) stops every call for this long.
const nolossStall = 30 * time.Second

// runNoLoss runs body in a tock.Run and returns its error. It fails the
// test, with stats() in the message, instead of hanging, if no call of the
// run's producers and consumers returns for nolossStall: it then cancels
// the run's ctx and waits 10 s more for the run to end, and leaves it
// running if it does not.
func runNoLoss(t *testing.T, ta *tally, stats func() string, body func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- tock.Run(ctx, body) }() //tockvet:ignore the run is watched from the test's goroutine
	tick := time.NewTicker(time.Second)         //tockvet:ignore a wall-clock bound on a wait that may hang
	defer tick.Stop()
	last, still := ta.moved.Load(), time.Duration(0)
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
		}
		if n := ta.moved.Load(); n != last {
			last, still = n, 0
			continue
		}
		if still += time.Second; still < nolossStall {
			continue
		}
		cancel()
		ended := "it ended once its ctx was cancelled"
		select {
		case <-done:
		case <-time.After(10 * time.Second): //tockvet:ignore a wall-clock bound on a wait that may hang
			ended = "it did not end within 10 s of its ctx's cancellation"
		}
		t.Fatalf("no send or receive returned for %v after %d calls (a lost wake-up?); %s; stats then: %s", nolossStall, last, ended, stats())
		return nil
	}
}

// produce runs nolossSenders producers over the item range.
func produce(ctx context.Context, g *tock.Group, ta *tally, send func(ctx context.Context, i int) error) {
	per := nolossItems / nolossSenders
	for p := 0; p < nolossSenders; p++ {
		rng := rand.New(rand.NewPCG(uint64(p), 11))
		g.Go(func(ctx context.Context) error {
			for i := p * per; i < (p+1)*per; i++ {
				cctx, cancel := maybeCancelled(ctx, rng)
				err := send(cctx, i)
				cancel()
				ta.moved.Add(1)
				switch {
				case err == nil:
					ta.sent[i].Store(true)
				case !errors.Is(err, context.DeadlineExceeded):
					return err
				}
			}
			return nil
		})
	}
}

// consume runs a receiver until end, counting items.
func consume(g *tock.Group, rng *rand.Rand, ta *tally, end error, recv func(ctx context.Context) (int, error)) {
	g.Go(func(ctx context.Context) error {
		for {
			cctx, cancel := maybeCancelled(ctx, rng)
			v, err := recv(cctx)
			cancel()
			ta.moved.Add(1)
			switch {
			case err == nil:
				ta.seen[v].Add(1)
			case errors.Is(err, end):
				return nil
			case !errors.Is(err, context.DeadlineExceeded):
				return err
			}
		}
	})
}

func TestNoLossStream(t *testing.T) {
	checkLeaks(t)
	ta := newTally()
	send, recv := tock.NewStream[int](16)
	err := runNoLoss(t, ta, func() string { return fmt.Sprintf("%+v", recv.Stats()) }, func(ctx context.Context) error {
		consumers := tock.NewGroup(ctx)
		for c := 0; c < nolossReceivers; c++ {
			r := recv.Clone()
			consume(consumers, rand.New(rand.NewPCG(uint64(c), 3)), ta, tock.ErrEndOfStream, func(ctx context.Context) (int, error) { return r.Receive(ctx) })
		}
		producers := tock.NewGroup(ctx)
		handles := make(chan *tock.SendStream[int], nolossSenders)
		for p := 0; p < nolossSenders; p++ {
			handles <- send.Clone() //tockvet:ignore buffered for every sender: never blocks
		}
		send.Close()
		var mine [nolossSenders]*tock.SendStream[int]
		for p := range mine {
			mine[p] = <-handles //tockvet:ignore filled above: never blocks
		}
		produce(ctx, producers, ta, func(ctx context.Context, i int) error {
			return mine[i/(nolossItems/nolossSenders)].Send(ctx, i)
		})
		if err := producers.Wait(); err != nil {
			return err
		}
		for _, h := range mine {
			h.Close()
		}
		return consumers.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.verify(t, 1)
	if st := recv.Stats(); st.BufferUsed != 0 || st.WaitingSend != 0 || st.WaitingReceive != 0 || st.OpenSendStreams != 0 {
		t.Errorf("stats after: %+v", st)
	}
}

func TestNoLossQueue(t *testing.T) {
	checkLeaks(t)
	ta := newTally()
	q := tock.NewQueue[int]()
	err := runNoLoss(t, ta, func() string { return fmt.Sprintf("len %d, waiting %d", q.Len(), q.Waiting()) }, func(ctx context.Context) error {
		consumers := tock.NewGroup(ctx)
		for c := 0; c < nolossReceivers; c++ {
			consume(consumers, rand.New(rand.NewPCG(uint64(c), 5)), ta, tock.ErrStreamClosed, q.Get)
		}
		producers := tock.NewGroup(ctx)
		produce(ctx, producers, ta, q.Put)
		if err := producers.Wait(); err != nil {
			return err
		}
		q.Close()
		return consumers.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.verify(t, 1)
	if q.Len() != 0 || q.Waiting() != 0 {
		t.Errorf("after: len %d waiting %d", q.Len(), q.Waiting())
	}
}

func TestNoLossChannel(t *testing.T) {
	checkLeaks(t)
	const subscribers = 2
	ta := newTally()
	ch := tock.NewChannel[int]()
	var subs []*tock.Subscription[int]
	for s := 0; s < subscribers; s++ {
		subs = append(subs, ch.Subscribe())
	}
	err := runNoLoss(t, ta, func() string { return channelStats(subs) }, func(ctx context.Context) error {
		consumers := tock.NewGroup(ctx)
		for c, s := range subs {
			consume(consumers, rand.New(rand.NewPCG(uint64(c), 7)), ta, tock.ErrStreamClosed, s.Receive)
		}
		producers := tock.NewGroup(ctx)
		produce(ctx, producers, ta, ch.Put)
		if err := producers.Wait(); err != nil {
			return err
		}
		ch.Close()
		return consumers.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.verify(t, subscribers)
	for _, s := range subs {
		if st := s.Stats(); st.Buffered != 0 || st.Dropped != 0 {
			t.Errorf("subscription after: %+v", st)
		}
		s.Close()
	}
	if ch.Subscribers() != 0 {
		t.Errorf("%d subscribers left", ch.Subscribers())
	}
}

// channelStats is the subscriptions' Stats, for runNoLoss's message.
func channelStats(subs []*tock.Subscription[int]) string {
	var b strings.Builder
	for i, s := range subs {
		fmt.Fprintf(&b, "subscription %d: %+v; ", i, s.Stats())
	}
	return b.String()
}
