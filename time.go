package tock

import (
	"context"
	"time"

	"github.com/tockgo/tock/internal"
)

// Now returns the current time of ctx's runtime: the wall clock, or the
// virtual clock inside a simulation. It panics if ctx is nil.
func Now(ctx context.Context) time.Time {
	panicIfNilCtx("Now", ctx)
	return internal.RuntimeOf(ctx).Now()
}

// Sleep blocks for d on ctx's clock. It returns ctx's error if ctx is done
// before (or when) it is called, or while it sleeps; otherwise nil. A
// non-positive d is a Yield: in a simulation the caller runs again after
// every task already runnable at this instant. It panics if ctx is nil.
// A Sleep that wakes after another task's step is not ordered after that
// step: hand data over through a primitive.
func Sleep(ctx context.Context, d time.Duration) error {
	panicIfNilCtx("Sleep", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	return internal.RuntimeOf(ctx).Sleep(ctx, d)
}

// SleepUntil blocks until ctx's clock reaches t, with the cancellation and
// synchronization rules of Sleep. A t that is not in the future is a Yield.
// It panics if ctx is nil.
func SleepUntil(ctx context.Context, t time.Time) error {
	panicIfNilCtx("SleepUntil", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	return internal.RuntimeOf(ctx).SleepUntil(ctx, t)
}

// Yield is a checkpoint: it returns ctx's error if ctx is done; otherwise it
// lets other tasks run and returns nil. In a simulation, the caller runs again
// after every task already runnable at this instant, and the clock does not
// move. On the real runtime it calls runtime.Gosched. It panics if ctx is
// nil. As with Sleep, its return is not ordered after other tasks' steps.
func Yield(ctx context.Context) error {
	panicIfNilCtx("Yield", ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	internal.RuntimeOf(ctx).Yield()
	return nil
}

// WithTimeout is context.WithTimeout on ctx's clock: inside a simulation the
// returned context is cancelled (with context.DeadlineExceeded) when the
// virtual clock reaches Now(ctx)+d, deterministically. Call cancel to release
// its timer as soon as the work is done. It panics if ctx is nil. Its cancel
// synchronizes as WithCancel's does; its deadline hands nothing over.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	panicIfNilCtx("WithTimeout", ctx)
	rt := internal.RuntimeOf(ctx)
	return rt.WithDeadline(ctx, rt.Now().Add(d))
}

// WithDeadline is context.WithDeadline on ctx's clock (see WithTimeout). In
// a simulation a deadline beyond the virtual clock's range (about 292 years
// after the run's start) never fires. It panics if ctx is nil.
func WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc) {
	panicIfNilCtx("WithDeadline", ctx)
	return internal.RuntimeOf(ctx).WithDeadline(ctx, t)
}

// WithCancel is context.WithCancel; inside a simulation its cancellation wakes
// parked tasks without polling. Contexts derived with context.WithCancel from a
// task's context work in a simulation too. It panics if ctx is nil. A call
// of cancel synchronizes before the return of every wait that it ends.
func WithCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	panicIfNilCtx("WithCancel", ctx)
	c, cancel := internal.RuntimeOf(ctx).WithCancel(ctx)
	return c, func() { cancel(context.Canceled) }
}

// panicIfNilCtx panics, naming op, if ctx is nil: a nil ctx is a programming
// error, reported at the call rather than as a nil dereference later.
func panicIfNilCtx(op string, ctx context.Context) {
	if ctx == nil {
		panic("tock: " + op + ": nil ctx (pass context.Background(), or the ctx your task was given)")
	}
}
