package tock

import (
	"context"

	"github.com/tockgo/tock/internal"
)

// PanicError is a panic recovered from a task. Group.Wait re-raises a task's
// panic as a *PanicError whose Value is the value the task panicked with and
// whose Stack is the panicking task's stack (the stack of the goroutine that
// re-raises it would not show where the panic happened).
type PanicError = internal.PanicError

// Run runs main as a task on the real runtime and returns its error. The ctx
// that main receives carries the task's identity (used for Lock ownership and
// CapacityLimiter borrowing) and derives from ctx. Run does not wait for
// goroutines main leaves behind; use a Group for that.
func Run(ctx context.Context, main func(ctx context.Context) error) error {
	t := internal.NewRealTask("main")
	defer internal.EndRealTask(t)
	return main(internal.WithTask(ctx, t))
}

// Simulated reports whether ctx belongs to a simulation (sim.Run).
func Simulated(ctx context.Context) bool { return internal.RuntimeOf(ctx).Simulated() }

// TaskID returns the ID of the task in ctx (unique in the process, never 0),
// or 0 for a ctx that carries no tock task. LockStats.Owner reports owners by
// this ID.
func TaskID(ctx context.Context) uint64 { return internal.TaskID(ctx) }
