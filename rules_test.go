package tock_test

import (
	"context"

	"github.com/tockgo/tock"
)

var _ = register(
	scenario{
		// DESIGN: every ctx-taking call checks cancellation first, even when
		// it could finish at once, and then takes nothing.
		name: "every call checks cancellation first",
		body: func(ctx context.Context, h *H) error {
			done, cancel := tock.WithCancel(ctx)
			cancel()
			q := tock.NewQueue[int]()
			q.Put(ctx, 1)
			ch := tock.NewChannel[int]()
			sub := ch.Subscribe()
			ch.Put(ctx, 1)
			sem := tock.NewSemaphore(1)
			lim := tock.NewCapacityLimiter(1)
			s, r := tock.NewStream[int](1)
			s.Send(ctx, 1)
			s2, _ := tock.NewStream[int](1)
			var ev tock.Event
			ev.Set()
			var l tock.Lock
			c := tock.NewCondition(nil)
			c.Lock(ctx)
			_, qerr := q.Get(done)
			_, cerr := ch.Receive(done)
			_, serr := sub.Receive(done)
			_, rerr := r.Receive(done)
			for _, res := range []struct {
				call string
				err  error
			}{
				{"Queue.Put", q.Put(done, 2)},
				{"Queue.Get", qerr},
				{"Channel.Put", ch.Put(done, 2)},
				{"Channel.Receive", cerr},
				{"Subscription.Receive", serr},
				{"Semaphore.Acquire", sem.Acquire(done)},
				{"CapacityLimiter.AcquireFor", lim.AcquireFor(done, "b")},
				{"SendStream.Send", s2.Send(done, 2)},
				{"ReceiveStream.Receive", rerr},
				{"Event.Wait", ev.Wait(done)},
				{"Lock.Lock", l.Lock(done)},
				{"Condition.Wait", c.Wait(done)},
				{"Sleep", tock.Sleep(done, h.U(1))},
				{"Yield", tock.Yield(done)},
			} {
				h.Log(ctx, "%s: %v", res.call, res.err)
			}
			c.Unlock(ctx)
			// nothing was taken
			h.Log(ctx, "queue %d, subscription %d, semaphore %d, limiter %d, stream %d, lock %v",
				q.Len(), sub.Stats().Buffered, sem.Value(), lim.Borrowed(), r.Stats().BufferUsed, l.Locked())
			return nil
		},
		sim: `0 Queue.Put: context canceled
			0 Queue.Get: context canceled
			0 Channel.Put: context canceled
			0 Channel.Receive: context canceled
			0 Subscription.Receive: context canceled
			0 Semaphore.Acquire: context canceled
			0 CapacityLimiter.AcquireFor: context canceled
			0 SendStream.Send: context canceled
			0 ReceiveStream.Receive: context canceled
			0 Event.Wait: context canceled
			0 Lock.Lock: context canceled
			0 Condition.Wait: context canceled
			0 Sleep: context canceled
			0 Yield: context canceled
			0 queue 1, subscription 1, semaphore 1, limiter 0, stream 1, lock false`,
		ordered: true,
	},
	scenario{
		// A tock group under a standard-library context the user cancels:
		// tock does not control that cancellation, so it is noticed after
		// the step that made it, at the same instant, on both runtimes.
		name: "group under a cancelled standard-library context",
		body: func(ctx context.Context, h *H) error {
			cctx, cancel := context.WithCancel(ctx)
			g := tock.NewGroup(cctx)
			for _, n := range []string{"A", "B"} {
				g.Go(func(ctx context.Context) error {
					err := h.Forever(ctx)
					h.Log(ctx, "%s: %v", n, err)
					return err
				})
			}
			tctx, tcancel := tock.WithTimeout(cctx, h.U(100))
			defer tcancel()
			g.Go(func(ctx context.Context) error {
				err := h.Forever(tctx) //tockvet:ignore waits on the parent's timeout context on purpose
				h.Log(ctx, "timeout child: %v", err)
				return nil
			})
			tock.Sleep(ctx, h.U(3))
			h.Log(ctx, "cancelling")
			cancel()
			err := g.Wait()
			h.Log(ctx, "wait: %v", err)
			return nil
		},
		sim:   "3 cancelling\n3 A: context canceled\n3 B: context canceled\n3 timeout child: context canceled\n3 wait: context canceled",
		check: causal(order{"cancelling", "A: context canceled"}, order{"timeout child: context canceled", "wait: context canceled"}),
	},
)
