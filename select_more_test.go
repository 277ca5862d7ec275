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
		// A Get case waits until the level holds its amount; a Get case that
		// loses takes nothing, and its leaving lets a later Get through.
		name: "SE-07 Select on a Container",
		body: func(ctx context.Context, h *H) error {
			c := tock.NewContainer(10, 0)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.WaitUntil(ctx, "get case waits", func() bool { return c.Stats().WaitingGets == 1 })
				tock.Sleep(ctx, h.U(2))
				c.Put(ctx, 3)
				tock.Sleep(ctx, h.U(2))
				return c.Put(ctx, 3)
			})
			got := false
			i, err := tock.Select(ctx, tock.OnContainerGet(c, 5, func() { got = true }), tock.OnTimeout(h.U(1000), nil))
			h.Log(ctx, "get: case %d %v %v, level %v", i, err, got, c.Level())
			g.Wait()
			g = tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				// queued behind the Get case of 5 (FIFO)
				h.WaitUntil(ctx, "get case waits", func() bool { return c.Stats().WaitingGets == 1 })
				gctx, cancel := tock.WithTimeout(ctx, h.U(1000)) // bounded: fails, not hangs, if the Select case held it back
				defer cancel()
				err := c.Get(gctx, 1)
				h.Log(ctx, "plain get of 1: %v", err)
				return err
			})
			i, err = tock.Select(ctx, tock.OnContainerGet(c, 5, nil), tock.OnTimeout(h.U(3), nil))
			g.Wait()
			h.Log(ctx, "timeout: case %d %v, level %v, waiting gets %d", i, err, c.Level(), c.Stats().WaitingGets)
			full := tock.NewContainer(2, 2)
			var e tock.Event
			g = tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, h.U(1))
				e.Set()
				return nil
			})
			i, err = tock.Select(ctx, tock.OnContainerPut(full, 1, nil), tock.OnEvent(&e, nil))
			h.Log(ctx, "put: case %d %v, level %v, waiting puts %d", i, err, full.Level(), full.Stats().WaitingPuts)
			full.Get(ctx, 1)
			i, err = tock.Select(ctx, tock.OnContainerPut(full, 1, nil), tock.OnEvent(new(tock.Event), nil))
			h.Log(ctx, "put fits: case %d %v, level %v", i, err, full.Level())
			return g.Wait()
		},
		sim: `4 get: case 0 <nil> true, level 1
7 plain get of 1: <nil>
7 timeout: case 1 <nil>, level 0, waiting gets 0
8 put: case 1 <nil>, level 2, waiting puts 0
8 put fits: case 0 <nil>, level 2`,
		ordered: true,
	},
	scenario{
		// A Tracked case wakes on the change that makes its condition true,
		// with that value; a Flag case that loses leaves no waiter.
		name: "SE-08 Select on a Tracked and a Flag",
		body: func(ctx context.Context, h *H) error {
			tr := tock.NewTracked(0)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.WaitUntil(ctx, "tracked case waits", func() bool { return tr.Stats().Waiting == 1 })
				for k := 1; k <= 4; k++ {
					tock.Sleep(ctx, h.U(1))
					tr.Set(k)
				}
				return nil
			})
			var got int
			i, err := tock.Select(ctx, tock.OnTracked(tr, func(v int) bool { return v >= 3 }, func(v int) { got = v }), tock.OnTimeout(h.U(1000), nil))
			h.Log(ctx, "tracked: case %d %v, got %d", i, err, got)
			g.Wait()
			var fl tock.Flag
			i, err = tock.Select(ctx, tock.OnFlag(&fl, nil), tock.OnTimeout(h.U(1), nil))
			h.Log(ctx, "flag: case %d %v, waiting %d", i, err, fl.Stats().Waiting)
			fl.Set()
			i, err = tock.Select(ctx, tock.OnTimeout(h.U(1), nil), tock.OnFlag(&fl, nil))
			h.Log(ctx, "flag set: case %d %v", i, err)
			return nil
		},
		sim: `3 tracked: case 0 <nil>, got 3
5 flag: case 1 <nil>, waiting 0
5 flag set: case 1 <nil>`,
		ordered: true,
	},
	scenario{
		// A Permit case that loses takes no token; one that waits is served
		// by a Release; on a Preemptive limiter it preempts a less urgent
		// holder.
		name: "SE-09 Select on a PriorityLimiter",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewPriorityLimiter(1, tock.Preemptive())
			held := new(tock.Event)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				p, err := l.Acquire(ctx, 5)
				if err != nil {
					return err
				}
				held.Set()
				h.Forever(p.Context())
				h.Log(ctx, "holder: preempted %v", errors.Is(context.Cause(p.Context()), tock.ErrPreempted))
				p.Release()
				return nil
			})
			held.Wait(ctx)
			// not more urgent than the holder: it waits, and loses to the timeout
			i, err := tock.Select(ctx, tock.OnPermit(l, 5, nil), tock.OnTimeout(h.U(2), nil))
			h.Log(ctx, "equal priority: case %d %v, %+v", i, err, l.Stats())
			var p *tock.Permit
			i, err = tock.Select(ctx, tock.OnPermit(l, 1, func(q *tock.Permit) { p = q }), tock.OnTimeout(h.U(2), nil))
			h.Log(ctx, "urgent: case %d %v, priority %d, %+v", i, err, p.Priority(), l.Stats())
			g.Wait()
			g = tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.WaitUntil(ctx, "permit case waits", func() bool { return l.Stats().Waiting == 1 })
				tock.Sleep(ctx, h.U(3))
				p.Release()
				return nil
			})
			var p2 *tock.Permit
			i, err = tock.Select(ctx, tock.OnPermit(l, 9, func(q *tock.Permit) { p2 = q }), tock.OnTimeout(h.U(1000), nil))
			h.Log(ctx, "after release: case %d %v, priority %d, %+v", i, err, p2.Priority(), l.Stats())
			p2.Release()
			return g.Wait()
		},
		sim: `2 equal priority: case 1 <nil>, {Total:1 InUse:1 Waiting:0}
2 urgent: case 0 <nil>, priority 1, {Total:1 InUse:1 Waiting:0}
2 holder: preempted true
5 after release: case 0 <nil>, priority 9, {Total:1 InUse:1 Waiting:0}`,
		ordered: false,
	},
	scenario{
		// A Borrow case that loses borrows nothing; a waiting one is served
		// by a ReleaseFor.
		name: "SE-10 Select on a CapacityLimiter",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewCapacityLimiter(1)
			held, proceed := new(tock.Event), new(tock.Event)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				if err := l.AcquireFor(ctx, "h"); err != nil {
					return err
				}
				held.Set()
				proceed.Wait(ctx)
				tock.Sleep(ctx, h.U(2))
				l.ReleaseFor("h")
				return nil
			})
			held.Wait(ctx)
			i, err := tock.Select(ctx, tock.OnBorrow(l, nil), tock.OnTimeout(h.U(1), nil))
			h.Log(ctx, "timeout: case %d %v, %+v", i, err, l.Stats())
			proceed.Set()
			i, err = tock.Select(ctx, tock.OnBorrowFor(l, "me", nil), tock.OnTimeout(h.U(1000), nil))
			h.Log(ctx, "released: case %d %v, %+v", i, err, l.Stats())
			l.ReleaseFor("me")
			i, err = tock.Select(ctx, tock.OnBorrow(l, nil))
			h.Log(ctx, "free: case %d %v, borrowed %d", i, err, l.Borrowed())
			l.Release(ctx)
			return g.Wait()
		},
		sim: `1 timeout: case 1 <nil>, {Borrowed:1 Total:1 Borrowers:[h] Waiting:0}
3 released: case 0 <nil>, {Borrowed:1 Total:1 Borrowers:[me] Waiting:0}
3 free: case 0 <nil>, borrowed 1`,
		ordered: true,
	},
	scenario{
		// Cancellation racing a grant, for each new kind: cancelled first,
		// the Select takes nothing and the resource goes back; granted
		// first, the Select wins it.
		name: "SE-11 Select cancel races on Container, Tracked, limiters",
		body: func(ctx context.Context, h *H) error {
			for _, cancelFirst := range []bool{true, false} {
				c := tock.NewContainer(10, 0)
				var i int
				err := h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
					var err error
					i, err = tock.Select(ctx, tock.OnContainerGet(c, 2, nil), tock.OnTimeout(h.U(100), nil))
					return err
				}, func() bool { return c.Stats().WaitingGets == 1 }, func() { c.TryPut(2) })
				h.Log(ctx, "container, cancel first %v: case %d %v, level %v", cancelFirst, i, err, c.Level())

				tr := tock.NewTracked(0)
				got := -1
				err = h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
					var err error
					i, err = tock.Select(ctx, tock.OnTracked(tr, func(v int) bool { return v > 0 }, func(v int) { got = v }))
					return err
				}, func() bool { return tr.Stats().Waiting == 1 }, func() { tr.Set(1) })
				h.Log(ctx, "tracked, cancel first %v: case %d %v, got %d", cancelFirst, i, err, got)

				pl := tock.NewPriorityLimiter(1)
				hold, _ := pl.TryAcquire(ctx, 0)
				var p *tock.Permit
				err = h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
					var err error
					i, err = tock.Select(ctx, tock.OnPermit(pl, 0, func(q *tock.Permit) { p = q }))
					return err
				}, func() bool { return pl.Stats().Waiting == 1 }, hold.Release)
				h.Log(ctx, "permit, cancel first %v: case %d %v, in use %d, got %v", cancelFirst, i, err, pl.Stats().InUse, p != nil)
				if p != nil {
					p.Release()
				}

				cl := tock.NewCapacityLimiter(1)
				cl.TryAcquireFor("h")
				err = h.CancelRace(ctx, cancelFirst, func(ctx context.Context) error {
					var err error
					i, err = tock.Select(ctx, tock.OnBorrowFor(cl, "x", nil))
					return err
				}, func() bool { return cl.Stats().Waiting == 1 }, func() { cl.ReleaseFor("h") })
				h.Log(ctx, "borrow, cancel first %v: case %d %v, borrowers %v", cancelFirst, i, err, cl.Stats().Borrowers)
			}
			return nil
		},
		sim: `0 container, cancel first true: case -1 context canceled, level 2
0 tracked, cancel first true: case -1 context canceled, got -1
0 permit, cancel first true: case -1 context canceled, in use 0, got false
0 borrow, cancel first true: case -1 context canceled, borrowers []
0 container, cancel first false: case 0 <nil>, level 0
0 tracked, cancel first false: case 0 <nil>, got 1
0 permit, cancel first false: case 0 <nil>, in use 1, got true
0 borrow, cancel first false: case 0 <nil>, borrowers [x]`,
		ordered: true,
	},
)

