package tock_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// watched is a model run for watch tests: it attaches fresh monitors with
// attach, runs body's tasks, and reads the monitors at 10 s (virtual).
type watched struct {
	use, queue, level *tock.Monitor
	wait              tock.Tally
}

func (w *watched) mons() *tock.Monitors {
	return &tock.Monitors{Use: w.use, Queue: w.queue, Level: w.level, Wait: &w.wait}
}

// watchSim runs body in a simulation with monitors made at 0 s, attached
// by body, and returns them read at 10 s.
func watchSim(t *testing.T, body func(ctx context.Context, w *watched, g *tock.Group, at func(ctx context.Context, s float64))) *watched {
	t.Helper()
	w := &watched{}
	simRun(t, func(ctx context.Context) error {
		w.use, w.queue, w.level = tock.NewMonitor(ctx, 0), tock.NewMonitor(ctx, 0), tock.NewMonitor(ctx, 0)
		at := func(ctx context.Context, s float64) {
			tock.SleepUntil(ctx, sim.DefaultStart.Add(time.Duration(s*float64(time.Second))))
		}
		g := tock.NewGroup(ctx)
		body(ctx, w, g, at)
		if err := g.Wait(); err != nil {
			return err
		}
		at(ctx, 10)
		return nil
	})
	return w
}

// means formats the monitors' means and the tally, for exact comparison.
func (w *watched) means() string {
	ws := w.wait.Stats()
	return fmt.Sprintf("use %.4g queue %.4g level %.4g; waits %d mean %.4g max %.4g",
		w.use.Mean(), w.queue.Mean(), w.level.Mean(), ws.Count, ws.Mean, ws.Max)
}

