package tock_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// μSim C1/C2: 1:1 with Receive, and with All until closed.
		name: "C1 receive and range",
		body: func(ctx context.Context, h *H) error {
			ch := tock.NewChannel[int]()
			sub := ch.Subscribe()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				var got []int
				for v := range sub.All(ctx) {
					got = append(got, v)
				}
				h.Log(ctx, "range got %v", got)
				return nil
			})
			for i := 0; i < 5; i++ {
				tock.Sleep(ctx, h.U(1))
				ch.Put(ctx, i)
			}
			ch.Close()
			return g.Wait()
		},
		sim:     "5 range got [0 1 2 3 4]",
		ordered: true,
	},
	scenario{
		// μSim C4: broadcast; both consumers get every message, in
		// subscription order.
		name: "C4 broadcast",
		body: func(ctx context.Context, h *H) error {
			ch := tock.NewChannel[string]()
			g := tock.NewGroup(ctx)
			for _, n := range []string{"R1", "R2"} {
				sub := ch.Subscribe()
				g.Go(func(ctx context.Context) error {
					defer sub.Close()
					for i := 0; i < 2; i++ {
						v, err := sub.Receive(ctx)
						h.Log(ctx, "%s got %s %v", n, v, err)
					}
					return nil
				})
			}
			ch.Put(ctx, "m1")
			tock.Sleep(ctx, h.U(1))
			ch.Put(ctx, "m2")
			return g.Wait()
		},
		sim:   "0 R1 got m1 <nil>\n0 R2 got m1 <nil>\n1 R1 got m2 <nil>\n1 R2 got m2 <nil>",
		check: causal(order{"R1 got m1 <nil>", "R1 got m2 <nil>"}, order{"R2 got m1 <nil>", "R2 got m2 <nil>"}),
	},
	scenario{
		// μSim C5 / channel_await_misses_while_busy: with no subscriber a
		// message is dropped; Receive sees only messages put while it waits.
		name: "C5 no subscriber, message dropped",
		body: func(ctx context.Context, h *H) error {
			ch := tock.NewChannel[string]()
			ch.Put(ctx, "early")
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				v, err := ch.Receive(ctx)
				h.Log(ctx, "got %s %v", v, err)
				return nil
			})
			h.WaitUntil(ctx, "receiver waits", func() bool { return ch.Subscribers() == 1 })
			ch.Put(ctx, "late")
			ch.Put(ctx, "later") // the receiver already has one: missed
			err := g.Wait()
			h.Log(ctx, "subscribers after: %d", ch.Subscribers())
			return err
		},
		sim:     "0 got late <nil>\n0 subscribers after: 0",
		ordered: true,
	},
	scenario{
		// μSim C3/C9: Close wakes a waiting Receive with ErrStreamClosed; a
		// subscription drains, then ends; Put and Receive fail at once.
		name: "C9 close",
		body: func(ctx context.Context, h *H) error {
			ch := tock.NewChannel[int]()
			sub := ch.Subscribe()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				_, err := ch.Receive(ctx)
				h.Log(ctx, "receive: %v", err)
				return nil
			})
			h.WaitUntil(ctx, "receiver waits", func() bool { return ch.Subscribers() == 2 })
			ch.Put(ctx, 1)
			h.WaitUntil(ctx, "receiver got 1", func() bool { return ch.Subscribers() == 1 })
			g.Go(func(ctx context.Context) error {
				_, err := ch.Receive(ctx)
				h.Log(ctx, "receive: %v", err)
				return nil
			})
			h.WaitUntil(ctx, "receiver waits again", func() bool { return ch.Subscribers() == 2 })
			ch.Put(ctx, 2)
			tock.Sleep(ctx, h.U(1))
			ch.Close()
			g.Wait()
			ch.Close()
			_, rerr := ch.Receive(ctx)
			h.Log(ctx, "closed %v, put: %v, receive: %v", ch.Closed(), ch.Put(ctx, 3), rerr)
			var drained []int
			for v := range sub.All(ctx) {
				drained = append(drained, v)
			}
			h.Log(ctx, "subscription drained %v", drained)
			return nil
		},
		sim: `0 receive: <nil>
			0 receive: <nil>
			1 closed true, put: tock: stream closed, receive: tock: stream closed
			1 subscription drained [1 2]`,
		ordered: true,
	},
	scenario{
		// μSim channel_async_for_buffers: a subscription misses nothing while
		// its consumer is busy; leaving the loop early unsubscribes.
		name: "C subscription buffers while busy",
		body: func(ctx context.Context, h *H) error {
			ch := tock.NewChannel[int]()
			g := tock.NewGroup(ctx)
			started := new(tock.Event)
			g.Go(func(ctx context.Context) error {
				var got []int
				started.Set()
				for v := range ch.All(ctx) {
					got = append(got, v)
					tock.Sleep(ctx, h.U(5))
					if len(got) == 3 {
						break
					}
				}
				h.Log(ctx, "got %v", got)
				return nil
			})
			started.Wait(ctx)
			h.WaitUntil(ctx, "subscribed", func() bool { return ch.Subscribers() == 1 })
			for i := 0; i < 4; i++ {
				ch.Put(ctx, i)
				tock.Sleep(ctx, h.U(1))
			}
			err := g.Wait()
			h.Log(ctx, "subscribers %d", ch.Subscribers())
			return err
		},
		sim:     "15 got [0 1 2]\n15 subscribers 0",
		ordered: true,
	},
)

