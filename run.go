package tock

import (
	"context"

	"github.com/tockgo/tock/internal"
)

// Run runs main as a task on the real runtime and returns its error. The ctx
// that main receives carries the task's identity (used for Lock ownership and
// CapacityLimiter borrowing) and derives from ctx. Run does not wait for
// goroutines main leaves behind; use a Group for that.
//
// If main panics, Run panics with a *PanicError carrying the original value
// and the panicking stack; a *PanicError (one that a Group.Wait in main
// re-raised) is re-raised as it is, so the caller sees exactly one layer.
// Run panics if ctx or main is nil, and if ctx belongs to a simulation
// (sim.Run): a task of the real runtime cannot run inside one.
func Run(ctx context.Context, main func(ctx context.Context) error) error {
	if ctx == nil {
		panic("tock: Run: nil context (use context.Background())")
	}
	if main == nil {
		panic("tock: Run: nil main function")
	}
	if internal.RuntimeOf(ctx).Simulated() {
		panic("tock: Run: ctx belongs to a simulation, and Run runs main on the real runtime; inside a simulated task, start a task with NewGroup(ctx).Go, or call main(ctx)")
	}
	defer func() {
		if r := recover(); r != nil {
			if internal.IsAbort(r) {
				panic(r)
			}
			panic(asPanicError(r))
		}
	}()
	t := internal.NewRealTask("main")
	defer internal.EndRealTask(t)
	tctx := internal.WithTask(ctx, t)
	defer internal.EndTask(tctx)
	return main(tctx)
}

// Simulated reports whether ctx belongs to a simulation (sim.Run). It panics
// on a nil ctx.
func Simulated(ctx context.Context) bool {
	panicIfNilCtx("Simulated", ctx)
	return internal.RuntimeOf(ctx).Simulated()
}

// TaskID returns the ID of the task in ctx (unique in the process, never 0),
// or 0 for a ctx that carries no tock task. LockStats.Owner reports owners by
// this ID. It panics on a nil ctx.
func TaskID(ctx context.Context) uint64 {
	panicIfNilCtx("TaskID", ctx)
	return internal.TaskID(ctx)
}
