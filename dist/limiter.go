package dist

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"

	"github.com/tockgo/tock"
)

// CapacityLimiter lends at most Total tokens at once across every Client
// (of the same prefix) that makes a CapacityLimiter of the same name, one
// token per borrower. The default borrower is the task in ctx (within this
// process); AcquireFor names any borrower: a string borrower is the same
// borrower in every process (so a second process asking for it gets
// ErrBorrowerBusy), any other value is formatted with %T:%v.
//
// Tokens are leases (see the package doc): a process that dies or is cut
// off loses its tokens after the lease TTL. SetTotal changes the total for
// every process: raising it admits waiters at once, lowering it takes no
// token back. Waiters are served FIFO across processes.
//
// A CapacityLimiter is safe for concurrent use.
type CapacityLimiter struct {
	p    *pool
	mu   sync.Mutex
	held map[string]*token // by borrower label
}

// NewCapacityLimiter returns the CapacityLimiter called name; the first
// process to make it sets its total (later ones share the existing total).
// It returns an error matching ErrUnavailable if the server cannot be
// reached. It panics if total is negative or name is not made of letters,
// digits, '-' and '_', or is longer than 200 characters.
func (c *Client) NewCapacityLimiter(ctx context.Context, name string, total int) (*CapacityLimiter, error) {
	p, err := c.newPool(ctx, "CapacityLimiter", "lim", name, total)
	if err != nil {
		return nil, err
	}
	p.reuse = true
	return &CapacityLimiter{p: p, held: map[string]*token{}}, nil
}

func (l *CapacityLimiter) taskBorrower(op string, ctx context.Context) string {
	id := tock.TaskID(ctx)
	if id == 0 {
		panic("tock/dist: CapacityLimiter." + op + ": ctx carries no tock task to borrow for; use the For variant with a borrower of your own, or run the caller under tock.Run or a Group")
	}
	return "task:" + l.p.c.id + ":" + strconv.FormatUint(id, 10)
}

func borrowerLabel(b any) string {
	if s, ok := b.(string); ok {
		return "s:" + s
	}
	return fmt.Sprintf("%T:%v", b, b)
}

// borrowerKey is the key suffix of borrower label b: b in base64, or, for a
// label longer than maxLabel, "=" and the hex SHA-256 of b (no base64
// suffix holds an "="), so that a key stays short whatever the borrower
// (the server refuses a subject beyond its control line, and the
// connection with it).
func borrowerKey(b string) string {
	if len(b) > maxLabel {
		sum := sha256.Sum256([]byte(b))
		return "=" + hex.EncodeToString(sum[:])
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b))
}

// maxLabel is the longest borrower label kept in its key as it is.
const maxLabel = 192

// Acquire borrows a token for the task in ctx (see AcquireFor). It panics if
// ctx carries no tock task.
func (l *CapacityLimiter) Acquire(ctx context.Context) error {
	return l.acquire(ctx, "Acquire", l.taskBorrower("Acquire", ctx), false)
}

// AcquireFor borrows a token for borrower, blocking while Total tokens are
// out or older waiters wait. It returns ctx's error without a token if ctx
// is done first (once admitted it returns nil: the wake-up wins), an error
// matching ErrBorrowerBusy if another process holds a token for borrower,
// ErrUnavailable on a network failure, ErrLeaseLost if its place in line
// expired, ErrClientClosed after Client.Close (also for a Close during the
// call: a token returned holds a live lease, and one the Close interrupted
// is given up). It panics if borrower already holds a token through this
// handle.
func (l *CapacityLimiter) AcquireFor(ctx context.Context, borrower any) error {
	return l.acquire(ctx, "AcquireFor", borrowerLabel(borrower), false)
}

// TryAcquire is TryAcquireFor for the task in ctx.
func (l *CapacityLimiter) TryAcquire(ctx context.Context) (bool, error) {
	return l.try(ctx, "TryAcquire", l.taskBorrower("TryAcquire", ctx))
}

// TryAcquireFor borrows a token for borrower if one is free and nobody
// waits, without waiting, and reports whether it did. It ignores ctx's
// cancellation. It panics if borrower already holds a token through this
// handle.
func (l *CapacityLimiter) TryAcquireFor(ctx context.Context, borrower any) (bool, error) {
	return l.try(ctx, "TryAcquireFor", borrowerLabel(borrower))
}

func (l *CapacityLimiter) try(ctx context.Context, op, b string) (bool, error) {
	// a try ignores ctx's cancellation (its requests are bounded as every
	// request is), as Lock.TryLock does
	if err := l.acquire(context.WithoutCancel(ctx), op, b, true); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[b] != nil, nil
}

func (l *CapacityLimiter) acquire(ctx context.Context, op, b string, try bool) error {
	if !try {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	l.mu.Lock()
	if l.held[b] != nil {
		l.mu.Unlock()
		panic("tock/dist: CapacityLimiter." + op + ": " + b + " already holds a token of " + l.p.name)
	}
	l.mu.Unlock()
	t, err := l.p.acquire(ctx, borrowerKey(b), b, try)
	if err != nil || t == nil {
		return err
	}
	l.mu.Lock()
	l.held[b] = t
	l.mu.Unlock()
	return nil
}

// Release returns the token of the task in ctx (ReleaseFor without its
// error). It panics if that task holds no token through this handle.
func (l *CapacityLimiter) Release(ctx context.Context) {
	_ = l.release(ctx, "Release", l.taskBorrower("Release", ctx))
}

// ReleaseFor returns borrower's token: nil, an error matching ErrLeaseLost
// if the token's lease was lost before (it had returned to the others
// already), or ErrUnavailable if the release could not be sent (the token
// then returns when its lease expires). It panics if borrower holds no token
// through this handle. It does not wait on ctx.
func (l *CapacityLimiter) ReleaseFor(ctx context.Context, borrower any) error {
	return l.release(ctx, "ReleaseFor", borrowerLabel(borrower))
}

func (l *CapacityLimiter) release(ctx context.Context, op, b string) error {
	l.mu.Lock()
	t := l.held[b]
	if t == nil {
		l.mu.Unlock()
		panic("tock/dist: CapacityLimiter." + op + ": " + b + " holds no token of " + l.p.name + " through this handle")
	}
	delete(l.held, b)
	l.mu.Unlock()
	return l.p.release(ctx, t)
}

// SetTotal sets the total for every process (one request). Raising it
// admits waiters; lowering it takes back no token. It panics if n is
// negative.
func (l *CapacityLimiter) SetTotal(ctx context.Context, n int) error { return l.p.setTotal(ctx, n) }

// Total returns the total (one request).
func (l *CapacityLimiter) Total(ctx context.Context) (int, error) {
	t, _, _, err := l.p.counts(ctx)
	return t, err
}

// Borrowed returns how many tokens are out, in every process (one request).
func (l *CapacityLimiter) Borrowed(ctx context.Context) (int, error) {
	_, h, _, err := l.p.counts(ctx)
	return h, err
}

// Available returns Total minus Borrowed, at least 0 (one request).
func (l *CapacityLimiter) Available(ctx context.Context) (int, error) {
	t, h, _, err := l.p.counts(ctx)
	return max(0, t-h), err
}

var _ tock.Limiter = (*CapacityLimiter)(nil)