// TestWatch checks, for every primitive, the exact time-weighted figures
// of its attached monitors in a simulation over 10 virtual seconds.
func TestWatch(t *testing.T) {
	checkLeaks(t)
	cases := []struct {
		name string
		body func(ctx context.Context, w *watched, g *tock.Group, at func(ctx context.Context, s float64))
		want string
	}{
		{"Lock", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			// held 0-2 by A, 2-3 by B (who waited from 1): 3 of 10 s
			var l tock.Lock
			l.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				l.Lock(ctx)
				l.Lock(ctx) // re-entry: no change of use, a wait of 0
				at(ctx, 2)
				l.Unlock(ctx)
				l.Unlock(ctx)
				return nil
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 1)
				l.Lock(ctx)
				at(ctx, 3)
				l.Unlock(ctx)
				if l.TryLock(ctx) { // 3-3: no time
					l.Unlock(ctx)
				}
				return nil
			})
		}, "use 0.3 queue 0.1 level 0; waits 3 mean 0.3333 max 1"},
		{"Semaphore", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			s := tock.NewSemaphore(2)
			s.Watch(w.mons()) // the level starts at 2
			hold := func(from, until float64) {
				g.Go(func(ctx context.Context) error {
					at(ctx, from)
					s.Acquire(ctx)
					at(ctx, until)
					s.Release()
					return nil
				})
			}
			hold(0, 4)
			hold(0, 5)
			hold(1, 6) // waits 1-4
		}, "use 0 queue 0.3 level 0.9; waits 3 mean 1 max 3"},
		{"CapacityLimiter", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			l := tock.NewCapacityLimiter(2)
			l.Watch(w.mons())
			hold := func(from, until float64) {
				g.Go(func(ctx context.Context) error {
					at(ctx, from)
					l.Acquire(ctx)
					at(ctx, until)
					l.Release(ctx)
					return nil
				})
			}
			hold(0, 4)
			hold(0, 5)
			hold(1, 6)
		}, "use 1.1 queue 0.3 level 0; waits 3 mean 1 max 3"},
		{"PriorityLimiter", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			l := tock.NewPriorityLimiter(1)
			l.Watch(w.mons())
			hold := func(prio int, from, until float64) {
				g.Go(func(ctx context.Context) error {
					at(ctx, from)
					p, _ := l.Acquire(ctx, prio)
					at(ctx, until)
					p.Release()
					return nil
				})
			}
			hold(5, 0, 4)
			hold(1, 1, 6) // waits 1-4
		}, "use 0.6 queue 0.3 level 0; waits 2 mean 1.5 max 3"},
		{"Container", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			c := tock.NewContainer(10, 5)
			c.Watch(w.mons()) // the level starts at 5
			g.Go(func(ctx context.Context) error {
				at(ctx, 1)
				return c.Get(ctx, 8) // waits 1-3
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 3)
				return c.Put(ctx, 4)
			})
		}, "use 0 queue 0.2 level 2.2; waits 2 mean 1 max 2"},
		{"Queue", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			q := tock.NewQueue[int]()
			q.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				q.Put(ctx, 1)
				q.Put(ctx, 2)
				at(ctx, 8)
				return q.Put(ctx, 3)
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 2)
				q.Get(ctx)
				at(ctx, 4)
				q.GetWhere(ctx, func(int) bool { return true })
				at(ctx, 5)
				_, err := q.Get(ctx) // waits 5-8
				return err
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 9)
				gctx, cancel := tock.WithTimeout(ctx, 500*time.Millisecond)
				defer cancel()
				q.Get(gctx) // gives up at 9.5: queued, but not a wait that succeeded
				return nil
			})
		}, "use 0 queue 0.35 level 0.6; waits 3 mean 1 max 3"},
		{"stream", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			s, r := tock.NewStream[int](1)
			r.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				s.Send(ctx, 1) // buffered
				s.Send(ctx, 2) // waits 0-2
				at(ctx, 7)
				return s.Send(ctx, 3) // to the waiting receiver
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 2)
				r.Receive(ctx)
				at(ctx, 3)
				r.Receive(ctx)
				at(ctx, 5)
				_, err := r.Receive(ctx) // waits 5-7
				return err
			})
		}, "use 0 queue 0.4 level 0.3; waits 6 mean 0.6667 max 2"},
		{"Subscription", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			c := tock.NewChannel[int]()
			sub := c.Subscribe()
			sub.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				c.Put(ctx, 1)
				at(ctx, 1)
				c.Put(ctx, 2)
				at(ctx, 9)
				return c.Put(ctx, 3)
			})
			g.Go(func(ctx context.Context) error {
				defer sub.Close()
				at(ctx, 3)
				sub.Receive(ctx)
				at(ctx, 4)
				sub.Receive(ctx)
				at(ctx, 6)
				_, err := sub.Receive(ctx) // waits 6-9
				return err
			})
		}, "use 0 queue 0.3 level 0.6; waits 3 mean 1 max 3"},
		{"Channel", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			c := tock.NewChannel[int]()
			c.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				c.Receive(ctx) // 0-4
				at(ctx, 5)
				_, err := c.Receive(ctx) // 5-6
				return err
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 4)
				c.Put(ctx, 1)
				at(ctx, 6)
				return c.Put(ctx, 2)
			})
		}, "use 0 queue 0.5 level 0; waits 2 mean 2.5 max 4"},
		{"Event", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			var e tock.Event
			e.Watch(w.mons())
			for _, from := range []float64{1, 2} {
				g.Go(func(ctx context.Context) error {
					at(ctx, from)
					return e.Wait(ctx)
				})
			}
			g.Go(func(ctx context.Context) error {
				at(ctx, 4)
				e.Set()
				return nil
			})
		}, "use 0 queue 0.5 level 0.6; waits 2 mean 2.5 max 3"},
		{"Condition", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			c := tock.NewCondition(nil)
			c.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				at(ctx, 1)
				c.Lock(ctx)
				defer c.Unlock(ctx)
				return c.Wait(ctx) // 1-5 (notified at 2, the lock back at 5)
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 2)
				c.Lock(ctx)
				c.NotifyAll(ctx)
				at(ctx, 5)
				c.Unlock(ctx)
				return nil
			})
		}, "use 0 queue 0.1 level 0; waits 1 mean 4 max 4"},
		{"Tracked", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			v := tock.NewTracked(0)
			v.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				at(ctx, 1)
				_, err := v.WaitUntil(ctx, func(x int) bool { return x >= 2 }) // 1-6
				return err
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 2)
				v.Set(1)
				at(ctx, 6)
				v.Set(2)
				return nil
			})
		}, "use 0 queue 0.5 level 0; waits 1 mean 5 max 5"},
		{"Flag", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			var f tock.Flag
			f.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				return f.Wait(ctx) // 0-2
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 2)
				f.Set()
				at(ctx, 7)
				f.Clear()
				return nil
			})
		}, "use 0 queue 0.2 level 0.5; waits 1 mean 2 max 2"},
		{"Pipe", func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
			p := tock.NewPipe(10)
			p.Watch(w.mons())
			g.Go(func(ctx context.Context) error {
				return p.Transfer(ctx, 20) // alone at 10/s until 1, then 5/s: through at 3
			})
			g.Go(func(ctx context.Context) error {
				at(ctx, 1)
				return p.Transfer(ctx, 10) // 5/s: through at 3
			})
		}, "use 3 queue 0.5 level 0; waits 2 mean 2.5 max 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := watchSim(t, c.body).means(); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestWatchDetach: Watch(nil) stops the recording, and a second Watch
