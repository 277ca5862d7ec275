package dist

import (
	"context"
	"sync"

	"github.com/nats-io/nuid"
	"github.com/tockgo/tock"
)

// Semaphore is a counting semaphore shared by every Client (of the same
// prefix) that makes a Semaphore of the same name: at most total tokens are
// out at once, across all processes. Its tokens are not owned by a task:
// Release returns one of the tokens this handle took.
//
// A token is a lease (see the package doc): the process that took it renews
// it while it holds it, and a process that dies or is cut off loses its
// tokens after the lease TTL, so they return to the others. Waiters are
// served in FIFO order across processes (tickets), and a newcomer waits
// behind them, so TryAcquire fails while others wait.
//
// A Semaphore is safe for concurrent use.
type Semaphore struct {
	p    *pool
	mu   sync.Mutex
	held []*token // oldest first
}

// NewSemaphore returns the Semaphore called name; the first process to make
// it sets its total to initial (later ones share the existing total). It
// returns an error matching ErrUnavailable if the server cannot be reached.
// It panics if initial is negative or name is not made of letters, digits,
// '-' and '_', or is longer than 200 characters.
func (c *Client) NewSemaphore(ctx context.Context, name string, initial int) (*Semaphore, error) {
	p, err := c.newPool(ctx, "Semaphore", "sem", name, initial)
	if err != nil {
		return nil, err
	}
	return &Semaphore{p: p}, nil
}

// Acquire takes a token, blocking while total tokens are out (in any
// process) or older waiters wait. It returns ctx's error without a token if
// ctx is done first (once admitted it returns nil: the wake-up wins), an
// error matching ErrUnavailable on a network failure, ErrLeaseLost if its
// place in line expired, or ErrClientClosed after Client.Close (also for a
// Close during the call: a token returned holds a live lease, and one the
// Close interrupted is given up).
func (s *Semaphore) Acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := s.p.acquire(ctx, nuid.Next(), "", false)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.held = append(s.held, t)
	s.mu.Unlock()
	return nil
}

// TryAcquire takes a token if one is free and nobody waits, without
// waiting, and reports whether it did. It ignores ctx's cancellation; the
// error is a network one.
func (s *Semaphore) TryAcquire(ctx context.Context) (bool, error) {
	t, err := s.p.acquire(context.WithoutCancel(ctx), nuid.Next(), "", true)
	if err != nil || t == nil {
		return false, err
	}
	s.mu.Lock()
	s.held = append(s.held, t)
	s.mu.Unlock()
	return true, nil
}

// Release returns the oldest token this handle holds (ReleaseErr without its
// error). If the server cannot be reached, the token returns when its lease
// expires. It panics if this handle holds no token.
func (s *Semaphore) Release() { _ = s.ReleaseErr(context.Background()) }

// ReleaseErr is Release that reports what happened: nil, an error matching
// ErrLeaseLost if the token's lease was lost before (it had returned to the
// others already), or ErrUnavailable if the release could not be sent. It
// panics if this handle holds no token. It does not wait on ctx.
func (s *Semaphore) ReleaseErr(ctx context.Context) error {
	s.mu.Lock()
	if len(s.held) == 0 {
		s.mu.Unlock()
		panic("tock/dist: Semaphore.Release: this handle of " + s.p.name + " holds no token")
	}
	t := s.held[0]
	s.held = s.held[1:]
	s.mu.Unlock()
	return s.p.release(ctx, t)
}

// Value returns how many tokens are free (total minus tokens out, at least
// 0), one request.
func (s *Semaphore) Value(ctx context.Context) (int, error) {
	total, held, _, err := s.p.counts(ctx)
	if err != nil {
		return 0, err
	}
	return max(0, total-held), nil
}

// Held returns how many tokens this handle holds (no request).
func (s *Semaphore) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

var _ tock.Acquirer = (*Semaphore)(nil)
