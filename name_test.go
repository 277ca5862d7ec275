package tock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// unlockPanic returns the panic of l.Unlock(ctx), or "no panic".
func unlockPanic(ctx context.Context, l *tock.Lock) (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	l.Unlock(ctx)
	return "no panic"
}

// defaultName reports whether name is a default task name, "task N".
func defaultName(name string) bool {
	n, ok := strings.CutPrefix(name, "task ")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

var _ = register(
	scenario{
		name: "names: TaskName of main, named and unnamed tasks",
		body: func(ctx context.Context, h *H) error {
			h.Log(ctx, "main is %q", tock.TaskName(ctx))
			h.Log(ctx, "background is %q", tock.TaskName(context.Background()))
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "named %q", tock.TaskName(ctx))
				// a context derived from a task's is that task's
				c, cancel := tock.WithTimeout(context.WithValue(ctx, ctxKey{}, 1), time.Hour)
				defer cancel()
				h.Log(ctx, "derived %q", tock.TaskName(c))
				return nil
			}, tock.Name("worker-3"))
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "last wins %q", tock.TaskName(ctx))
				return nil
			}, tock.Name("first"), tock.Name("second"), tock.Name(""), tock.TaskOption{})
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "unnamed is default %v", defaultName(tock.TaskName(ctx)))
				return nil
			}, tock.Name(""))
			if err := g.Start(func(ctx context.Context, started func()) error {
				started()
				h.Log(ctx, "started %q", tock.TaskName(ctx))
				return nil
			}, tock.Name("server")); err != nil {
				return err
			}
			return g.Wait()
		},
		sim: `0 main is "main"
			0 background is ""
			0 named "worker-3"
			0 derived "worker-3"
			0 last wins "second"
			0 unnamed is default true
			0 started "server"`,
	},
	scenario{
		// Lock.Unlock by a non-owner names both tasks, on both runtimes.
		name: "names: Lock.Unlock by a non-owner names the caller and the owner",
		body: func(ctx context.Context, h *H) error {
			var l, m tock.Lock
			var locked, tried tock.Event
			l.Lock(ctx)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				h.Log(ctx, "%s", unlockPanic(ctx, &l))
				m.Lock(ctx)
				locked.Set()
				if err := tried.Wait(ctx); err != nil {
					return err
				}
				m.Unlock(ctx)
				return nil
			}, tock.Name("intruder"))
			g.Go(func(ctx context.Context) error {
				if err := locked.Wait(ctx); err != nil {
					return err
				}
				h.Log(ctx, "%s", unlockPanic(ctx, &m))
				// A task-less ctx names the owner as the real runtime
				// knows it: by name on the real runtime; as "task <ID>"
				// for a simulated owner (the caller's ctx does not lead
				// to the simulation).
				msg := unlockPanic(context.Background(), &m) //tockvet:ignore the task-less unlock is the misuse under test
				want := "tock: Lock.Unlock: only the owner may unlock; called by an anonymous task, owned by intruder"
				if h.Sim {
					want = "tock: Lock.Unlock: only the owner may unlock; called by an anonymous task, owned by task " + fmt.Sprint(m.Stats().Owner)
				}
				h.Log(ctx, "anonymous as expected %v", msg == want)
				if msg != want {
					return errors.New(msg)
				}
				tried.Set()
				return nil
			}, tock.Name("other"))
			err := g.Wait()
			l.Unlock(ctx)
			return err
		},
		sim: `0 tock: Lock.Unlock: only the owner may unlock; called by intruder, owned by main
			0 tock: Lock.Unlock: only the owner may unlock; called by other, owned by intruder
			0 anonymous as expected true`,
		ordered: true,
	},
	scenario{
		// An unnamed task in a panic: "task N" (the count of the run's tasks
		// under simulation, the TaskID on the real runtime).
		name: "names: Lock.Unlock panic names an unnamed task task N",
		body: func(ctx context.Context, h *H) error {
			var l tock.Lock
			l.Lock(ctx)
			defer l.Unlock(ctx)
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				msg := unlockPanic(ctx, &l)
				want := "tock: Lock.Unlock: only the owner may unlock; called by task " + fmt.Sprint(tock.TaskID(ctx)) + ", owned by main"
				if tock.Simulated(ctx) {
					want = "tock: Lock.Unlock: only the owner may unlock; called by task 2, owned by main"
				}
				h.Log(ctx, "as expected %v", msg == want)
				if msg != want {
					return errors.New(msg)
				}
				return nil
			})
			return g.Wait()
		},
		sim: "0 as expected true",
	},
	scenario{
		name: "names: CapacityLimiter Stats names task borrowers",
		body: func(ctx context.Context, h *H) error {
			l := tock.NewCapacityLimiter(2)
			l.AcquireFor(ctx, "job-7")
			g := tock.NewGroup(ctx)
			g.Go(func(ctx context.Context) error {
				if err := l.Acquire(ctx); err != nil {
					return err
				}
				h.Log(ctx, "borrowers %v", l.Stats().Borrowers)
				l.Release(ctx)
				return nil
			}, tock.Name("worker-3"))
			return g.Wait()
		},
		sim: "0 borrowers [job-7 worker-3]",
	},
)

// Name names tasks; the names show in a simulation's deadlock report, with
// what each task waits on, who holds it, and the wait-for cycle first.
func ExampleName() {
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		var accounts, audit tock.Lock
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			accounts.Lock(ctx)
			defer accounts.Unlock(ctx)
			tock.Sleep(ctx, time.Millisecond)
			return audit.Lock(ctx)
		}, tock.Name("transfer"))
		g.Go(func(ctx context.Context) error {
			fmt.Println(tock.TaskName(ctx), "starts")
			audit.Lock(ctx)
			defer audit.Unlock(ctx)
			tock.Sleep(ctx, time.Millisecond)
			return accounts.Lock(ctx)
		}, tock.Name("report"))
		return g.Wait()
	})
	fmt.Println(err)
	// Output:
	// report starts
	// tock/sim: deadlock at 2000-01-01T00:00:00.001Z: 3 task(s) blocked; cycle: transfer -> report -> transfer
	// 	transfer waits on Lock.Lock, held by report
	// 	report waits on Lock.Lock, held by transfer
	// 	main waits on Group.Wait, for transfer, report
}

// TaskName is the name of the task in ctx; the task of tock.Run is "main".
func ExampleTaskName() {
	tock.Run(context.Background(), func(ctx context.Context) error {
		fmt.Println(tock.TaskName(ctx))
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			fmt.Println(tock.TaskName(ctx))
			return nil
		}, tock.Name("worker-3"))
		return g.Wait()
	})
	fmt.Printf("%q\n", tock.TaskName(context.Background()))
	// Output:
	// main
	// worker-3
	// ""
}
