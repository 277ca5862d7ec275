package internal

import (
	"context"
	"sync"
)

// named holds the live named tasks of the real runtime, by ID, so that a
// report that knows a task only by its ID (a Lock's owner) can name it.
// Unnamed tasks are not in it: on the real runtime their name is "task <ID>".
var named sync.Map // uint64 → *Task

// NewRealTask makes a named task identity for tock.Run (name must not be
// empty); call EndRealTask when its function returns.
func NewRealTask(name string) *Task {
	t := &Task{ID: nextTaskID.add(), name: name}
	named.Store(t.ID, t)
	return t
}

// EndRealTask forgets t, made by NewRealTask, once its function returned.
func EndRealTask(t *Task) { named.Delete(t.ID) }

// goNamed runs fn(ctx) on a new goroutine as t, a named task of the real
// runtime, known by its ID while it runs.
func goNamed(t *Task, ctx *taskCtx, fn func(ctx context.Context) error, end TaskEnd) {
	named.Store(t.ID, t)
	go func() {
		defer named.Delete(t.ID)
		runReal(ctx, fn, end)
	}()
}

// TaskLabel names the task whose ID is id for a panic message or a report,
// as ctx's runtime knows it: "an anonymous task" for 0, the task's name while
// it runs; or, for a task that has ended, "task <id>" on the real runtime and
// "a task that has ended" in a simulation (where IDs differ from run to run).
func TaskLabel(ctx context.Context, id uint64) string {
	if id == 0 {
		return "an anonymous task"
	}
	return Decode(ctx).RT.Label(id)
}

// TaskName is the name of the task in ctx, or "" for a ctx with no tock task.
func TaskName(ctx context.Context) string {
	if t := Decode(ctx).Task; t != nil {
		return t.Name()
	}
	return ""
}
