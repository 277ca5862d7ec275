package tock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// A dispatcher written against tock.Acquirer (here a *tock.Semaphore) takes a
// slot before it starts each job, and the job's own task gives the slot back:
// an Acquirer's tokens are not owned by the task that took them.
func ExampleAcquirer() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		dispatch := func(ctx context.Context, slots tock.Acquirer, jobs ...string) error {
			g := tock.NewGroup(ctx)
			for _, job := range jobs {
				if err := slots.Acquire(ctx); err != nil { // the dispatcher waits, not the jobs
					g.Cancel()
					return errors.Join(err, g.Wait())
				}
				fmt.Printf("+%v: start %s\n", tock.Now(ctx).Sub(sim.DefaultStart), job)
				g.Go(func(ctx context.Context) error {
					defer slots.Release() // released by the job's task
					return tock.Sleep(ctx, time.Second)
				})
			}
			return g.Wait()
		}
		return dispatch(ctx, tock.NewSemaphore(2), "a", "b", "c", "d", "e")
	})
	// Output:
	// +0s: start a
	// +0s: start b
	// +1s: start c
	// +1s: start d
	// +2s: start e
}

// A second reader of a connection that a pump task is reading gets a
// *tock.BusyResourceError at once; errors.As finds it, and the caller can
// try again once the pump is done.
func ExampleBusyResourceError() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		conn := tock.NewResourceGuard("reading from")
		read := func(ctx context.Context) error {
			if err := conn.Enter(); err != nil {
				return fmt.Errorf("read: %w", err)
			}
			defer conn.Exit()
			return tock.Sleep(ctx, time.Second) // a slow read
		}
		g := tock.NewGroup(ctx)
		g.Go(read, tock.Name("pump"))
		tock.Sleep(ctx, 500*time.Millisecond)
		err := read(ctx)
		var busy *tock.BusyResourceError
		if errors.As(err, &busy) {
			fmt.Printf("+%v: busy (action %q): %v\n", tock.Now(ctx).Sub(sim.DefaultStart), busy.Action, err)
		}
		if err := g.Wait(); err != nil {
			return err
		}
		err = read(ctx)
		fmt.Printf("+%v: after the pump: %v\n", tock.Now(ctx).Sub(sim.DefaultStart), err)
		return err
	})
	// Output:
	// +500ms: busy (action "reading from"): read: another task is already reading from this resource
	// +2s: after the pump: <nil>
}

// Stats names who holds a CapacityLimiter's tokens, by task name and in the
// order they got them, and how many borrowers wait: what a status page shows.
func ExampleCapacityLimiterStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		conns := tock.NewCapacityLimiter(2)
		g := tock.NewGroup(ctx)
		for i := 1; i <= 3; i++ {
			g.Go(func(ctx context.Context) error {
				if err := conns.Acquire(ctx); err != nil {
					return err
				}
				defer conns.Release(ctx)
				return tock.Sleep(ctx, 10*time.Second)
			}, tock.Name(fmt.Sprintf("fetch-%d", i)))
		}
		for range 2 {
			tock.Sleep(ctx, 5*time.Second)
			s := conns.Stats()
			fmt.Printf("+%v: %d of %d borrowed by %v, %d waiting\n",
				tock.Now(ctx).Sub(sim.DefaultStart), s.Borrowed, s.Total, s.Borrowers, s.Waiting)
			tock.Sleep(ctx, 5*time.Second)
		}
		return g.Wait()
	})
	// Output:
	// +5s: 2 of 2 borrowed by [fetch-1 fetch-2], 1 waiting
	// +15s: 1 of 2 borrowed by [fetch-3], 0 waiting
}

