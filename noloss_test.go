package tock_test

import (
	"context"
	"errors"
	"math/rand/v2"
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
	seen []atomic.Int32
	sent []atomic.Bool
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
	err := tock.Run(context.Background(), func(ctx context.Context) error {
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
	err := tock.Run(context.Background(), func(ctx context.Context) error {
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
	err := tock.Run(context.Background(), func(ctx context.Context) error {
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
