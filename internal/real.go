package internal

import (
	"context"
	"strconv"
	"time"
)

// The real runtime: goroutines on the wall clock. A parked task waits on its
// Parker's one-slot channel; cancellation is a select on the ctx's Done.
type realRuntime struct{}

// Real is the real runtime: goroutines on the wall clock.
var Real Runtime = realRuntime{}

// nextTaskID numbers every task of every runtime: a task ID is never reused.
var nextTaskID uint64Counter

func (realRuntime) Now() time.Time  { return time.Now() }
func (realRuntime) Simulated() bool { return false }
func (realRuntime) Checkpoint()     {}
func (realRuntime) Yield()          { gosched() }

// Prepare gives p its one-slot channel. It refuses a caller that runs a
// simulated task: a ctx with no tock task reached a blocking call inside a
// simulation, which would block the whole simulation on the wall clock.
func (realRuntime) Prepare(p *Parker, what string) error {
	if realBlockMisuse() {
		return &refusal{realBlockMessage(what)}
	}
	if p.ch == nil {
		p.ch = make(chan struct{}, 1)
	}
	p.task = nil
	return nil
}

// Park receives p's signal. A ctx that is never done (a nil Done channel,
// such as context.Background()'s) needs no select: one channel will do.
func (realRuntime) Park(ctx context.Context, p *Parker, what string) error {
	done := ctx.Done()
	if done == nil {
		<-p.ch
		return nil
	}
	select {
	case <-p.ch:
		return nil
	case <-done:
		return ctx.Err()
	}
}

func (realRuntime) Label(id uint64) string {
	if t, ok := named.Load(id); ok {
		return t.(*Task).Name()
	}
	return "task " + strconv.FormatUint(id, 10)
}

func (realRuntime) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	if realBlockMisuse() {
		panic(realBlockMessage("Sleep"))
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r realRuntime) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		r.Yield()
		return ctx.Err()
	}
	return r.SleepUntil(ctx, time.Now().Add(d))
}

func (realRuntime) Spawn(parent context.Context, name string, fn func(ctx context.Context)) *Task {
	id := nextTaskID.add()
	t := &Task{ID: id, num: id, name: name}
	ctx := &taskCtx{Context: parent, Call: Call{RT: Real, Task: t}, real: true} // a real group's parent is not a simulation's
	if name != "" {
		goNamed(t, ctx, fn)
		return t
	}
	go fn(ctx)
	return t
}

func (realRuntime) WithCancel(parent context.Context) (context.Context, context.CancelCauseFunc) {
	return context.WithCancelCause(parent)
}

func (realRuntime) WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(parent, d)
}