// Stats of a Condition tell how many tasks wait for a notification; once
// notified, they no longer count there, but queue for the lock instead.
func ExampleConditionStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		cond := tock.NewCondition(nil)
		open := false
		g := tock.NewGroup(ctx)
		for range 3 {
			g.Go(func(ctx context.Context) error {
				if err := cond.Lock(ctx); err != nil {
					return err
				}
				defer cond.Unlock(ctx)
				return cond.WaitFor(ctx, func() bool { return open })
			})
		}
		tock.Sleep(ctx, time.Second)
		s := cond.Stats()
		fmt.Printf("%d waiting for a notification; lock held: %v\n", s.Waiting, s.Lock.Locked)

		cond.Lock(ctx)
		open = true
		cond.NotifyAll(ctx)
		s = cond.Stats()
		fmt.Printf("%d waiting for a notification; %d queued for the lock, held by main: %v\n",
			s.Waiting, s.Lock.Waiting, s.Lock.Owner == tock.TaskID(ctx))
		cond.Unlock(ctx)
		return g.Wait()
	})
	// Output:
	// 3 waiting for a notification; lock held: false
	// 0 waiting for a notification; 3 queued for the lock, held by main: true
}

// A full silo: Stats shows the harvester's Put waiting for room until a truck
// takes grain out.
func ExampleContainerStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		silo := tock.NewContainer(100, 90)
		show := func(ctx context.Context) {
			s := silo.Stats()
			fmt.Printf("+%v: %g/%g t, %d put(s) and %d get(s) waiting\n",
				tock.Now(ctx).Sub(sim.DefaultStart), s.Level, s.Capacity, s.WaitingPuts, s.WaitingGets)
		}
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return silo.Put(ctx, 30) }, tock.Name("harvester"))
		tock.Sleep(ctx, time.Hour)
		show(ctx)
		if err := silo.Get(ctx, 40); err != nil { // the truck
			return err
		}
		if err := g.Wait(); err != nil {
			return err
		}
		show(ctx)
		return nil
	})
	// Output:
	// +1h0m0s: 90/100 t, 1 put(s) and 0 get(s) waiting
	// +1h0m0s: 80/100 t, 0 put(s) and 0 get(s) waiting
}

// A starter looks every second how many runners wait at the line
// (EventStats.Waiting), and fires the gun once all three do.
func ExampleEventStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		var gun tock.Event
		g := tock.NewGroup(ctx)
		for i := range 3 {
			g.Go(func(ctx context.Context) error {
				// runner i reaches the line at +0.5s, +1.5s, +2.5s
				if err := tock.Sleep(ctx, time.Duration(i)*time.Second+500*time.Millisecond); err != nil {
					return err
				}
				return gun.Wait(ctx)
			})
		}
		for {
			if err := tock.Sleep(ctx, time.Second); err != nil {
				return err
			}
			n := gun.Stats().Waiting
			fmt.Printf("+%v: %d at the line\n", tock.Now(ctx).Sub(sim.DefaultStart), n)
			if n == 3 {
				break
			}
		}
		gun.Set()
		fmt.Println("after Set:", gun.Stats().Waiting, "waiting")
		return g.Wait()
	})
	// Output:
	// +1s: 1 at the line
	// +2s: 2 at the line
	// +3s: 3 at the line
	// after Set: 0 waiting
}

// A worker written against tock.Getter takes values from any source that
// hands each one to one caller: a FIFO *tock.Queue, or a priority queue.
func ExampleGetter() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		work := func(ctx context.Context, tickets tock.Getter[int]) error {
			var done []int
			for {
				t, err := tickets.Get(ctx)
				if errors.Is(err, tock.ErrStreamClosed) {
					fmt.Println(done)
					return nil
				}
				if err != nil {
					return err
				}
				done = append(done, t)
			}
		}
		fifo := tock.NewQueue[int]()
		urgentFirst := tock.NewPriorityQueue(func(a, b int) bool { return a < b })
		for _, q := range []*tock.Queue[int]{fifo, urgentFirst} {
			for _, t := range []int{3, 1, 2} {
				q.Put(ctx, t)
			}
			q.Close()
			if err := work(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	// Output:
	// [3 1 2]
	// [1 2 3]
}

// A query function written against tock.Limiter borrows one token per task
// from a *tock.CapacityLimiter; raising the limiter's total at run time lets
// the waiting queries in without the function knowing.
func ExampleLimiter() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		query := func(ctx context.Context, db tock.Limiter) error {
			if err := db.Acquire(ctx); err != nil {
				return err
			}
			defer db.Release(ctx)
			fmt.Printf("+%v: %s runs\n", tock.Now(ctx).Sub(sim.DefaultStart), tock.TaskName(ctx))
			return tock.Sleep(ctx, 2*time.Second)
		}
		pool := tock.NewCapacityLimiter(1)
		g := tock.NewGroup(ctx)
		for _, name := range []string{"q1", "q2", "q3"} {
			g.Go(func(ctx context.Context) error { return query(ctx, pool) }, tock.Name(name))
		}
		tock.Sleep(ctx, time.Second)
		pool.SetTotal(3)
		return g.Wait()
	})
	// Output:
	// +0s: q1 runs
	// +1s: q2 runs
	// +1s: q3 runs
}