// A case that panics while it is armed (a Tracked condition) leaves none of
// the cases armed before it queued, and the panic reaches the caller; a
// later Put goes to the next Get, not to the abandoned Select. The same
// borrower twice in one Select panics before any case is armed. On both
// runtimes.
func TestSelectArmPanics(t *testing.T) {
	bothRuntimes(t, func(t *testing.T, ctx context.Context, h *H) error {
		q := tock.NewQueue[int]()
		c := tock.NewContainer(5, 0)
		tr := tock.NewTracked(0)
		pl := tock.NewPriorityLimiter(1)
		hold, _ := pl.TryAcquire(ctx, 0)
		cl := tock.NewCapacityLimiter(0)
		var fl tock.Flag
		r := panicOf(func() {
			tock.Select(ctx, tock.OnGet(q, nil), tock.OnContainerGet(c, 1, nil), tock.OnContainerPut(tock.NewContainer(1, 1), 1, nil),
				tock.OnPermit(pl, 0, nil), tock.OnBorrow(cl, nil), tock.OnFlag(&fl, nil),
				tock.OnTracked(tr, func(int) bool { panic("in condition") }, nil))
		})
		if r != "in condition" {
			t.Errorf("recovered %v", r)
		}
		if q.Waiting() != 0 || c.Stats().WaitingGets != 0 || tr.Stats().Waiting != 0 || pl.Stats().Waiting != 0 || cl.Stats().Waiting != 0 || fl.Stats().Waiting != 0 {
			t.Errorf("left queued: queue %d, container %d, tracked %d, permit %+v, borrow %+v, flag %d",
				q.Waiting(), c.Stats().WaitingGets, tr.Stats().Waiting, pl.Stats(), cl.Stats(), fl.Stats().Waiting)
		}
		hold.Release()
		if st := pl.Stats(); st.InUse != 0 {
			t.Errorf("permit: %+v", st)
		}
		// The same borrower twice in one Select: refused before the first
		// case is armed.
		l := tock.NewCapacityLimiter(0)
		r = panicOf(func() {
			tock.Select(ctx, tock.OnBorrowFor(l, "b", nil), tock.OnBorrowFor(l, "b", nil))
		})
		if !strings.Contains(r, "already waiting") {
			t.Errorf("recovered %v", r)
		}
		if st := l.Stats(); st.Waiting != 0 {
			t.Errorf("limiter: %+v", st)
		}
		l.SetTotal(1)
		if err := l.AcquireFor(ctx, "b"); err != nil { // not refused as "already waiting"
			return err
		}
		cl.SetTotal(1)
		if err := cl.Acquire(ctx); err != nil { // the task is not refused as already waiting
			return err
		}
		cl.Release(ctx)
		q.Put(ctx, 1)
		if v, err := q.Get(ctx); v != 1 || err != nil {
			t.Errorf("get after: %d %v", v, err)
		}
		return nil
	})
}

// A Select over the modelling primitives: a job either gets a worker token
// or, after 3 s, settles for fuel from a tank; the losing case takes
// nothing.
func ExampleSelect_resources() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		workers := tock.NewPriorityLimiter(1)
		tank := tock.NewContainer(100, 0)
		held, _ := workers.TryAcquire(ctx, 0) // the only worker is busy
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, 3*time.Second)
			return tank.Put(ctx, 50)
		})
		var p *tock.Permit
		i, err := tock.Select(ctx,
			tock.OnPermit(workers, 1, func(q *tock.Permit) { p = q }),
			tock.OnContainerGet(tank, 20, nil))
		fmt.Printf("+%v case %d %v: permit %v, tank %v, waiting for a worker %d\n",
			tock.Now(ctx).Sub(sim.DefaultStart), i, err, p != nil, tank.Level(), workers.Stats().Waiting)
		held.Release()
		return g.Wait()
	})
	// Output:
	// +3s case 1 <nil>: permit false, tank 30, waiting for a worker 0
}
