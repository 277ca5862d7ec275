package tock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// The first stream to get an item wins; the other stream's item
		// stays for a later Receive.
		name: "SE-01 Select receives from the first ready stream",
		body: func(ctx context.Context, h *H) error {
			sa, ra := tock.NewStream[string](1)
			sb, rb := tock.NewStream[string](1)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				var got string
				i, err := tock.Select(ctx,
					tock.OnReceive(ra, func(v string) { got = v }),
					tock.OnReceive(rb, func(v string) { got = v }))
				h.Log(ctx, "case %d %q %v; waiting %d %d", i, got, err, ra.Stats().WaitingReceive, rb.Stats().WaitingReceive)
				return err
			})
			h.WaitUntil(ctx, "select waits", func() bool {
				return ra.Stats().WaitingReceive == 1 && rb.Stats().WaitingReceive == 1
			})
			tock.Sleep(ctx, h.U(2))
			sb.Send(ctx, "b")
			if err := g.Wait(); err != nil {
				return err
			}
			sa.Send(ctx, "a")
			v, err := ra.Receive(ctx)
			h.Log(ctx, "a still there: %q %v", v, err)
			return nil
		},
		sim:     "2 case 1 \"b\" <nil>; waiting 0 0\n2 a still there: \"a\" <nil>",
		ordered: true,
	},
	scenario{
		// A timeout case; the losing Get and Acquire took nothing.
		name: "SE-02 Select times out, taking nothing",
		body: func(ctx context.Context, h *H) error {
			q := tock.NewQueue[int]()
			sem := tock.NewSemaphore(0)
			i, err := tock.Select(ctx, tock.OnGet(q, nil), tock.OnAcquire(sem, nil), tock.OnTimeout(h.U(5), nil))
			h.Log(ctx, "case %d %v; waiting %d %d", i, err, q.Waiting(), sem.Stats().Waiting)
			q.Put(ctx, 7)
			sem.Release()
			h.Log(ctx, "queue %d, semaphore %d", q.Len(), sem.Value())
			i, err = tock.Select(ctx, tock.OnTimeout(0, nil), tock.OnGet(q, nil))
			h.Log(ctx, "ready timeout first: case %d %v, queue %d", i, err, q.Len())
			return nil
		},
		sim:     "5 case 2 <nil>; waiting 0 0\n5 queue 1, semaphore 1\n5 ready timeout first: case 0 <nil>, queue 1",
		ordered: true,
	},
	scenario{
		// Event beats Lock; the lock, released later, is free (the losing
		// Lock case took nothing).
		name: "SE-03 Select over an Event and a Lock",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			var e tock.Event
			held, release := new(tock.Event), new(tock.Event)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				l.Lock(ctx)
				held.Set()
				release.Wait(ctx)
				tock.Sleep(ctx, h.U(2))
				l.Unlock(ctx)
				return nil
			})
			held.Wait(ctx)
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, h.U(2))
				e.Set()
				return nil
			})
			i, err := tock.Select(ctx, tock.OnLock(&l, nil), tock.OnEvent(&e, nil))
			h.Log(ctx, "case %d %v", i, err)
			release.Set()
			g.Wait()
			h.Log(ctx, "lock after: locked %v waiting %d", l.Locked(), l.Stats().Waiting)
			// Now the lock is free: the Lock case wins at once, and the
			// task owns it.
			i, err = tock.Select(ctx, tock.OnLock(&l, nil), tock.OnTimeout(h.U(1), nil))
			h.Log(ctx, "free lock: case %d %v, owner is me %v", i, err, l.Stats().Owner == tock.TaskID(ctx))
			l.Unlock(ctx)
			return nil
		},
		sim:     "2 case 1 <nil>\n4 lock after: locked false waiting 0\n4 free lock: case 0 <nil>, owner is me true",
		ordered: true,
	},
	scenario{
		// A Send case on a rendezvous stream meets a Receive case of another
		// Select: both win, the item passes once.
		name: "SE-04 two Selects meet on a rendezvous stream",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[int](0)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				i, err := tock.Select(ctx, tock.OnSend(s, 42, nil), tock.OnTimeout(h.U(100), nil))
				h.Log(ctx, "sender: case %d %v", i, err)
				return err
			})
			h.WaitUntil(ctx, "sender waits", func() bool { return s.Stats().WaitingSend == 1 })
			tock.Sleep(ctx, h.U(3))
			var got int
			i, err := tock.Select(ctx, tock.OnReceive(r, func(v int) { got = v }), tock.OnTimeout(h.U(100), nil))
			h.Log(ctx, "receiver: case %d %d %v", i, got, err)
			if err := g.Wait(); err != nil {
				return err
			}
			_, err = r.TryReceive()
			h.Log(ctx, "nothing left: %v", err)
			return nil
		},
		sim: "3 sender: case 0 <nil>\n3 receiver: case 0 42 <nil>\n3 nothing left: tock: operation would block",
	},
	scenario{
		// Cancellation: Select returns -1 and ctx's error, taking nothing; a
		// grant that came first wins.
		name: "SE-05 Select cancel before or after the grant",
		body: func(ctx context.Context, h *H) error {
			for _, cancelFirst := range []bool{true, false} {
				q := tock.NewQueue[int]()
				var i int
				var got int
				err := h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
					var err error
					i, err = tock.Select(ctx, tock.OnGet(q, func(v int) { got = v }), tock.OnTimeout(h.U(100), nil))
					return err
				}, func() bool { return q.Waiting() == 1 }, func() { q.Put(ctx, 9) })
				h.Log(ctx, "cancel first %v: case %d %v, got %d, queue %d", cancelFirst, i, err, got, q.Len())
			}
			return nil
		},
		sim:     "0 cancel first true: case -1 context canceled, got 0, queue 1\n0 cancel first false: case 0 <nil>, got 9, queue 0",
		ordered: true,
	},
	scenario{
		// Ended and closed streams, a closed Queue and a Channel.
		name: "SE-06 Select on ended streams and a Channel",
		body: func(ctx context.Context, h *H) error {
			s, r := tock.NewStream[int](1)
			s.Close()
			i, err := tock.Select(ctx, tock.OnReceive(r, nil), tock.OnTimeout(h.U(1), nil))
			h.Log(ctx, "ended stream: %d %v", i, err)
			s2, r2 := tock.NewStream[int](0)
			r2.Close()
			i, err = tock.Select(ctx, tock.OnSend(s2, 1, nil))
			h.Log(ctx, "broken stream: %d %v", i, err)
			q := tock.NewQueue[int]()
			q.Put(ctx, 1)
			q.Close()
			for range 2 {
				i, err = tock.Select(ctx, tock.OnGet(q, nil))
				h.Log(ctx, "closed queue: %d %v", i, err)
			}
			c := tock.NewChannel[string]()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				var m string
				i, err := tock.Select(ctx, tock.OnChannel(c, func(v string) { m = v }), tock.OnTimeout(h.U(1000), nil))
				h.Log(ctx, "channel: %d %q %v", i, m, err)
				return err
			})
			h.WaitUntil(ctx, "subscribed", func() bool { return c.Subscribers() == 1 })
			tock.Sleep(ctx, h.U(1))
			c.Put(ctx, "hi")
			g.Wait()
			h.Log(ctx, "subscribers after: %d", c.Subscribers())
			return nil
		},
		sim: `0 ended stream: 0 tock: end of stream
0 broken stream: 0 tock: every receiver is closed
0 closed queue: 0 <nil>
0 closed queue: 0 tock: stream closed
1 channel: 0 "hi" <nil>
1 subscribers after: 0`,
		ordered: true,
	},
)