// starts the new monitors at the primitive's state.
func TestWatchDetach(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		c := tock.NewContainer(10, 4)
		m := tock.NewMonitor(ctx, 0)
		c.Watch(&tock.Monitors{Level: m})
		tock.Sleep(ctx, time.Second)
		c.Watch(nil)
		c.Put(ctx, 6)
		tock.Sleep(ctx, time.Second)
		if s := m.Stats(); s.Value != 4 || s.Mean != 4 || s.Changes != 1 {
			t.Errorf("detached: %+v", s)
		}
		m2 := tock.NewMonitor(ctx, 10) // already right: no change recorded
		c.Watch(&tock.Monitors{Level: m2})
		if s := m2.Stats(); s.Changes != 0 {
			t.Errorf("attached at the right value: %+v", s)
		}
		return nil
	})
}

// TestWatchReal: the monitors work on the real runtime (wall clock); only
// outcomes are asserted, never durations.
func TestWatchReal(t *testing.T) {
	checkLeaks(t)
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		var l tock.Lock
		use, queue := tock.NewMonitor(ctx, 0), tock.NewMonitor(ctx, 0)
		var waits tock.Tally
		l.Watch(&tock.Monitors{Use: use, Queue: queue, Wait: &waits})
		l.Lock(ctx)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			if err := l.Lock(ctx); err != nil {
				return err
			}
			return nil
		})
		for deadline := 0; l.Stats().Waiting != 1; deadline++ {
			if deadline > 1e6 {
				return fmt.Errorf("the second Lock never waited")
			}
			tock.Yield(ctx)
		}
		l.Unlock(ctx) // handed over
		if err := g.Wait(); err != nil {
			return err
		}
		// the task ended holding it: take it back through the Stats owner
		us, qs, ws := use.Stats(), queue.Stats(), waits.Stats()
		if us.Value != 1 || us.Max != 1 || us.Min != 0 || qs.Max != 1 || qs.Value != 0 || ws.Count != 2 || ws.Min < 0 || math.IsNaN(us.Mean) {
			return fmt.Errorf("use %+v queue %+v waits %+v", us, qs, ws)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Monitors attached with Watch: a Lock held 3 of 10 virtual seconds, with
// one task waiting 1 s for it.
func ExampleMonitors() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		var l tock.Lock
		use, queue := tock.NewMonitor(ctx, 0), tock.NewMonitor(ctx, 0)
		var waits tock.Tally
		l.Watch(&tock.Monitors{Use: use, Queue: queue, Wait: &waits})
		g := tock.NewGroup(ctx)
		for _, start := range []time.Duration{0, time.Second} {
			g.Go(func(ctx context.Context) error {
				tock.Sleep(ctx, start)
				if err := l.Lock(ctx); err != nil {
					return err
				}
				defer l.Unlock(ctx)
				return tock.Sleep(ctx, 1500*time.Millisecond)
			})
		}
		g.Wait()
		tock.SleepUntil(ctx, sim.DefaultStart.Add(10*time.Second))
		w := waits.Stats()
		fmt.Printf("utilisation %.2f, mean queue %.2f, waits %d (mean %.2fs, max %.2fs)\n",
			use.Mean(), queue.Mean(), w.Count, w.Mean, w.Max)
		return nil
	})
	// Output:
	// utilisation 0.30, mean queue 0.05, waits 2 (mean 0.25s, max 0.50s)
}

