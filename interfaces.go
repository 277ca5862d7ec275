package tock

import "context"

// The interfaces below are the small shapes that service code can take so that
// it runs against either an in-process primitive of this package or a
// distributed one (module github.com/tockgo/tock/dist, which implements them
// over NATS JetStream). Each one is satisfied, unchanged, by the in-process
// type named in its comment; the compile-time assertions at the end of this
// file keep it so.
//
// An in-process implementation fails only for the reasons its own doc states
// (a done ctx, a closed resource). A distributed implementation may also
// return a network error from every method that returns an error; the
// methods without an error result (Unlock, Release) are where a distributed
// type cannot report a failure: there it documents what happens instead
// (typically, the lease it held expires on its own) and offers a variant
// that returns the error.

// Locker is a task-owned mutual-exclusion lock: *Lock.
//
// Lock blocks until ctx's task owns the lock and returns nil, or returns a
// non-nil error without the lock (ctx's error; for a distributed lock also a
// network error). Unlock releases one level held by ctx's task and panics if
// that task does not hold it.
type Locker interface {
	Lock(ctx context.Context) error
	Unlock(ctx context.Context)
}

// Limiter lends one token per borrower, the task in ctx: *CapacityLimiter.
//
// Acquire blocks until ctx's task holds a token and returns nil, or returns a
// non-nil error without one. Release returns the token of ctx's task and
// panics if it holds none.
type Limiter interface {
	Acquire(ctx context.Context) error
	Release(ctx context.Context)
}

// Acquirer is a counting semaphore whose tokens are not owned by a task:
// *Semaphore.
//
// Acquire blocks until it takes a token and returns nil, or returns a non-nil
// error without one. Release returns a token.
type Acquirer interface {
	Acquire(ctx context.Context) error
	Release()
}

// Waiter waits for a one-shot condition: *Event.
//
// Wait returns nil once the condition holds (at once if it already does), or
// a non-nil error if it returned before that.
type Waiter interface {
	Wait(ctx context.Context) error
}

// Putter accepts values: *Queue[T] and *Channel[T].
//
// Put returns nil once v is accepted, or a non-nil error (v not accepted).
type Putter[T any] interface {
	Put(ctx context.Context, v T) error
}

// Getter hands out each value to one caller: *Queue[T].
//
// Get blocks until it takes a value and returns it with a nil error, or
// returns the zero value and a non-nil error without taking one.
type Getter[T any] interface {
	Get(ctx context.Context) (T, error)
}

// Receiver receives broadcast values: *Channel[T] and *Subscription[T].
//
// Receive blocks until a value arrives and returns it with a nil error, or
// returns the zero value and a non-nil error.
type Receiver[T any] interface {
	Receive(ctx context.Context) (T, error)
}

var (
	_ Locker        = (*Lock)(nil)
	_ Limiter       = (*CapacityLimiter)(nil)
	_ Acquirer      = (*Semaphore)(nil)
	_ Waiter        = (*Event)(nil)
	_ Putter[int]   = (*Queue[int])(nil)
	_ Getter[int]   = (*Queue[int])(nil)
	_ Putter[int]   = (*Channel[int])(nil)
	_ Receiver[int] = (*Channel[int])(nil)
	_ Receiver[int] = (*Subscription[int])(nil)
)
