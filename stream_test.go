package tock_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// AnyIO MS-03/MS-04/M6: a waiting receiver is handed the item
		// directly; receivers are served FIFO.
		name: "MS-03 receive then send",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[string](0)
			g := tock.NewGroup(ctx)
			for i := 0; i < 2; i++ {
				g.Go(func(ctx context.Context) error {
					v, err := r.Receive(ctx)
					h.Log(ctx, "receiver %d got %s %v", i, v, err)
					return err
				})
				h.WaitUntil(ctx, "waiting", func() bool { return r.Stats().WaitingReceive == i+1 })
			}
			h.Log(ctx, "trysend: %v %v", s.TrySend("hello"), s.TrySend("anyio"))
			return g.Wait()
		},
		sim: "0 trysend: <nil> <nil>\n0 receiver 0 got hello <nil>\n0 receiver 1 got anyio <nil>",
	},
	scenario{
		// AnyIO MS-05/MS-07/M4: a receiver takes from a blocked sender; the
		// buffer keeps FIFO order and moves a blocked sender's item in.
		name: "MS-05 blocked sender, buffer order",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[string](1)
			s.Send(ctx, "a")
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				err := s.Send(ctx, "b")
				h.Log(ctx, "sender released: %v", err)
				return err
			})
			h.WaitUntil(ctx, "sender blocked", func() bool { return s.Stats().WaitingSend == 1 })
			v, err := r.TryReceive()
			st := r.Stats()
			h.Log(ctx, "got %s %v; buffer %d, waiting send %d", v, err, st.BufferUsed, st.WaitingSend)
			g.Wait()
			v, err = r.TryReceive()
			h.Log(ctx, "then %s %v", v, err)
			_, err = r.TryReceive()
			h.Log(ctx, "then %v", err)
			return nil
		},
		sim: "0 got a <nil>; buffer 1, waiting send 0\n0 sender released: <nil>\n0 then b <nil>\n0 then tock: operation would block",
		// The released sender logs concurrently with the receiver on
		// goroutines; both precede what main logs after g.Wait.
		check: causal(order{"got a <nil>; buffer 1, waiting send 0", "then b <nil>"}, order{"sender released: <nil>", "then b <nil>"}),
	},
	scenario{
		// AnyIO MS-08/MS-17/MS-30: ranging ends when the last sender closes,
		// after the buffered items.
		name: "MS-08 drain then end of stream",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[int](5)
			s.Send(ctx, 1)
			s.Send(ctx, 2)
			s.Close()
			var got []int
			for v := range r.All(ctx) {
				got = append(got, v)
			}
			_, err1 := r.Receive(ctx)
			_, err2 := r.TryReceive()
			h.Log(ctx, "got %v, then %v / %v", got, err1, err2)
			return nil
		},
		sim:     "0 got [1 2], then tock: end of stream / tock: end of stream",
		ordered: true,
	},
	scenario{
		// AnyIO MS-09/MS-10/M11: closed handle vs broken peer.
		name: "MS-09 closed and broken",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[int](0)
			s.Close()
			_, err := r.TryReceive()
			h.Log(ctx, "receive after senders closed: %v; send on closed handle: %v", err, s.Send(ctx, 1))
			s, r = tock.NewStream[int](0)
			r.Close()
			_, err = r.TryReceive()
			h.Log(ctx, "receive on closed handle: %v; send: %v", err, s.Send(ctx, 1))
			s.Close()
			h.Log(ctx, "closed handle beats broken: %v", s.TrySend(1))
			return nil
		},
		sim: `0 receive after senders closed: tock: end of stream; send on closed handle: tock: the stream handle is closed
			0 receive on closed handle: tock: the stream handle is closed; send: tock: every receiver is closed
			0 closed handle beats broken: tock: the stream handle is closed`,
		ordered: true,
	},
	scenario{
		// AnyIO MS-11/MS-12: a cancelled receiver is gone; a cancelled
		// sender's item is withdrawn.
		name: "MS-11 cancellation withdraws",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[string](0)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { _, err := r.Receive(ctx); return err })
			h.WaitUntil(ctx, "receiver waits", func() bool { return r.Stats().WaitingReceive == 1 })
			g.Cancel()
			g.Wait()
			h.Log(ctx, "trysend after the receiver was cancelled: %v", s.TrySend("x"))
			g = tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { return s.Send(ctx, "y") })
			h.WaitUntil(ctx, "sender waits", func() bool { return s.Stats().WaitingSend == 1 })
			g.Cancel()
			g.Wait()
			_, err := r.TryReceive()
			h.Log(ctx, "tryreceive after the sender was cancelled: %v; %+v", err, r.Stats())
			return nil
		},
		sim: `0 trysend after the receiver was cancelled: tock: operation would block
			0 tryreceive after the sender was cancelled: tock: operation would block; {BufferUsed:0 MaxBuffer:0 OpenSendStreams:1 OpenReceiveStreams:1 WaitingSend:0 WaitingReceive:0 Discarded:0}`,
		ordered: true,
	},
	scenario{
		// AnyIO M16/M18: an item handed over wins over a later cancellation,
		// on both sides.
		name: "MS handed over then cancelled",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[string](0)
			var got string
			err := h.CancelRace(ctx, false,
				func(ctx context.Context) (err error) { got, err = r.Receive(ctx); return err },
				func() bool { return r.Stats().WaitingReceive == 1 },
				func() { s.TrySend("kept") })
			h.Log(ctx, "receiver: %q %v", got, err)
			err = h.CancelRace(ctx, false,
				func(ctx context.Context) error { return s.Send(ctx, "delivered") },
				func() bool { return s.Stats().WaitingSend == 1 },
				func() { got, _ = r.TryReceive() })
			h.Log(ctx, "sender: %v", err)
			h.Log(ctx, "received %q", got)
			return nil
		},
		sim:     "0 receiver: \"kept\" <nil>\n0 sender: <nil>\n0 received \"delivered\"",
		ordered: true,
	},
	scenario{
		// AnyIO MS-13/MS-14: clones count; the stream lives while any clone
		// is open; a closed handle cannot be cloned.
		name: "MS-13 clones",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[string](1)
			s2, r2 := s.Clone(), r.Clone()
			s.Close()
			r.Close()
			err := s2.Send(ctx, "hello")
			v, rerr := r2.Receive(ctx)
			h.Log(ctx, "send %v, receive %q %v, %+v", err, v, rerr, s2.Stats())
			return nil
		},
		sim:     "0 send <nil>, receive \"hello\" <nil>, {BufferUsed:0 MaxBuffer:1 OpenSendStreams:1 OpenReceiveStreams:1 WaitingSend:0 WaitingReceive:0 Discarded:0}",
		ordered: true,
	},
	scenario{
		// AnyIO MS-15/MS-16 (anyio#731): the last sender closing ends a
		// waiting receive; the last receiver closing breaks a waiting send,
		// even of a zero value, and its item is not delivered.
		name: "MS-15 peer closes while waiting",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[int](1)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				_, err := r.Receive(ctx)
				h.Log(ctx, "receiver: %v", err)
				return nil
			})
			h.WaitUntil(ctx, "receiver waits", func() bool { return r.Stats().WaitingReceive == 1 })
			s.Close()
			g.Wait()
			s2, r2 := tock.NewStream[int](0)
			g = tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "sender: %v", s2.Send(ctx, 0))
				return nil
			})
			h.WaitUntil(ctx, "sender waits", func() bool { return s2.Stats().WaitingSend == 1 })
			r2.Close()
			return g.Wait()
		},
		sim:     "0 receiver: tock: end of stream\n0 sender: tock: every receiver is closed",
		ordered: true,
	},
	scenario{
		// AnyIO MS-32, decided as trio does (DESIGN): closing a handle wakes
		// the operations blocked on that same handle with ErrClosedResource;
		// a blocked sender's item is withdrawn. Others are not affected.
		name: "MS-32 closing your own handle",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[string](0)
			r2 := r.Clone()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				_, err := r.Receive(ctx)
				h.Log(ctx, "receive on r: %v", err)
				return nil
			})
			h.WaitUntil(ctx, "receiver waits", func() bool { return r.Stats().WaitingReceive == 1 })
			r.Close()
			g.Wait()
			s2 := s.Clone()
			g = tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "send on s: %v", s.Send(ctx, "x"))
				return nil
			})
			h.WaitUntil(ctx, "sender waits", func() bool { return s.Stats().WaitingSend == 1 })
			s.Close()
			g.Wait()
			_, err := r2.TryReceive()
			h.Log(ctx, "the withdrawn item is gone: %v; the other handles work: %v", err, s2.TrySend("y") == tock.ErrWouldBlock)
			return nil
		},
		sim:     "0 receive on r: tock: the stream handle is closed\n0 send on s: tock: the stream handle is closed\n0 the withdrawn item is gone: tock: operation would block; the other handles work: true",
		ordered: true,
	},
	scenario{
		// AnyIO MS-19: a send in a cancelled context sends nothing.
		name: "MS-19 send when cancelled",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[string](0)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				v, err := r.Receive(ctx)
				h.Log(ctx, "received %s %v", v, err)
				return err
			})
			h.WaitUntil(ctx, "receiver waits", func() bool { return r.Stats().WaitingReceive == 1 })
			cctx, cancel := tock.WithCancel(ctx)
			cancel()
			h.Log(ctx, "cancelled send: %v", s.Send(cctx, "hello"))
			s.Send(ctx, "world")
			return g.Wait()
		},
		sim:     "0 cancelled send: context canceled\n0 received world <nil>",
		ordered: true,
	},
	scenario{
		// AnyIO MS-23: Stats from either end while senders queue.
		name: "MS-23 Stats",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[int](1)
			s.TrySend(0)
			g := tock.NewGroup(ctx)
			for i := 1; i <= 3; i++ {
				g.Go(func(ctx context.Context) error { return s.Send(ctx, i) })
				h.WaitUntil(ctx, "queued", func() bool { return s.Stats().WaitingSend == i })
			}
			for i := 0; i < 4; i++ {
				st := r.Stats()
				v, _ := r.TryReceive()
				h.Log(ctx, "used %d waiting send %d -> got %d", st.BufferUsed, st.WaitingSend, v)
			}
			err := g.Wait()
			h.Log(ctx, "%+v", s.Stats())
			return err
		},
		sim: `0 used 1 waiting send 3 -> got 0
			0 used 1 waiting send 2 -> got 1
			0 used 1 waiting send 1 -> got 2
			0 used 1 waiting send 0 -> got 3
			0 {BufferUsed:0 MaxBuffer:1 OpenSendStreams:1 OpenReceiveStreams:1 WaitingSend:0 WaitingReceive:0 Discarded:0}`,
		ordered: true,
	},
)