func TestSelectMisuse(t *testing.T) {
	defer func() {
		if r := fmt.Sprint(recover()); !strings.Contains(r, "tock: Select: no case given") {
			t.Errorf("panic %q", r)
		}
	}()
	tock.Select(context.Background())
}

// The first ready case in argument order wins; the others keep their items.
func TestSelectReadyOrder(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		q1, q2 := tock.NewQueue[int](), tock.NewQueue[int]()
		q1.Put(ctx, 1)
		q2.Put(ctx, 2)
		var got int
		i, err := tock.Select(ctx, tock.OnGet(q2, func(v int) { got = v }), tock.OnGet(q1, func(v int) { got = v }))
		if i != 0 || err != nil || got != 2 || q1.Len() != 1 || q2.Len() != 0 {
			t.Errorf("case %d %v got %d; lens %d %d", i, err, got, q1.Len(), q2.Len())
		}
		cctx, cancel := tock.WithCancel(ctx)
		cancel()
		if i, err := tock.Select(cctx, tock.OnGet(q1, nil)); i != -1 || !errors.Is(err, context.Canceled) || q1.Len() != 1 {
			t.Errorf("cancelled ctx: %d %v, len %d", i, err, q1.Len())
		}
		// A Select's deadlock is reported as a Select wait.
		return nil
	})
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		_, err := tock.Select(ctx, tock.OnGet(q, nil))
		return err
	})
	var de *sim.DeadlockError
	if !errors.As(err, &de) || len(de.Blocked) != 1 || de.Blocked[0].WaitsOn != "Select" {
		t.Errorf("deadlock: %v", err)
	}
}