// TestWatchStress hammers watched primitives from several tasks on the real
// runtime: the monitors must end at the primitives' final state and never
// leave their bounds (a change recorded out of order would), and the Wait
// tallies count every successful call.
func TestWatchStress(t *testing.T) {
	checkLeaks(t)
	const tasks, rounds = 4, 2000
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		mk := func() (*tock.Monitors, *tock.Tally) {
			var w tock.Tally
			return &tock.Monitors{Use: tock.NewMonitor(ctx, 0), Queue: tock.NewMonitor(ctx, 0), Level: tock.NewMonitor(ctx, 0), Wait: &w}, &w
		}
		var l tock.Lock
		lm, lw := mk()
		l.Watch(lm)
		sem := tock.NewSemaphore(2)
		sm, sw := mk()
		sem.Watch(sm)
		cl := tock.NewCapacityLimiter(2)
		cm, cw := mk()
		cl.Watch(cm)
		q := tock.NewQueue[int]()
		qm, qw := mk()
		q.Watch(qm)
		g := tock.NewGroup(ctx)
		for k := range tasks {
			g.Go(func(ctx context.Context) error {
				for i := range rounds {
					if err := l.Lock(ctx); err != nil {
						return err
					}
					l.Unlock(ctx)
					if err := sem.Acquire(ctx); err != nil {
						return err
					}
					sem.Release()
					if err := cl.Acquire(ctx); err != nil {
						return err
					}
					cl.Release(ctx)
					if k%2 == 0 {
						q.Put(ctx, i)
					} else if _, err := q.Get(ctx); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		n := tasks * rounds
		check := func(name string, m *tock.Monitors, w *tock.Tally, use, queue, level [3]float64, waits int) error {
			u, qs, lv := m.Use.Stats(), m.Queue.Stats(), m.Level.Stats()
			if u.Value != use[0] || u.Min < use[1] || u.Max > use[2] ||
				qs.Value != queue[0] || qs.Min < queue[1] || qs.Max > queue[2] ||
				lv.Value != level[0] || lv.Min < level[1] || lv.Max > level[2] || w.Stats().Count != waits {
				return fmt.Errorf("%s: use %+v\nqueue %+v\nlevel %+v\nwaits %d, want %d", name, u, qs, lv, w.Stats().Count, waits)
			}
			return nil
		}
		return errors.Join(
			check("Lock", lm, lw, [3]float64{0, 0, 1}, [3]float64{0, 0, tasks}, [3]float64{0, 0, 0}, n),
			check("Semaphore", sm, sw, [3]float64{0, 0, 0}, [3]float64{0, 0, tasks}, [3]float64{2, 0, 2}, n),
			check("CapacityLimiter", cm, cw, [3]float64{0, 0, 2}, [3]float64{0, 0, tasks}, [3]float64{0, 0, 0}, n),
			check("Queue", qm, qw, [3]float64{0, 0, 0}, [3]float64{0, 0, tasks / 2}, [3]float64{0, 0, float64(n / 2)}, n/2),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every primitive is Watchable.
var _ = []tock.Watchable{
	new(tock.Lock), new(tock.Semaphore), new(tock.CapacityLimiter), new(tock.PriorityLimiter),
	new(tock.Container), new(tock.Pipe), new(tock.Queue[int]), new(tock.SendStream[int]),
	new(tock.ReceiveStream[int]), new(tock.Subscription[int]), new(tock.Channel[int]),
	new(tock.Event), new(tock.Condition), new(tock.Tracked[int]), new(tock.Flag),
}

// A Select's waiting case counts in its primitive's Queue monitor, and
// what a winning case takes (a Lock, a Semaphore unit) is recorded.
func TestWatchSelect(t *testing.T) {
	checkLeaks(t)
	got := watchSim(t, func(ctx context.Context, w *watched, g *tock.Group, at func(context.Context, float64)) {
		q := tock.NewQueue[int]()
		q.Watch(&tock.Monitors{Queue: w.queue})
		var l tock.Lock
		l.Watch(&tock.Monitors{Use: w.use})
		sem := tock.NewSemaphore(1)
		sem.Watch(&tock.Monitors{Level: w.level})
		g.Go(func(ctx context.Context) error {
			tock.Select(ctx, tock.OnGet(q, nil), tock.OnTimeout(4*time.Second, nil)) // waits 0-4
			tock.Select(ctx, tock.OnLock(&l, nil))                                   // held 4-6
			at(ctx, 6)
			l.Unlock(ctx)
			tock.Select(ctx, tock.OnAcquire(sem, nil)) // level 0 from 6 on
			return nil
		})
	}).means()
	if want := "use 0.2 queue 0.4 level 0.6; waits 0 mean 0 max 0"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A zero Monitor (not made by NewMonitor) is refused at Watch, before the
// primitive's mutex is taken, and by its own methods: the primitive stays
// usable (it would otherwise have failed at its first change, under its
// mutex).
func TestWatchZeroMonitorRefused(t *testing.T) {
	var l tock.Lock
	func() {
		defer func() {
			r := recover()
			if s, _ := r.(string); !strings.Contains(s, "Lock.Watch: Monitors.Use is a zero Monitor") {
				t.Fatalf("Watch with a zero Monitor: recovered %v", r)
			}
		}()
		l.Watch(&tock.Monitors{Use: new(tock.Monitor)})
	}()
	if !l.TryLock(context.Background()) {
		t.Fatal("the lock is not free after the refused Watch")
	}
	l.Unlock(context.Background())
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatal("Set on a zero Monitor did not panic")
			}
		}()
		new(tock.Monitor).Set(1)
	}()
}

// A Channel.Receive with a ctx already done never waits, and is not
// counted in the channel's Queue monitor.
func TestWatchChannelDoneCtxNotCounted(t *testing.T) {
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		c := tock.NewChannel[int]()
		queue := tock.NewMonitor(ctx, 0)
		c.Watch(&tock.Monitors{Queue: queue})
		done, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.Receive(done); !errors.Is(err, context.Canceled) {
			t.Errorf("Receive with a done ctx = %v", err)
		}
		if st := queue.Stats(); st.Max != 0 || st.Changes != 0 {
			t.Errorf("queue monitor after a Receive that never waited: %+v", st)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