var _ = register(scenario{
	// Issue 12, defect 7: when the last receive handle closes, the items
	// still buffered are dropped at once (with their memory), Stats says
	// so, and senders get ErrBrokenResource, blocked or not.
	name: "MS last receiver closed drops the buffer",
	body: func(ctx context.Context, h *H) error {
		s, r := tock.NewStream[string](2)
		r2 := r.Clone()
		s.Send(ctx, "a")
		s.Send(ctx, "b")
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			h.Log(ctx, "blocked send: %v", s.Send(ctx, "c"))
			return nil
		})
		h.WaitUntil(ctx, "sender blocked", func() bool { return s.Stats().WaitingSend == 1 })
		r.Close()
		h.Log(ctx, "one receiver closed: %+v", s.Stats())
		r2.Close()
		g.Wait()
		h.Log(ctx, "all closed: %+v", s.Stats())
		h.Log(ctx, "send after: %v", s.Send(ctx, "d"))
		return nil
	},
	sim: `0 one receiver closed: {BufferUsed:2 MaxBuffer:2 OpenSendStreams:1 OpenReceiveStreams:1 WaitingSend:1 WaitingReceive:0 Discarded:0}
		0 blocked send: tock: every receiver is closed
		0 all closed: {BufferUsed:0 MaxBuffer:2 OpenSendStreams:1 OpenReceiveStreams:0 WaitingSend:0 WaitingReceive:0 Discarded:2}
		0 send after: tock: every receiver is closed`,
	ordered: true,
})