func ExampleSelect() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		jobs, results := tock.NewQueue[string](), tock.NewQueue[string]()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, 2*time.Second)
			return results.Put(ctx, "result 1")
		})
		for {
			var msg string
			i, err := tock.Select(ctx,
				tock.OnGet(jobs, func(j string) { msg = "job: " + j }),
				tock.OnGet(results, func(r string) { msg = "got " + r }),
				tock.OnTimeout(5*time.Second, func() { msg = "idle" }))
			if err != nil {
				return err
			}
			fmt.Printf("+%v case %d: %s\n", tock.Now(ctx).Sub(sim.DefaultStart), i, msg)
			if i == 2 {
				break
			}
		}
		return g.Wait()
	})
	// Output:
	// +2s case 1: got result 1
	// +7s case 2: idle
}

// Misuse and odd inputs: a raw goroutine using a task's ctx, a task-less
// ctx inside a simulated task, a panicking callback, a re-entered Lock, a
// Select left blocked when the simulation deadlocks (unwound, nothing left
// queued).
func TestSelectAdversarial(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		// A task-less ctx inside a simulated task panics before any case is
		// armed.
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Select with context.Background() inside a simulated task did not panic")
				}
			}()
			tock.Select(context.Background(), tock.OnGet(q, nil)) //tockvet:ignore the task-less Select is the misuse under test
		}()
		if q.Waiting() != 0 {
			t.Errorf("a waiter was left queued: %d", q.Waiting())
		}
		// A panicking callback: the Select has disarmed, the item is taken
		// (the case won), and the panic reaches the caller.
		q.Put(ctx, 1)
		q.Put(ctx, 2)
		func() {
			defer func() {
				if r := recover(); r != "in callback" {
					t.Errorf("recovered %v", r)
				}
			}()
			tock.Select(ctx, tock.OnGet(q, func(int) { panic("in callback") }))
		}()
		if q.Len() != 1 || q.Waiting() != 0 {
			t.Errorf("after a panicking callback: len %d waiting %d", q.Len(), q.Waiting())
		}
		// The owner re-enters its Lock through a Select.
		var l tock.Lock
		l.Lock(ctx)
		if i, err := tock.Select(ctx, tock.OnLock(&l, nil)); i != 0 || err != nil || l.Stats().Depth != 2 {
			t.Errorf("re-entry: %d %v depth %d", i, err, l.Stats().Depth)
		}
		l.Unlock(ctx)
		l.Unlock(ctx)
		if l.Locked() {
			t.Error("still locked")
		}
		return nil
	})
	// A raw goroutine using a task's ctx panics (the simulation's exact
	// caller check, sim.Checked), before anything is armed.
	simRun(t, func(ctx context.Context) error {
		q := tock.NewQueue[int]()
		var e tock.Event
		panicked := make(chan any, 1)
		go func() { //tockvet:ignore the raw goroutine with a task ctx is the misuse under test
			defer func() { panicked <- recover() }()
			tock.Select(ctx, tock.OnGet(q, nil))
		}()
		for {
			select {
			case r := <-panicked:
				if r == nil {
					t.Error("Select from a raw goroutine with a task's ctx did not panic")
				}
				if q.Waiting() != 0 {
					t.Errorf("a waiter was left queued: %d", q.Waiting())
				}
				e.Set()
				return e.Wait(ctx)
			default:
				tock.Sleep(ctx, time.Millisecond) // let the goroutine run (wall time passes)
			}
		}
	}, sim.StallTimeout(0), sim.Checked())
	// A Select blocked at a deadlock is unwound: Run reports it and
	// returns, and no goroutine is left (checkLeaks).
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		q := tock.NewQueue[int]()
		var e tock.Event
		g.Go(func(ctx context.Context) error {
			defer q.Close()
			_, err := tock.Select(ctx, tock.OnGet(q, nil), tock.OnEvent(&e, nil))
			return err
		})
		return g.Wait()
	})
	var de *sim.DeadlockError
	if !errors.As(err, &de) {
		t.Errorf("deadlock: %v", err)
	}
}
