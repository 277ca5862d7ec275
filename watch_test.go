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

// Watchable lets a model attach statistics to primitives of any kind
// through one helper: here a wait tally for each of a Lock and a Semaphore
// that two customers pass through, one after the other.
func ExampleWatchable() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		var counter tock.Lock
		tills := tock.NewSemaphore(1)
		waits := map[string]*tock.Tally{}
		watch := func(name string, p tock.Watchable) {
			waits[name] = new(tock.Tally)
			p.Watch(&tock.Monitors{Wait: waits[name]})
		}
		watch("counter", &counter)
		watch("till", tills)
		g := tock.NewGroup(ctx)
		for range 2 {
			g.Go(func(ctx context.Context) error {
				if err := counter.Lock(ctx); err != nil {
					return err
				}
				tock.Sleep(ctx, time.Minute) // ordering
				counter.Unlock(ctx)
				if err := tills.Acquire(ctx); err != nil {
					return err
				}
				defer tills.Release()
				return tock.Sleep(ctx, 3*time.Minute) // paying
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, name := range []string{"counter", "till"} {
			w := waits[name].Stats()
			fmt.Printf("%s: %d waits, longest %v\n", name, w.Count, time.Duration(w.Max*float64(time.Second)))
		}
		return nil
	})
	// Output:
	// counter: 2 waits, longest 1m0s
	// till: 2 waits, longest 2m0s
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

// realMons are monitors made on the real runtime's clock, for the
// real-runtime watch tests, which assert only what cannot lapse: counts,
// values at states the test sequenced on, extremes, never durations.
type realMons struct {
	use, queue, level *tock.Monitor
	wait              tock.Tally
}

func newRealMons(ctx context.Context) *realMons {
	return &realMons{use: tock.NewMonitor(ctx, 0), queue: tock.NewMonitor(ctx, 0), level: tock.NewMonitor(ctx, 0)}
}

func (m *realMons) mons() *tock.Monitors {
	return &tock.Monitors{Use: m.use, Queue: m.queue, Level: m.level, Wait: &m.wait}
}

// untilState yields until cond holds: a state the test sequences on (tasks
// parked in a primitive). It fails after 10 s of wall clock instead of
// hanging (a task that never parked, a hook that never recorded).
func untilState(ctx context.Context, what string, cond func() bool) error {
	start := time.Now() //tockvet:ignore a real-runtime test's bound on the wall clock
	for !cond() {
		if time.Since(start) > 10*time.Second { //tockvet:ignore the same bound
			return fmt.Errorf("%s: not reached after 10s", what)
		}
		tock.Yield(ctx)
	}
	return nil
}

// settled checks the figures once every task is done: the Queue monitor
// is back at 0 having reached exactly maxQueue (the most tasks the test
// parked at once), and waits calls succeeded.
func (m *realMons) settled(maxQueue, waits int) error {
	qs, ws := m.queue.Stats(), m.wait.Stats()
	var errs []error
	if qs.Value != 0 || qs.Min != 0 || qs.Max != float64(maxQueue) || math.IsNaN(qs.Mean) || qs.Mean < 0 || qs.Mean > float64(maxQueue) {
		errs = append(errs, fmt.Errorf("queue %+v, want back at 0 with max %d", qs, maxQueue))
	}
	if ws.Count != waits || ws.Min < 0 {
		errs = append(errs, fmt.Errorf("waits %+v, want %d", ws, waits))
	}
	return errors.Join(errs...)
}

// detached runs ops with the monitors detached (Watch(nil)) and checks
// they recorded nothing.
func (m *realMons) detached(w tock.Watchable, ops func() error) error {
	w.Watch(nil)
	before := [3]int{m.use.Stats().Changes, m.queue.Stats().Changes, m.level.Stats().Changes}
	waits := m.wait.Stats().Count
	if err := ops(); err != nil {
		return err
	}
	if after := [3]int{m.use.Stats().Changes, m.queue.Stats().Changes, m.level.Stats().Changes}; after != before || m.wait.Stats().Count != waits {
		return fmt.Errorf("detached, the monitors changed: use/queue/level changes %v, then %v; waits %d, then %d", before, after, waits, m.wait.Stats().Count)
	}
	return nil
}

// valueIs checks a monitor's current value (what tells the test where the
// primitive stands).
func valueIs(what string, m *tock.Monitor, want float64) error {
	if v := m.Value(); v != want {
		return fmt.Errorf("%s is %g, want %g", what, v, want)
	}
	return nil
}

// parkThenRelease starts n tasks blocked in wait, waits until the
// primitive's own state (waiting) shows them parked, checks atParked
// there, then runs release (even if a check failed: no task is left
// parked) and waits for the tasks to return.
func parkThenRelease(ctx context.Context, n int, wait func(context.Context) error, waiting func() int, atParked, release func() error) error {
	g := tock.NewGroup(ctx)
	for range n {
		g.Go(wait)
	}
	err := untilState(ctx, fmt.Sprintf("%d tasks parked", n), func() bool { return waiting() == n })
	if err == nil {
		err = atParked()
	}
	return errors.Join(err, release(), g.Wait())
}

// parkThenRelease is the function of that name, which also checks that the
// Queue monitor shows the n tasks parked: the primitive records the change
// under the mutex its state is read under, so the monitor cannot lag.
func (m *realMons) parkThenRelease(ctx context.Context, n int, wait func(context.Context) error, waiting func() int, atParked, release func() error) error {
	return parkThenRelease(ctx, n, wait, waiting, func() error {
		if v := m.queue.Value(); v != float64(n) {
			return fmt.Errorf("%d tasks parked, the Queue monitor shows %g", n, v)
		}
		return atParked()
	}, release)
}

// noCheck is parkThenRelease's atParked when there is nothing more to check.
func noCheck() error { return nil }

// putN is a release that puts 0..n-1 with put.
func putN(ctx context.Context, n int, put func(context.Context, int) error) func() error {
	return func() error {
		for i := range n {
			if err := put(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
}

// roundTrip is a detached operation: it puts 0 with put, then gets it
// with get.
func roundTrip(ctx context.Context, put func(context.Context, int) error, get func(context.Context) (int, error)) func() error {
	return func() error {
		if err := put(ctx, 0); err != nil {
			return err
		}
		_, err := get(ctx)
		return err
	}
}

// discard adapts a call that returns a value to parkThenRelease's wait.
func discard[T any](f func(context.Context) (T, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := f(ctx)
		return err
	}
}

// TestWatchRealPrimitives: Watch on the real runtime for every primitive
// that TestWatchReal and TestWatchStress do not cover: the Queue monitor
// reaches exactly the number of tasks parked (sequenced on the primitive's
// own state) and returns to 0, Use and Level follow what is held, the Wait
// tally counts the calls that succeeded, and Watch(nil) stops the
// recording.
func TestWatchRealPrimitives(t *testing.T) {
	checkLeaks(t)
	const n = 3 // tasks parked at once
	cases := []struct {
		name string
		body func(ctx context.Context, m *realMons) error
	}{
		{"PriorityLimiter", func(ctx context.Context, m *realMons) error {
			l := tock.NewPriorityLimiter(1)
			l.Watch(m.mons())
			acquireRelease := func(ctx context.Context) error {
				p, err := l.Acquire(ctx, 1)
				if err == nil {
					p.Release()
				}
				return err
			}
			p, err := l.Acquire(ctx, 0) // no wait: a wait of 0
			if err != nil {
				return err
			}
			err = m.parkThenRelease(ctx, n, acquireRelease, func() int { return l.Stats().Waiting },
				func() error { return valueIs("use while held", m.use, 1) },
				func() error { p.Release(); return nil })
			if err != nil {
				return err
			}
			if us := m.use.Stats(); us.Value != 0 || us.Max != 1 || us.Min != 0 {
				return fmt.Errorf("use %+v, want back at 0 with max 1", us)
			}
			return errors.Join(m.settled(n, n+1), m.detached(l, func() error { return acquireRelease(ctx) }))
		}},
		{"Container", func(ctx context.Context, m *realMons) error {
			c := tock.NewContainer(n, 0)
			c.Watch(m.mons())
			err := errors.Join(
				m.parkThenRelease(ctx, n, func(ctx context.Context) error { return c.Get(ctx, 1) }, func() int { return c.Stats().WaitingGets },
					func() error { return valueIs("level with the getters parked", m.level, 0) },
					func() error { return c.Put(ctx, n) }), // to the getters
				valueIs("level once the getters are served", m.level, 0),
				c.Put(ctx, n), // full
				m.parkThenRelease(ctx, n, func(ctx context.Context) error { return c.Put(ctx, 1) }, func() int { return c.Stats().WaitingPuts },
					func() error { return valueIs("level when full", m.level, n) },
					func() error { return c.Get(ctx, n) })) // makes room for the putters
			if err != nil {
				return err
			}
			if ls := m.level.Stats(); ls.Value != n || ls.Max != n || ls.Min != 0 {
				return fmt.Errorf("level %+v, want %d, never above", ls, n)
			}
			// n Gets, the Put for them, the Put that filled it, n Puts, the Get for them
			return errors.Join(m.settled(n, 2*n+3), m.detached(c, func() error {
				return errors.Join(c.Get(ctx, 1), c.Put(ctx, 1))
			}))
		}},
		{"Pipe", func(ctx context.Context, m *realMons) error {
			p := tock.NewPipe(n) // n transfers share it at 1/s each
			p.Watch(m.mons())
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			transfer := func(context.Context) error {
				if err := p.Transfer(cctx, 1e12); !errors.Is(err, context.Canceled) {
					return fmt.Errorf("a transfer of 1e12 at 1/s ended with %v", err)
				}
				return nil
			}
			err := m.parkThenRelease(ctx, n, transfer, func() int { return p.Stats().Active },
				func() error {
					if u := m.use.Value(); math.Abs(u-n) > 1e-9 {
						return fmt.Errorf("use with %d transfers sharing the pipe: %g, want its throughput %d", n, u, n)
					}
					return nil
				},
				func() error { cancel(); return nil })
			if err != nil {
				return err
			}
			if us := m.use.Stats(); us.Value != 0 || math.Abs(us.Max-n) > 1e-9 || us.Min != 0 {
				return fmt.Errorf("use %+v, want back at 0 with max %d", us, n)
			}
			if ws := m.wait.Stats(); ws.Count != 0 {
				return fmt.Errorf("cancelled transfers recorded as waits: %+v", ws)
			}
			if err := p.Transfer(ctx, 1e-6); err != nil {
				return err
			}
			return errors.Join(m.settled(n, 1), m.detached(p, func() error { return p.Transfer(ctx, 1e-6) }))
		}},
		{"SendStream", func(ctx context.Context, m *realMons) error {
			s, r := tock.NewStream[int](1)
			s.Watch(m.mons())
			if err := s.Send(ctx, 0); err != nil { // buffered
				return err
			}
			err := m.parkThenRelease(ctx, n, func(ctx context.Context) error { return s.Send(ctx, 1) }, func() int { return s.Stats().WaitingSend },
				func() error { return valueIs("level with the buffer full", m.level, 1) },
				func() error {
					for range n + 1 {
						if _, err := r.Receive(ctx); err != nil {
							return err
						}
					}
					return nil
				})
			if err != nil {
				return err
			}
			if ls := m.level.Stats(); ls.Value != 0 || ls.Max != 1 {
				return fmt.Errorf("level %+v, want 0, never above the buffer's 1", ls)
			}
			return errors.Join(m.settled(n, 2*(n+1)), m.detached(s, roundTrip(ctx, s.Send, r.Receive)))
		}},
		{"ReceiveStream", func(ctx context.Context, m *realMons) error {
			s, r := tock.NewStream[int](1)
			r.Watch(m.mons())
			err := m.parkThenRelease(ctx, n, discard(r.Receive), func() int { return r.Stats().WaitingReceive }, noCheck,
				putN(ctx, n, s.Send))
			if err != nil {
				return err
			}
			if ls := m.level.Stats(); ls.Value != 0 || ls.Max > 1 {
				return fmt.Errorf("level %+v, want 0, never above the buffer's 1", ls)
			}
			return errors.Join(m.settled(n, 2*n), m.detached(r, roundTrip(ctx, s.Send, r.Receive)))
		}},
		{"Subscription", func(ctx context.Context, m *realMons) error {
			c := tock.NewChannel[int]()
			sub := c.Subscribe()
			defer sub.Close()
			sub.Watch(m.mons())
			// a Subscription's Stats do not count its receivers: sequence
			// on the monitor (a hook that never records fails the bound)
			err := m.parkThenRelease(ctx, n, discard(sub.Receive), func() int { return int(m.queue.Value()) }, noCheck,
				putN(ctx, n, c.Put))
			if err != nil {
				return err
			}
			if err := errors.Join(c.Put(ctx, n), valueIs("level with one message buffered", m.level, 1)); err != nil {
				return err
			}
			if _, err := sub.Receive(ctx); err != nil {
				return err
			}
			if ls := m.level.Stats(); ls.Value != 0 || ls.Max != 1 {
				return fmt.Errorf("level %+v, want back at 0 with max 1", ls)
			}
			return errors.Join(m.settled(n, n+1), m.detached(sub, roundTrip(ctx, c.Put, sub.Receive)))
		}},
		{"Channel", func(ctx context.Context, m *realMons) error {
			c := tock.NewChannel[int]()
			c.Watch(m.mons())
			put := func() error { return c.Put(ctx, 1) } // to every receiver
			// a Receive is counted before it subscribes
			if err := m.parkThenRelease(ctx, n, discard(c.Receive), c.Subscribers, noCheck, put); err != nil {
				return err
			}
			return errors.Join(m.settled(n, n), m.detached(c, func() error {
				return parkThenRelease(ctx, 1, discard(c.Receive), c.Subscribers, noCheck, put)
			}))
		}},
		{"Event", func(ctx context.Context, m *realMons) error {
			var e tock.Event
			e.Watch(m.mons())
			err := m.parkThenRelease(ctx, n, e.Wait, func() int { return e.Stats().Waiting },
				func() error { return valueIs("level before Set", m.level, 0) },
				func() error { e.Set(); return nil })
			if err := errors.Join(err, valueIs("level after Set", m.level, 1)); err != nil {
				return err
			}
			return errors.Join(m.settled(n, n), m.detached(&e, func() error { return e.Wait(ctx) }))
		}},
		{"Condition", func(ctx context.Context, m *realMons) error {
			c := tock.NewCondition(nil)
			c.Watch(m.mons())
			waiter := func(ctx context.Context) error {
				if err := c.Lock(ctx); err != nil {
					return err
				}
				defer c.Unlock(ctx)
				return c.Wait(ctx)
			}
			waiting := func() int { return c.Stats().Waiting }
			notify := func() error {
				if err := c.Lock(ctx); err != nil {
					return err
				}
				c.NotifyAll(ctx)
				c.Unlock(ctx)
				return nil
			}
			if err := m.parkThenRelease(ctx, n, waiter, waiting, noCheck, notify); err != nil {
				return err
			}
			return errors.Join(m.settled(n, n), m.detached(c, func() error {
				return parkThenRelease(ctx, 1, waiter, waiting, noCheck, notify)
			}))
		}},
		{"Tracked", func(ctx context.Context, m *realMons) error {
			v := tock.NewTracked(0)
			v.Watch(m.mons())
			atLeast1 := func(ctx context.Context) (int, error) { return v.WaitUntil(ctx, func(x int) bool { return x >= 1 }) }
			err := m.parkThenRelease(ctx, n, discard(atLeast1), func() int { return v.Stats().Waiting }, noCheck,
				func() error { v.Set(1); return nil })
			if err != nil {
				return err
			}
			return errors.Join(m.settled(n, n), m.detached(v, func() error { return discard(atLeast1)(ctx) }))
		}},
		{"Flag", func(ctx context.Context, m *realMons) error {
			var f tock.Flag
			f.Watch(m.mons())
			waiting := func() int { return f.Stats().Waiting }
			err := errors.Join(
				m.parkThenRelease(ctx, n, f.Wait, waiting, func() error { return valueIs("level while clear", m.level, 0) },
					func() error { f.Set(); return nil }),
				valueIs("level once set", m.level, 1),
				m.parkThenRelease(ctx, n, f.WaitClear, waiting, noCheck, func() error { f.Clear(); return nil }),
				valueIs("level once cleared", m.level, 0))
			if err != nil {
				return err
			}
			if ls := m.level.Stats(); ls.Max != 1 || ls.Changes != 2 {
				return fmt.Errorf("level %+v, want set once and cleared once", ls)
			}
			return errors.Join(m.settled(n, 2*n), m.detached(&f, func() error {
				f.Set()
				return f.Wait(ctx)
			}))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := within(t, c.name, func() error {
				return tock.Run(context.Background(), func(ctx context.Context) error {
					return c.body(ctx, newRealMons(ctx))
				})
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A Channel's Receive leaves the Queue monitor it was counted in, and
// records its wait in the tally it started with, even if Watch replaced
// the monitors while it waited: the old ones end consistent (back at 0),
// the new ones record nothing of it.
func TestWatchChannelReceiveKeepsItsMonitors(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		c := tock.NewChannel[int]()
		oldQ, newQ := tock.NewMonitor(ctx, 0), tock.NewMonitor(ctx, 0)
		var oldW, newW tock.Tally
		c.Watch(&tock.Monitors{Queue: oldQ, Wait: &oldW})
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			_, err := c.Receive(ctx)
			return err
		})
		tock.Sleep(ctx, time.Second) // the Receive waits from 0 s
		c.Watch(&tock.Monitors{Queue: newQ, Wait: &newW})
		if err := errors.Join(c.Put(ctx, 1), g.Wait()); err != nil {
			return err
		}
		if s := oldQ.Stats(); s.Value != 0 || s.Max != 1 || s.Changes != 2 {
			t.Errorf("the monitor the Receive was counted in: %+v", s)
		}
		if s := newQ.Stats(); s.Changes != 0 || s.Max != 0 {
			t.Errorf("the monitor attached while it waited: %+v", s)
		}
		if o, n := oldW.Stats(), newW.Stats(); o.Count != 1 || o.Max != 1 || n.Count != 0 {
			t.Errorf("waits: old %+v, new %+v", o, n)
		}
		return nil
	})
}
