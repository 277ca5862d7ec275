package tock

import (
	"context"

	"github.com/tockgo/tock/internal"
)

// TaskOption configures a task started by Group.Go or Group.Start. The zero
// TaskOption changes nothing.
type TaskOption struct {
	name string
}

// Name names the task: the name shows in every report that names tasks (a
// *sim.DeadlockError, Lock.Unlock's panic, CapacityLimiterStats.Borrowers)
// and is what TaskName returns. Names need not be unique, but a report is
// clearer when they are. Of several names given to one task, the last wins;
// an empty name names nothing (a task with no name is "task N").
func Name(name string) TaskOption { return TaskOption{name: name} }

// taskName is the name opts give a task, or "".
func taskName(opts []TaskOption) string {
	name := ""
	for _, o := range opts {
		if o.name != "" {
			name = o.name
		}
	}
	return name
}

// TaskName returns the name of the task in ctx: the name given with Name,
// "main" for the task of tock.Run and of sim.Run, or "task N" for a task
// started without a name (in a simulation, N counts the run's tasks, so it is
// the same on every run; on the real runtime it is the task's TaskID). It
// returns "" for a ctx that carries no tock task, and panics on a nil ctx.
func TaskName(ctx context.Context) string {
	panicIfNilCtx("TaskName", ctx)
	return internal.TaskName(ctx)
}

// ---- what a deadlock report asks a primitive: who holds it ----

// lockHolding is a Lock as a deadlock report sees it: held by its owner.
type lockHolding Lock

func (h *lockHolding) AppendHolders(dst []internal.Holder) []internal.Holder {
	s := (*Lock)(h).state.Load()
	switch {
	case s&lockedBit == 0:
		return dst
	case ownerOf(s) == 0:
		return append(dst, internal.Holder{Value: "an anonymous task"})
	}
	return append(dst, internal.Holder{ID: ownerOf(s)})
}

// limiterHolding is a CapacityLimiter as a deadlock report sees it: held by
// its borrowers, in the order they got their token.
type limiterHolding CapacityLimiter

func (h *limiterHolding) AppendHolders(dst []internal.Holder) []internal.Holder {
	l := (*CapacityLimiter)(h)
	if !l.mu.TryLock() {
		return dst
	}
	defer l.mu.Unlock()
	for _, b := range l.holders() {
		if t, ok := b.(*internal.Task); ok {
			dst = append(dst, internal.Holder{Task: t})
		} else {
			dst = append(dst, internal.Holder{Value: b})
		}
	}
	return dst
}

// groupHolding is a Group as Group.Wait sees it: waiting for the group's
// running tasks.
type groupHolding Group

func (h *groupHolding) AppendHolders(dst []internal.Holder) []internal.Holder {
	return append(dst, internal.Holder{Tasks: (*Group)(h).ctx})
}