// Stats while a task waits for the Lock: who owns it (compare Owner with
// TaskID), how many times, and how many tasks wait.
func ExampleLockStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		var mu tock.Lock
		mu.Lock(ctx)
		mu.Lock(ctx) // re-entered: depth 2
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			if err := mu.Lock(ctx); err != nil {
				return err
			}
			defer mu.Unlock(ctx)
			fmt.Printf("+%v: worker has the lock\n", tock.Now(ctx).Sub(sim.DefaultStart))
			return nil
		})
		tock.Sleep(ctx, time.Second)
		s := mu.Stats()
		fmt.Printf("locked: %v, by main: %v, depth %d, %d waiting\n",
			s.Locked, s.Owner == tock.TaskID(ctx), s.Depth, s.Waiting)
		mu.Unlock(ctx)
		mu.Unlock(ctx)
		return g.Wait()
	})
	// Output:
	// locked: true, by main: true, depth 2, 1 waiting
	// +1s: worker has the lock
}

// A Monitor attached to a Container follows its level at every Put and Get;
// its Stats weigh each level by how long it lasted.
func ExampleMonitorStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		tank := tock.NewContainer(100, 50)
		level := tock.NewMonitor(ctx, tank.Level())
		tank.Monitor(level)
		tock.Sleep(ctx, time.Hour)
		tank.Get(ctx, 40) // 10 left for an hour
		tock.Sleep(ctx, time.Hour)
		tank.Put(ctx, 90) // full for two hours
		tock.Sleep(ctx, 2*time.Hour)
		s := level.Stats()
		fmt.Printf("over %v: mean %.1f, std dev %.1f, min %g, max %g, now %g, %d changes\n",
			s.Duration, s.Mean, s.StdDev, s.Min, s.Max, s.Value, s.Changes)
		return nil
	})
	// Output:
	// over 4h0m0s: mean 65.0, std dev 37.7, min 10, max 100, now 100, 2 changes
}

// Two subscribers too slow to read a burst of five, each with room for two:
// DropOldest keeps the two most recent messages, DropNewest the two oldest.
func ExampleOverflow() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		ticks := tock.NewChannel[int]()
		policies := []tock.Overflow{tock.DropOldest, tock.DropNewest}
		var subs []*tock.Subscription[int]
		for _, p := range policies {
			subs = append(subs, ticks.Subscribe(tock.MaxBuffer(2, p)))
		}
		for i := 1; i <= 5; i++ {
			ticks.Put(ctx, i)
		}
		ticks.Close()
		for i, sub := range subs {
			var kept []int
			for v := range sub.All(ctx) {
				kept = append(kept, v)
			}
			fmt.Printf("%s: kept %v, dropped %d\n",
				[]string{"DropOldest", "DropNewest"}[i], kept, sub.Stats().Dropped)
		}
		return nil
	})
	// Output:
	// DropOldest: kept [4 5], dropped 3
	// DropNewest: kept [1 2], dropped 3
}

