package tock

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"

	"github.com/tockgo/tock/internal"
)

// Errors returned by tock's primitives at run time. Match them with errors.Is.
var (
	// ErrWouldBlock is returned by the TryX calls of streams when the call
	// would have to wait.
	ErrWouldBlock = errors.New("tock: operation would block")
	// ErrStreamClosed is returned by Queue and Channel operations after Close
	// (for a Queue, once its buffer is drained).
	ErrStreamClosed = errors.New("tock: stream closed")
	// ErrEndOfStream is returned by a ReceiveStream once every SendStream is
	// closed and the buffer is drained.
	ErrEndOfStream = errors.New("tock: end of stream")
	// ErrClosedResource is returned by an operation on a stream handle that
	// was itself closed (by you), including operations blocked on it when it
	// was closed.
	ErrClosedResource = errors.New("tock: the stream handle is closed")
	// ErrBrokenResource is returned by a send when every ReceiveStream is
	// closed (the other side went away).
	ErrBrokenResource = errors.New("tock: every receiver is closed")
	// ErrGoexit is the failure recorded for a task that ended by
	// runtime.Goexit instead of returning (t.Fatal, t.FailNow or t.SkipNow
	// called on a task's goroutine): Group.Wait returns it (joined with the
	// group's other failures, and the group is cancelled as for any
	// failure), Group.Start returns it when the task had not called started,
	// and sim.Run returns it when main did so. Nothing waits for such a task
	// forever.
	ErrGoexit = internal.ErrGoexit
)

// BusyResourceError is returned by ResourceGuard.Enter while another task is
// inside the guard.
type BusyResourceError struct {
	// Action is the guard's action, as given to NewResourceGuard.
	Action string
}

// Error returns "another task is already <action> this resource".
func (e *BusyResourceError) Error() string {
	return "another task is already " + e.Action + " this resource"
}

// PanicError is a panic recovered from a task. Group.Wait and Group.Start
// re-raise a task's panic as a *PanicError, and tock.Run and sim.Run re-raise
// a panic of main (or one that reached main) as one: the caller of Run gets
// exactly one *PanicError, whose Value is the value the task panicked with,
// however many Groups the panic passed through (a *PanicError that reaches a
// Group or a Run is re-raised as it is, never wrapped again).
type PanicError struct {
	// Value is what the task passed to panic.
	Value any
	// Stack is the stack of the panicking task at the panic, as
	// runtime/debug.Stack formats it (the stack of the goroutine that
	// re-raises it would not show where the panic happened).
	Stack []byte
}

// Error shows the panic value followed by the panicking task's stack.
func (p *PanicError) Error() string {
	return fmt.Sprintf("tock: task panicked: %v\n\ngoroutine stack of the panicking task:\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error, so that errors.Is and
// errors.As see through a panic with an error value.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// asPanicError is r as a *PanicError: r itself if it is one, otherwise r
// with the current stack. Call it in the deferred function that recovered r,
// so that the stack is the panicking one.
func asPanicError(r any) *PanicError {
	if p, ok := r.(*PanicError); ok {
		return p
	}
	return &PanicError{Value: r, Stack: debug.Stack()}
}

const (
	// Unbounded is the buffer size of a stream with no limit.
	Unbounded = math.MaxInt
	// Unlimited is the total of a CapacityLimiter with no limit.
	Unlimited = math.MaxInt
)
