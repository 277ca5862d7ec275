package tock

import (
	"context"
	"errors"
	"sync"
)

// AnyOf runs every wait concurrently, each in a task of its own with a
// context derived from ctx, and returns the index of the first to return
// nil (μSim's first, SimPy's any_of), once every wait has returned: the
// others are cancelled as soon as one succeeds. Pass method values:
// AnyOf(ctx, done.Wait, stop.Wait, func(ctx context.Context) error {
// return tock.Sleep(ctx, time.Minute) }).
//
// Use it for waits that take nothing (Event.Wait, Flag.Wait,
// Tracked.WaitUntil, Sleep, a task's completion): a losing wait that
// consumes (a Get, an Acquire) and completes before its cancellation lands
// keeps what it took.
//
// If no wait succeeds, AnyOf returns -1 and ctx's error if ctx is done, or
// else every wait's error, joined (ErrGoexit for a wait that ended its
// goroutine with runtime.Goexit). It returns -1 and ctx's error at once if
// ctx is done when it is called. In a simulation, a tie (two waits that
// succeed at one instant) goes to the one that ran first. A panic in a wait
// is re-raised by AnyOf (as Group.Wait does). AnyOf panics if ctx is nil,
// if waits is empty or if a wait is nil. Everything a winning wait did happens before AnyOf returns.
func AnyOf(ctx context.Context, waits ...func(ctx context.Context) error) (int, error) {
	panicIfNilCtx("AnyOf", ctx)
	if len(waits) == 0 {
		panic("tock: AnyOf: no wait given")
	}
	checkWaits("AnyOf", waits)
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	var (
		mu     sync.Mutex
		winner = -1
		errs   = make([]error, len(waits))
	)
	g := NewGroup(ctx)
	for i, w := range waits {
		g.Go(func(ctx context.Context) error {
			err := w(ctx)
			mu.Lock()
			won := err == nil && winner < 0
			if won {
				winner = i
			}
			errs[i] = err
			mu.Unlock()
			if won {
				g.Cancel()
			}
			return nil
		})
	}
	gerr := g.Wait() // ErrGoexit for a wait that ended its goroutine (the tasks return nil)
	if winner >= 0 {
		return winner, nil
	}
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	return -1, errors.Join(append(errs, gerr)...)
}

// checkWaits panics, naming op, if a wait is nil.
func checkWaits(op string, waits []func(ctx context.Context) error) {
	for _, w := range waits {
		if w == nil {
			panic("tock: " + op + ": nil wait function")
		}
	}
}

// AllOf runs every wait concurrently, each in a task of its own with a
// context derived from ctx, and returns once all have returned (μSim's
// collect, SimPy's all_of). The first to fail cancels the others; AllOf
// returns the failures as Group.Wait does (joined, without the
// cancellations it caused), nil if every wait succeeded. A panic in a wait
// is re-raised. Everything the waits did happens before AllOf returns. It
// panics if ctx is nil or a wait is nil.
func AllOf(ctx context.Context, waits ...func(ctx context.Context) error) error {
	panicIfNilCtx("AllOf", ctx)
	checkWaits("AllOf", waits)
	if err := ctx.Err(); err != nil {
		return err
	}
	g := NewGroup(ctx)
	for _, w := range waits {
		g.Go(w)
	}
	return g.Wait()
}