func TestSubscriptionBounded(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	ch := tock.NewChannel[int]()
	latest := ch.Subscribe(tock.MaxBuffer(2, tock.DropOldest))
	oldest := ch.Subscribe(tock.MaxBuffer(2, tock.DropNewest))
	all := ch.Subscribe()
	for i := 0; i < 5; i++ {
		ch.Put(ctx, i)
	}
	ch.Close()
	drain := func(s *tock.Subscription[int]) []int {
		var out []int
		for v := range s.All(ctx) {
			out = append(out, v)
		}
		return out
	}
	if st := latest.Stats(); st.Buffered != 2 || st.Dropped != 3 {
		t.Errorf("latest stats %+v", st)
	}
	if got := fmt.Sprint(drain(latest), drain(oldest), drain(all)); got != "[3 4] [0 1] [0 1 2 3 4]" {
		t.Errorf("drained %s", got)
	}
	expectPanic(t, "tock: MaxBuffer: a subscription buffer must hold at least 1 message, not 0", func() { tock.MaxBuffer(0, tock.DropOldest) })
	// Subscribing to a closed channel gives an ended subscription.
	if _, err := ch.Subscribe().Receive(ctx); err != tock.ErrStreamClosed {
		t.Errorf("receive on late subscription: %v", err)
	}
}

func ExampleChannel() {
	// Every subscriber sees every status update; an update nobody listens
	// to is dropped.
	sim.Run(context.Background(), func(ctx context.Context) error {
		status := tock.NewChannel[string]()
		status.Put(ctx, "booting") // no subscriber yet: dropped
		g := tock.NewGroup(ctx)
		for _, name := range []string{"dashboard", "logger"} {
			sub := status.Subscribe()
			g.Go(func(ctx context.Context) error {
				defer sub.Close()
				for s := range sub.All(ctx) {
					fmt.Printf("%s saw %q at +%v\n", name, s, tock.Now(ctx).Sub(sim.DefaultStart))
				}
				return nil
			})
		}
		status.Put(ctx, "ready")
		tock.Sleep(ctx, time.Minute)
		status.Put(ctx, "degraded")
		status.Close()
		return g.Wait()
	})
	// Output:
	// dashboard saw "ready" at +0s
	// logger saw "ready" at +0s
	// dashboard saw "degraded" at +1m0s
	// logger saw "degraded" at +1m0s
}

var _ = register(scenario{
	// Closing a subscription wakes its blocked Receive with ErrStreamClosed;
	// cancelling a range over Channel.All ends it and unsubscribes.
	name: "C subscription close and cancelled range",
	body: func(ctx context.Context, h *H) error {
		ch := tock.NewChannel[int]()
		sub := ch.Subscribe()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			_, err := sub.Receive(ctx)
			h.Log(ctx, "receive on closed subscription: %v", err)
			return nil
		})
		tock.Yield(ctx) // under simulation the receiver is blocked now
		sub.Close()
		g.Wait()
		var cancel context.CancelFunc
		var gotOne tock.Event
		g = tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			ctx, cancel = tock.WithCancel(ctx)
			n := 0
			for range ch.All(ctx) {
				n++
				gotOne.Set()
			}
			h.Log(ctx, "range ended after %d, ctx: %v", n, ctx.Err())
			return nil
		})
		h.WaitUntil(ctx, "ranging", func() bool { return ch.Subscribers() == 1 })
		ch.Put(ctx, 1)
		gotOne.Wait(ctx)
		cancel()
		g.Wait()
		h.Log(ctx, "subscribers after: %d", ch.Subscribers())
		return nil
	},
	sim:     "0 receive on closed subscription: tock: stream closed\n0 range ended after 1, ctx: context canceled\n0 subscribers after: 0",
	ordered: true,
})
