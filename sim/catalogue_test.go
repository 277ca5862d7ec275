package sim_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// The catalogue: classic concurrency bugs as small tock programs. Each one
// passes under the default FIFO run (TestCataloguePassesFIFO) and fails
// under some other interleaving, which Explore finds, shrinks and replays
// (TestCatalogueExploreFinds). TestCatalogueTable computes the README table.
//
// Every program makes its state inside main: Explore runs main in several
// simulations at once.

type bug struct {
	name string
	what string
	kind string // how it fails: "error", "panic" or "deadlock"
	opts []sim.Option
	main func(ctx context.Context) error
}

var catalogue = []bug{
	{
		name: "check-then-act",
		what: "Lock.Available, then a checkpoint, then TryLock: another task takes the lock in between",
		kind: "error",
		main: func(ctx context.Context) error {
			var l tock.Lock
			g := tock.NewGroup(ctx)
			worker := func(ctx context.Context) error {
				if !l.Available(ctx) {
					return nil // someone else does the work
				}
				if err := tock.Yield(ctx); err != nil { // e.g. preparing the work
					return err
				}
				if !l.TryLock(ctx) {
					return errors.New("check-then-act: the lock was available, then TryLock failed")
				}
				defer l.Unlock(ctx)
				return tock.Sleep(ctx, time.Millisecond)
			}
			g.Go(worker)
			if err := tock.Yield(ctx); err != nil {
				return err
			}
			g.Go(worker)
			return g.Wait()
		},
	},
	{
		name: "condition-if",
		what: "Condition.Wait under `if` instead of a predicate loop: NotifyAll wakes two consumers for one item",
		kind: "error",
		main: func(ctx context.Context) error {
			c := tock.NewCondition(nil)
			var items []int
			consume := func(ctx context.Context) error {
				if err := c.Lock(ctx); err != nil {
					return err
				}
				defer c.Unlock(ctx)
				if len(items) == 0 { // the bug: `if`, not `for`
					if err := c.Wait(ctx); err != nil {
						return err
					}
				}
				if len(items) == 0 {
					return errors.New("condition-if: woken, but there is nothing to take")
				}
				items = items[1:]
				return nil
			}
			g := tock.NewGroup(ctx)
			g.Go(consume)
			g.Go(func(ctx context.Context) error {
				for i := range 2 {
					if err := c.Lock(ctx); err != nil {
						return err
					}
					items = append(items, i)
					c.NotifyAll(ctx)
					c.Unlock(ctx)
					if err := tock.Sleep(ctx, time.Millisecond); err != nil {
						return err
					}
				}
				return nil
			})
			g.Go(func(ctx context.Context) error {
				if err := tock.Yield(ctx); err != nil { // arrives a little later
					return err
				}
				return consume(ctx)
			})
			return g.Wait()
		},
	},
	{
		name: "lost-update",
		what: "two read-modify-write tasks with a checkpoint (a Queue.Put to a log) between the read and the write",
		kind: "error",
		main: func(ctx context.Context) error {
			counter := 0
			log := tock.NewQueue[string]()
			inc := func(ctx context.Context) error {
				v := counter
				if err := log.Put(ctx, "read"); err != nil {
					return err
				}
				counter = v + 1
				return nil
			}
			g := tock.NewGroup(ctx)
			g.Go(inc)
			g.Go(func(ctx context.Context) error {
				if err := log.Put(ctx, "start"); err != nil {
					return err
				}
				return inc(ctx)
			})
			if err := g.Wait(); err != nil {
				return err
			}
			if counter != 2 {
				return fmt.Errorf("lost-update: counter is %d after two increments", counter)
			}
			return nil
		},
	},
	{
		name: "late-subscriber",
		what: "a Channel message put before the receiver subscribed is dropped; the receiver waits forever",
		kind: "deadlock",
		main: func(ctx context.Context) error {
			ch := tock.NewChannel[string]()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				sub := ch.Subscribe()
				defer sub.Close()
				_, err := sub.Receive(ctx)
				return err
			})
			g.Go(func(ctx context.Context) error { return ch.Put(ctx, "config") })
			return g.Wait()
		},
	},
	{
		name: "lock-order",
		what: "two tasks take two Locks in opposite orders; one interleaving deadlocks",
		kind: "deadlock",
		main: func(ctx context.Context) error {
			var a, b tock.Lock
			both := func(ctx context.Context, first, second *tock.Lock) error {
				if err := first.Lock(ctx); err != nil {
					return err
				}
				defer first.Unlock(ctx)
				if err := tock.Yield(ctx); err != nil {
					return err
				}
				if err := second.Lock(ctx); err != nil {
					return err
				}
				second.Unlock(ctx)
				return nil
			}
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error { return both(ctx, &a, &b) })
			g.Go(func(ctx context.Context) error {
				if err := tock.Yield(ctx); err != nil {
					return err
				}
				return both(ctx, &b, &a)
			})
			return g.Wait()
		},
	},
	{
		name: "limiter-leak",
		what: "a CapacityLimiter token not released on the error path, reached only when a timeout races the reply at the same instant",
		kind: "error",
		main: func(ctx context.Context) error {
			lim := tock.NewCapacityLimiter(1)
			replies := tock.NewQueue[int]()
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				if err := lim.Acquire(ctx); err != nil {
					return err
				}
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				g.Go(func(ctx context.Context) error { // a 1s timeout
					if tock.Sleep(ctx, time.Second) == nil {
						cancel()
					}
					return nil
				})
				if _, err := replies.Get(cctx); err != nil {
					return nil // the bug: gave up, but kept the token
				}
				lim.Release(ctx)
				return nil
			})
			g.Go(func(ctx context.Context) error { // the reply comes at 1s
				if err := tock.Sleep(ctx, time.Second); err != nil {
					return err
				}
				return replies.Put(ctx, 42)
			})
			if err := g.Wait(); err != nil {
				return err
			}
			if n := lim.Borrowed(); n != 0 {
				return fmt.Errorf("limiter-leak: %d token(s) still borrowed after every task ended", n)
			}
			return nil
		},
	},
	{
		name: "init-race",
		what: "a flag says \"initialised\" before the value is stored; a reader in between dereferences nil",
		kind: "panic",
		main: func(ctx context.Context) error {
			type config struct{ limit int }
			var (
				ready bool
				cfg   *config
			)
			sem := tock.NewSemaphore(1)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				ready = true // the bug: published before cfg is set
				if err := sem.Acquire(ctx); err != nil {
					return err
				}
				defer sem.Release()
				cfg = &config{limit: 10}
				return nil
			})
			g.Go(func(ctx context.Context) error {
				if err := tock.Yield(ctx); err != nil {
					return err
				}
				if ready && cfg.limit < 1 {
					return errors.New("init-race: bad limit")
				}
				return nil
			})
			return g.Wait()
		},
	},
	{
		name: "close-while-sending",
		what: "two producers share one SendStream handle; the first to finish closes it while the other still sends",
		kind: "error",
		main: func(ctx context.Context) error {
			send, recv := tock.NewStream[int](tock.Unbounded)
			g := tock.NewGroup(ctx)
			got := 0
			g.Go(func(ctx context.Context) error {
				for range recv.All(ctx) {
					got++
				}
				return nil
			})
			g.Go(func(ctx context.Context) error {
				for i := range 2 {
					if err := send.Send(ctx, i); err != nil {
						return err
					}
				}
				send.Close() // the bug: the other producer still uses this handle
				return nil
			})
			g.Go(func(ctx context.Context) error {
				if err := send.Send(ctx, 100); err != nil {
					return fmt.Errorf("close-while-sending: %w", err)
				}
				return nil
			})
			if err := g.Wait(); err != nil {
				return err
			}
			if got != 3 {
				return fmt.Errorf("close-while-sending: received %d items, want 3", got)
			}
			return nil
		},
	},
	{
		name: "order-violation",
		what: "six workers report progress on a Queue; nothing makes the leader register before the first worker finishes, and FIFO happens to",
		kind: "error",
		main: func(ctx context.Context) error {
			progress := tock.NewQueue[int]()
			registered := false
			g := tock.NewGroup(ctx)
			for w := range 6 {
				g.Go(func(ctx context.Context) error {
					if w == 0 {
						registered = true // the leader registers first... under FIFO
					}
					for step := range 8 {
						if err := progress.Put(ctx, step); err != nil {
							return err
						}
					}
					if !registered {
						return fmt.Errorf("order-violation: worker %d finished before the leader registered", w)
					}
					return nil
				})
			}
			return g.Wait()
		},
	},
}