func TestStreamMisuse(t *testing.T) {
	expectPanic(t, "tock: NewStream: the buffer size -1 is negative", func() { tock.NewStream[int](-1) })
	s, r := tock.NewStream[int](tock.Unbounded)
	for i := 0; i < 1000; i++ {
		if err := s.TrySend(i); err != nil {
			t.Fatal(err)
		}
	}
	if r.Stats().BufferUsed != 1000 {
		t.Fatal("unbounded buffer")
	}
	s.Close()
	r.Close()
	expectPanic(t, "tock: SendStream.Clone: the handle is closed", func() { s.Clone() })
	expectPanic(t, "tock: ReceiveStream.Clone: the handle is closed", func() { r.Clone() })
}

// ExampleNewStream shows the fan-in that plain Go channels make hard: each
// producer owns (and closes) its own clone of the send end; the consumer's
// loop ends when the last one closes, with no WaitGroup and no extra closer.
func ExampleNewStream() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		send, recv := tock.NewStream[string](0)
		g := tock.NewGroup(ctx)
		for _, name := range []string{"alpha", "beta", "gamma"} {
			mine := send.Clone()
			g.Go(func(ctx context.Context) error {
				defer mine.Close()
				for i := 1; i <= 2; i++ {
					if err := mine.Send(ctx, fmt.Sprintf("%s-%d", name, i)); err != nil {
						return err
					}
				}
				return nil
			})
		}
		send.Close() // the producers hold the only open send handles now
		n := 0
		for msg := range recv.All(ctx) {
			fmt.Println(msg)
			n++
		}
		fmt.Println(n, "messages; stream ended")
		return g.Wait()
	})
	// Output:
	// alpha-1
	// beta-1
	// gamma-1
	// alpha-2
	// beta-2
	// gamma-2
	// 6 messages; stream ended
}