// A Permit's Context ends when the permit is released: work started under it
// (a lease keep-alive here) stops with it.
func ExamplePermit() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		printer := tock.NewPriorityLimiter(1)
		p, err := printer.Acquire(ctx, 5)
		if err != nil {
			return err
		}
		g := tock.NewGroup(p.Context())
		g.Go(func(ctx context.Context) error {
			for {
				if err := tock.Sleep(ctx, time.Second); err != nil {
					fmt.Printf("+%v: keep-alive stops: %v\n", tock.Now(ctx).Sub(sim.DefaultStart), err)
					return nil
				}
				fmt.Printf("+%v: keep-alive\n", tock.Now(ctx).Sub(sim.DefaultStart))
			}
		})
		tock.Sleep(ctx, 2500*time.Millisecond) // the print job
		fmt.Printf("priority %d, preempted: %v\n", p.Priority(), p.Preempted())
		p.Release()
		return g.Wait()
	})
	// Output:
	// +1s: keep-alive
	// +2s: keep-alive
	// priority 5, preempted: false
	// +2.5s: keep-alive stops: context canceled
}

// Stats while two downloads share a 100 MB/s link: each asked for 80 MB/s,
// more than the link has for both, so each gets 50.
func ExamplePipeStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		link := tock.NewPipe(100)
		g := tock.NewGroup(ctx)
		for range 2 {
			g.Go(func(ctx context.Context) error { return link.TransferAt(ctx, 200, 80) })
		}
		tock.Sleep(ctx, time.Second)
		s := link.Stats()
		fmt.Printf("%d active, %g of %g MB/s in use\n", s.Active, s.Rate, s.Throughput)
		err := g.Wait()
		fmt.Printf("both done at +%v\n", tock.Now(ctx).Sub(sim.DefaultStart))
		return err
	})
	// Output:
	// 2 active, 100 of 100 MB/s in use
	// both done at +4s
}

// The same workload with and without the Preemptive option: without it, the
// urgent job waits for the routine one to finish; with it, it starts at once.
func ExamplePriorityLimiterOption() {
	run := func(opts ...tock.PriorityLimiterOption) {
		sim.Run(context.Background(), func(ctx context.Context) error {
			cpu := tock.NewPriorityLimiter(1, opts...)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				p, err := cpu.Acquire(ctx, 10) // routine
				if err != nil {
					return err
				}
				defer p.Release()
				tock.Sleep(p.Context(), time.Minute) // cut short by a preemption
				return nil
			})
			tock.Sleep(ctx, 10*time.Second)
			p, err := cpu.Acquire(ctx, 0) // urgent
			if err != nil {
				return err
			}
			fmt.Printf("urgent job starts at +%v\n", tock.Now(ctx).Sub(sim.DefaultStart))
			p.Release()
			return g.Wait()
		})
	}
	fmt.Print("default: ")
	run()
	fmt.Print("Preemptive: ")
	run(tock.Preemptive())
	// Output:
	// default: urgent job starts at +1m0s
	// Preemptive: urgent job starts at +10s
}

// Stats of a PriorityLimiter while a caller waits with AcquireTimeout: it
// counts among the waiters until it gives up.
func ExamplePriorityLimiterStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		bays := tock.NewPriorityLimiter(2)
		show := func(ctx context.Context) {
			s := bays.Stats()
			fmt.Printf("+%v: %d of %d in use, %d waiting\n",
				tock.Now(ctx).Sub(sim.DefaultStart), s.InUse, s.Total, s.Waiting)
		}
		g := tock.NewGroup(ctx)
		for range 3 {
			g.Go(func(ctx context.Context) error {
				p, err := bays.Acquire(ctx, 1)
				if err != nil {
					return err
				}
				defer p.Release()
				return tock.Sleep(p.Context(), time.Hour)
			})
		}
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, time.Minute)
			show(ctx)
			return nil
		})
		tock.Sleep(ctx, time.Second)
		_, err := bays.AcquireTimeout(ctx, 0, 5*time.Minute)
		fmt.Printf("+%v: gave up: %v\n", tock.Now(ctx).Sub(sim.DefaultStart), err)
		show(ctx)
		return g.Wait()
	})
	// Output:
	// +1m0s: 2 of 2 in use, 2 waiting
	// +5m1s: gave up: context deadline exceeded
	// +5m1s: 2 of 2 in use, 1 waiting
}

