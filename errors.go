package tock

import (
	"errors"
	"math"
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

const (
	// Unbounded is the buffer size of a stream with no limit.
	Unbounded = math.MaxInt
	// Unlimited is the total of a CapacityLimiter with no limit.
	Unlimited = math.MaxInt
)