var _ = errors.Is

// TestSimCheckpointCancellation: in a simulation, a call that could finish
// at once yields first (its checkpoint), and the other runnable tasks run;
// one of them cancelling the caller's ctx meanwhile makes the call return
// ctx's error and take nothing, as a cancellation before the call would.
// The canceller is spawned just before the call (after the set-up, which
// yields too), so it runs only at the call's checkpoint.
func TestSimCheckpointCancellation(t *testing.T) {
	for _, c := range []struct {
		name string
		// setup makes the primitive; it returns the call, to run with
		// done, and what the primitive holds afterwards (nothing may have
		// been taken or added)
		setup func(ctx context.Context) (call func(done context.Context) error, left func() int)
		want  int
	}{
		{"SendStream.Send", func(ctx context.Context) (func(context.Context) error, func() int) {
			s, r := tock.NewStream[int](1)
			return func(done context.Context) error { return s.Send(done, 1) },
				func() int { return r.Stats().BufferUsed }
		}, 0},
		{"ReceiveStream.Receive", func(ctx context.Context) (func(context.Context) error, func() int) {
			s, r := tock.NewStream[int](1)
			s.Send(ctx, 7)
			return func(done context.Context) error { _, err := r.Receive(done); return err },
				func() int { return r.Stats().BufferUsed }
		}, 1},
		{"Queue.Get", func(ctx context.Context) (func(context.Context) error, func() int) {
			q := tock.NewQueue[int]()
			q.Put(ctx, 7)
			return func(done context.Context) error { _, err := q.Get(done); return err }, q.Len
		}, 1},
		{"Queue.GetWhere", func(ctx context.Context) (func(context.Context) error, func() int) {
			q := tock.NewQueue[int]()
			q.Put(ctx, 7)
			return func(done context.Context) error {
				_, err := q.GetWhere(done, func(v int) bool { return v == 7 })
				return err
			}, q.Len
		}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			var left int
			runErr := sim.Run(context.Background(), func(ctx context.Context) error {
				call, held := c.setup(ctx)
				done, cancel := tock.WithCancel(ctx)
				defer cancel()
				g := tock.NewGroup(ctx)
				g.Go(func(context.Context) error { cancel(); return nil })
				err = call(done)
				left = held()
				return g.Wait()
			})
			if runErr != nil {
				t.Fatal(runErr)
			}
			if !errors.Is(err, context.Canceled) || left != c.want {
				t.Errorf("%s cancelled at its checkpoint: err %v, left %d; want context.Canceled, left %d", c.name, err, left, c.want)
			}
		})
	}
}