// A logger written against tock.Putter writes to a *tock.Queue (one consumer
// will get each line) or to a *tock.Channel (every subscriber gets each line).
func ExamplePutter() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		logTo := func(ctx context.Context, out tock.Putter[string], lines ...string) error {
			for _, l := range lines {
				if err := out.Put(ctx, l); err != nil {
					return err
				}
			}
			return nil
		}
		q := tock.NewQueue[string]()
		logTo(ctx, q, "start", "stop")
		fmt.Println("the queue holds", q.Len(), "lines")

		ch := tock.NewChannel[string]()
		a, b := ch.Subscribe(), ch.Subscribe()
		logTo(ctx, ch, "start", "stop")
		fmt.Println("the subscribers hold", a.Stats().Buffered, "and", b.Stats().Buffered, "lines")
		ch.Close()
		fmt.Println("after Close:", logTo(ctx, ch, "late"))
		return nil
	})
	// Output:
	// the queue holds 2 lines
	// the subscribers hold 2 and 2 lines
	// after Close: tock: stream closed
}

// A consumer that has seen enough closes its ReceiveStream: the producer's
// next Send fails with ErrBrokenResource, and the items left in the buffer are
// dropped and counted.
func ExampleReceiveStream() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		send, recv := tock.NewStream[int](2)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			defer send.Close()
			for i := 1; ; i++ {
				if err := send.Send(ctx, i); err != nil {
					fmt.Printf("producer stops at item %d: %v\n", i, err)
					return nil
				}
			}
		})
		for range 3 {
			v, err := recv.Receive(ctx)
			if err != nil {
				return err
			}
			fmt.Printf("+%v: got %d\n", tock.Now(ctx).Sub(sim.DefaultStart), v)
			tock.Sleep(ctx, time.Second) // handling it; the producer fills the buffer
		}
		recv.Close()
		err := g.Wait()
		fmt.Println("discarded:", recv.Stats().Discarded)
		return err
	})
	// Output:
	// +0s: got 1
	// +1s: got 2
	// +2s: got 3
	// producer stops at item 6: tock: every receiver is closed
	// discarded: 2
}

// A function written against tock.Receiver waits for a message. Given a
// *tock.Subscription it sees a message put before it started waiting; given
// the *tock.Channel itself, only the messages put while it waits.
func ExampleReceiver() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		awaitReady := func(ctx context.Context, from string, r tock.Receiver[string]) error {
			for {
				s, err := r.Receive(ctx)
				if err != nil {
					return err
				}
				if s == "ready" {
					fmt.Printf("%s: ready at +%v\n", from, tock.Now(ctx).Sub(sim.DefaultStart))
					return nil
				}
			}
		}
		status := tock.NewChannel[string]()
		sub := status.Subscribe()
		defer sub.Close()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			status.Put(ctx, "ready")
			tock.Sleep(ctx, 5*time.Second)
			return status.Put(ctx, "ready") // again, after a restart
		})
		tock.Sleep(ctx, time.Second)
		if err := awaitReady(ctx, "subscription", sub); err != nil {
			return err
		}
		if err := awaitReady(ctx, "channel", status); err != nil {
			return err
		}
		return g.Wait()
	})
	// Output:
	// subscription: ready at +1s
	// channel: ready at +5s
}

