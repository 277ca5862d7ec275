// Package tock provides task-aware concurrency primitives (context-aware
// locks and conditions, closable multi-sender streams, broadcast, capacity
// limiters, structured task groups) that run unchanged on two runtimes: real
// goroutines on the wall clock, and a deterministic discrete-event simulation
// on a virtual clock (package sim).
//
// Every blocking call takes a context.Context first. The context carries the
// runtime and the calling task: code started with tock.Run or by a Group runs
// on real goroutines; the same code started with sim.Run runs as a
// simulation, where time advances only when every task waits, and every run
// of the same program gives the same result.
//
// Rules shared by every primitive:
//   - Waiters are served FIFO. A release hands the resource straight to the
//     oldest waiter; a newcomer never barges in (TryX fails while others wait).
//   - A call that takes a ctx returns ctx's error if ctx is already done, even
//     when it could finish at once. A waiter that was handed the resource
//     before it noticed its cancellation succeeds ("the wake-up wins"); nothing
//     is lost or duplicated. TryX variants ignore cancellation.
//   - Misuse (unlock by a non-owner, release beyond a maximum, negative sizes)
//     panics with a message naming the type and the rule. Conditions that
//     happen at run time are errors matchable with errors.Is and errors.As.
//   - A ctx of your own type may panic in its methods: tock calls its Err,
//     Done and Value (and an AfterFunc method) while a call waits, from the
//     waiting goroutine, and its Err from the goroutine that hands the
//     resource over. A panic in the waiting call's own ctx is raised from
//     that call, with its value, once the call has left the wait queue;
//     if the resource was handed over first, the call returns normally
//     with it and the panic is dropped. A panic in Err asked by the
//     goroutine handing over is recovered there, and the waiter counts as
//     not cancelled. No internal lock stays held either way. When a task
//     of a Group ends, the stop func of an AfterFunc registered through
//     such a ctx is called; its panic counts as the task's (Wait panics
//     with it as a *PanicError), after a panic of the task's own.
//
// A context.Context with no tock task, such as context.Background(), is a
// valid caller on the real runtime: it acts as an anonymous task.
//
// Under testing/synctest (Go 1.25), the real runtime's waits inside a
// bubble count as durably blocked, as a receive on a channel made in the
// bubble does, so the bubble's fake clock advances while goroutines wait
// in tock calls. The rules are the bubble's rules for channels: make the
// primitives a bubble waits on inside it (a primitive whose waits were
// made outside may keep its waiting goroutines from counting as durably
// blocked there), and do not wait on a primitive from inside a bubble
// while goroutines outside it use it: a grant from outside to a waiter
// inside would be a send on the bubble's channel, which the Go runtime
// answers by ending the process. A primitive may be used in a bubble and,
// after the bubble's test, outside it (a package-level one).
//
// Without the race detector, a goroutine waiting in a tock call on the real
// runtime shows in a goroutine dump as "[waiting]", with tock's
// internal.(*signal).recv on its stack, and the runtime's block profile
// does not record the wait (the Monitors of a watched primitive time it).
//
// The caller is the task in the ctx a call receives. Inside a task started by
// Group.Go, use the ctx that task was given: a closure that captures an outer
// task's ctx acts as that outer task (it would re-enter that task's Lock, or
// borrow under its name).
package tock