// TestCatalogue runs each bug as its own test would: sim.Test, FIFO only.
// It passes; with TOCK_SEED set to a seed that Explore reported for that bug
// it replays the failing schedule (and fails, as it should):
//
//	TOCK_SEED=tock1:AAEEAQ go test -run '^TestCatalogue$/^lost-update$' ./sim
func TestCatalogue(t *testing.T) {
	for _, b := range catalogue {
		t.Run(b.name, func(t *testing.T) { sim.Test(t, b.main, b.opts...) })
	}
}

// TestCatalogueTable computes the README's table of the catalogue: the
// schedules Explore needs to find each bug (median over 20 base seeds, with
// Random and with PCT(3)), the length of the shrunk failing schedule (events
// in its trace, and deviations from FIFO), and the line that replays it
// (base seed 1, Random). It is a generator, not a check (the checks are
// TestCataloguePassesFIFO and TestCatalogueExploreFinds), so it runs only
// when asked:
//
//	TOCK_CATALOGUE_TABLE=1 go test -run '^TestCatalogueTable$' -v ./sim
func TestCatalogueTable(t *testing.T) {
	if os.Getenv("TOCK_CATALOGUE_TABLE") == "" {
		t.Skip("set TOCK_CATALOGUE_TABLE=1 to compute the catalogue's table")
	}
	const seeds, limit = 20, 10000
	median := func(b bug, o sim.Option) string {
		var n []int
		for s := range uint64(seeds) {
			err := sim.Explore(context.Background(), b.main, append(slices.Clip(b.opts), o, sim.BaseSeed(s+1), sim.Schedules(limit))...)
			var se *sim.ScheduleError
			if errors.As(err, &se) {
				n = append(n, se.Schedule)
			} else {
				n = append(n, limit+1)
			}
		}
		slices.Sort(n)
		m := (n[seeds/2-1] + n[seeds/2]) / 2
		if m > limit {
			return fmt.Sprintf("> %d", limit)
		}
		return fmt.Sprint(m)
	}
	var out strings.Builder
	out.WriteString("| bug | what goes wrong | schedules to find it, Random | PCT(3) | shrunk trace: events (deviations) | replay |\n")
	out.WriteString("|---|---|---|---|---|---|\n")
	for _, b := range catalogue {
		var se *sim.ScheduleError
		if !errors.As(sim.Explore(context.Background(), b.main, append(slices.Clip(b.opts), sim.Random(), sim.Schedules(limit))...), &se) {
			t.Fatalf("%s: not found", b.name)
		}
		devs := len(sim.SeedDeviations(se.Seed))
		fmt.Fprintf(&out, "| %s | %s | %s | %s | %d (%d) | `TOCK_SEED=%s go test -run '^TestCatalogue$/^%s$' ./sim` |\n",
			b.name, b.what, median(b, sim.Random()), median(b, sim.PCT(3)), se.Events, devs, se.Seed, b.name)
	}
	fmt.Print(out.String())
}