// Cases are values, so a Select can be built at run time: a dispatcher makes
// one OnSend case per worker and hands each job to whichever worker is free
// first. The cases that lose send nothing.
func ExampleSelectCase() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		var workers []*tock.SendStream[string]
		for i, speed := range []time.Duration{time.Second, 3 * time.Second} {
			send, recv := tock.NewStream[string](0)
			workers = append(workers, send)
			g.Go(func(ctx context.Context) error {
				defer recv.Close()
				for range recv.All(ctx) {
					if err := tock.Sleep(ctx, speed); err != nil {
						return err
					}
				}
				return nil
			}, tock.Name(fmt.Sprintf("worker %d", i)))
		}
		for _, job := range []string{"a", "b", "c", "d", "e"} {
			var cases []tock.SelectCase
			for _, w := range workers {
				cases = append(cases, tock.OnSend(w, job, nil))
			}
			i, err := tock.Select(ctx, cases...)
			if err != nil {
				return err
			}
			fmt.Printf("+%v: %s to worker %d\n", tock.Now(ctx).Sub(sim.DefaultStart), job, i)
		}
		for _, w := range workers {
			w.Close()
		}
		return g.Wait()
	})
	// Output:
	// +0s: a to worker 0
	// +0s: b to worker 1
	// +1s: c to worker 0
	// +2s: d to worker 0
	// +3s: e to worker 1
}

// MaxValue turns a double Release into a panic at the faulty call, instead of
// a semaphore that silently lets one more job in from then on.
func ExampleSemaphoreOption() {
	opts := []tock.SemaphoreOption{tock.MaxValue(2)}
	slots := tock.NewSemaphore(2, opts...)
	release := func() (msg any) {
		defer func() { msg = recover() }()
		slots.Release()
		return nil
	}
	slots.TryAcquire()
	fmt.Println("first release:", release())
	fmt.Println("second release:", release())
	fmt.Println("value:", slots.Value())
	// Output:
	// first release: <nil>
	// second release: tock: Semaphore.Release: released too many times (the maximum value is 2)
	// value: 2
}

// Stats while jobs queue for a single slot.
func ExampleSemaphoreStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		slot := tock.NewSemaphore(1, tock.MaxValue(1))
		show := func() {
			s := slot.Stats()
			fmt.Printf("value %d (max %d: %v), %d waiting\n", s.Value, s.MaxValue, s.HasMax, s.Waiting)
		}
		g := tock.NewGroup(ctx)
		for range 3 {
			g.Go(func(ctx context.Context) error {
				if err := slot.Acquire(ctx); err != nil {
					return err
				}
				defer slot.Release()
				return tock.Sleep(ctx, time.Second)
			})
		}
		tock.Sleep(ctx, 500*time.Millisecond)
		show()
		err := g.Wait()
		show()
		return err
	})
	// Output:
	// value 0 (max 1: true), 2 waiting
	// value 1 (max 1: true), 0 waiting
}

// A producer that must not block (it reads a sensor on its own schedule) uses
// TrySend and sheds readings while the consumer is behind and the buffer full.
func ExampleSendStream() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		send, recv := tock.NewStream[int](1)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			defer recv.Close()
			for v := range recv.All(ctx) {
				fmt.Printf("+%v: consumer takes %d\n", tock.Now(ctx).Sub(sim.DefaultStart), v)
				if err := tock.Sleep(ctx, time.Second); err != nil {
					return err
				}
			}
			return nil
		})
		for i := 1; i <= 5; i++ {
			if err := tock.Sleep(ctx, 400*time.Millisecond); err != nil {
				return err
			}
			if err := send.TrySend(i); errors.Is(err, tock.ErrWouldBlock) {
				fmt.Printf("+%v: shed %d\n", tock.Now(ctx).Sub(sim.DefaultStart), i)
			} else if err != nil {
				return err
			}
		}
		send.Close() // the consumer drains the buffer, then the stream ends
		return g.Wait()
	})
	// Output:
	// +400ms: consumer takes 1
	// +1.2s: shed 3
	// +1.4s: consumer takes 2
	// +2s: shed 5
	// +2.4s: consumer takes 4
}

// Stats while the consumer has not started: the buffer is full and both
// producers wait in Send. Once it has drained the stream, every send handle
// is closed.
func ExampleStreamStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		send, recv := tock.NewStream[string](1)
		g := tock.NewGroup(ctx)
		for _, name := range []string{"left", "right"} {
			mine := send.Clone()
			g.Go(func(ctx context.Context) error {
				defer mine.Close()
				for i := range 2 {
					if err := mine.Send(ctx, fmt.Sprint(name, i)); err != nil {
						return err
					}
				}
				return nil
			})
		}
		send.Close()
		tock.Sleep(ctx, time.Second)
		fmt.Printf("%+v\n", recv.Stats())
		n := 0
		for range recv.All(ctx) {
			n++
		}
		fmt.Printf("%d items, then %+v\n", n, recv.Stats())
		return g.Wait()
	})
	// Output:
	// {BufferUsed:1 MaxBuffer:1 OpenSendStreams:2 OpenReceiveStreams:1 WaitingSend:2 WaitingReceive:0 Discarded:0}
	// 4 items, then {BufferUsed:0 MaxBuffer:1 OpenSendStreams:0 OpenReceiveStreams:1 WaitingSend:0 WaitingReceive:0 Discarded:0}
}

// A Subscription buffers every message from the moment it is made: a
// subscriber busy with one message misses none of those put meanwhile.
func ExampleSubscription() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		orders := tock.NewChannel[string]()
		sub := orders.Subscribe()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			defer sub.Close()
			for {
				o, err := sub.Receive(ctx)
				if errors.Is(err, tock.ErrStreamClosed) {
					return nil // closed and drained
				}
				if err != nil {
					return err
				}
				fmt.Printf("+%v: packing %s\n", tock.Now(ctx).Sub(sim.DefaultStart), o)
				if err := tock.Sleep(ctx, time.Minute); err != nil {
					return err
				}
			}
		})
		for _, o := range []string{"#1", "#2", "#3"} { // a burst
			orders.Put(ctx, o)
		}
		orders.Close()
		return g.Wait()
	})
	// Output:
	// +0s: packing #1
	// +1m0s: packing #2
	// +2m0s: packing #3
}

// Subscribe takes options: a dashboard that only shows the latest reading
// keeps one message (MaxBuffer(1, DropOldest)); an auditor that needs them
// all subscribes with none (unbounded).
func ExampleSubscriptionOption() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		readings := tock.NewChannel[int]()
		g := tock.NewGroup(ctx)
		watch := func(name string, opts ...tock.SubscriptionOption) {
			sub := readings.Subscribe(opts...)
			g.Go(func(ctx context.Context) error {
				defer sub.Close()
				tock.Sleep(ctx, time.Minute) // busy while the readings come in
				var got []int
				for v := range sub.All(ctx) {
					got = append(got, v)
				}
				fmt.Println(name, got)
				return nil
			})
		}
		watch("dashboard", tock.MaxBuffer(1, tock.DropOldest))
		watch("audit")
		for t := 20; t <= 24; t++ {
			readings.Put(ctx, t)
		}
		readings.Close()
		return g.Wait()
	})
	// Output:
	// dashboard [24]
	// audit [20 21 22 23 24]
}

// A health check reads a slow subscriber's Stats: how far behind it is, and
// how many messages its bounded buffer has dropped so far.
func ExampleSubscriptionStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		prices := tock.NewChannel[int]()
		sub := prices.Subscribe(tock.MaxBuffer(3, tock.DropOldest))
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			defer sub.Close()
			for range sub.All(ctx) {
				if err := tock.Sleep(ctx, time.Second); err != nil { // slow
					return err
				}
			}
			return nil
		})
		for i := 1; i <= 8; i++ {
			tock.Sleep(ctx, 250*time.Millisecond)
			prices.Put(ctx, 100+i)
			if i%4 == 0 {
				s := sub.Stats()
				fmt.Printf("+%v: %d buffered, %d dropped\n", tock.Now(ctx).Sub(sim.DefaultStart), s.Buffered, s.Dropped)
			}
		}
		prices.Close()
		return g.Wait()
	})
	// Output:
	// +1s: 3 buffered, 0 dropped
	// +2s: 3 buffered, 3 dropped
}

// The distribution of the times a request spends at a single server (waiting
// and then served for one second), as TallyStats gives it.
func ExampleTallyStats() {
	fmt.Printf("empty: %+v\n", new(tock.Tally).Stats())
	sim.Run(context.Background(), func(ctx context.Context) error {
		var response tock.Tally
		server := tock.NewSemaphore(1)
		g := tock.NewGroup(ctx)
		for range 4 {
			g.Go(func(ctx context.Context) error {
				arrived := tock.Now(ctx)
				if err := server.Acquire(ctx); err != nil {
					return err
				}
				defer server.Release()
				if err := tock.Sleep(ctx, time.Second); err != nil {
					return err
				}
				response.AddDuration(tock.Now(ctx).Sub(arrived))
				return nil
			})
		}
		err := g.Wait()
		s := response.Stats()
		fmt.Printf("%d requests: mean %.2fs, std dev %.2fs, min %gs, max %gs\n", s.Count, s.Mean, s.StdDev, s.Min, s.Max)
		return err
	})
	// Output:
	// empty: {Count:0 Mean:0 StdDev:0 Min:0 Max:0}
	// 4 requests: mean 2.50s, std dev 1.29s, min 1s, max 4s
}

// The zero TaskOption changes nothing, so a helper can always pass one,
// whether or not it has a name to give; of several names, the last wins.
func ExampleTaskOption() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		report := func(ctx context.Context) error {
			fmt.Println(tock.TaskName(ctx))
			return nil
		}
		spawn := func(name string) {
			var opt tock.TaskOption // no name
			if name != "" {
				opt = tock.Name(name)
			}
			g.Go(report, opt)
		}
		spawn("indexer")
		spawn("")
		g.Go(report, tock.Name("draft"), tock.Name("final"))
		return g.Wait()
	})
	// Output:
	// indexer
	// task 3
	// final
}

// Stats().Waiting counts the tasks blocked in WaitUntil: here three alarms
// on a water level, of which a rise to 2.5 m wakes two.
func ExampleTrackedStats() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		level := tock.NewTracked(0.0)
		g := tock.NewGroup(ctx)
		for _, mark := range []float64{1, 2, 3} {
			g.Go(func(ctx context.Context) error {
				v, err := level.WaitUntil(ctx, func(l float64) bool { return l >= mark })
				fmt.Printf("+%v: alarm %g m (level %g m)\n", tock.Now(ctx).Sub(sim.DefaultStart), mark, v)
				return err
			})
		}
		tock.Sleep(ctx, time.Minute)
		fmt.Println("alarms armed:", level.Stats().Waiting)
		level.Set(2.5)
		fmt.Println("alarms armed:", level.Stats().Waiting)
		tock.Sleep(ctx, time.Minute)
		level.Set(3.2)
		return g.Wait()
	})
	// Output:
	// alarms armed: 3
	// alarms armed: 1
	// +1m0s: alarm 1 m (level 2.5 m)
	// +1m0s: alarm 2 m (level 2.5 m)
	// +2m0s: alarm 3 m (level 3.2 m)
}

// A function written against tock.Waiter waits for any one-shot condition,
// here an *Event, and gives up at its ctx's deadline.
func ExampleWaiter() {
	sim.Run(context.Background(), func(ctx context.Context) error {
		serveWhen := func(ctx context.Context, name string, loaded tock.Waiter) {
			ctx, cancel := tock.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			err := loaded.Wait(ctx)
			fmt.Printf("+%v: %s: %v\n", tock.Now(ctx).Sub(sim.DefaultStart), name, err)
		}
		var users, orders tock.Event
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			tock.Sleep(ctx, 2*time.Second)
			users.Set() // the orders cache never loads
			return nil
		})
		g.Go(func(ctx context.Context) error { serveWhen(ctx, "users", &users); return nil })
		g.Go(func(ctx context.Context) error { serveWhen(ctx, "orders", &orders); return nil })
		return g.Wait()
	})
	// Output:
	// +2s: users: <nil>
	// +5s: orders: context deadline exceeded
}
