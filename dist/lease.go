package dist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// lease keeps one key alive: it rewrites the key every TTL/3 with a
// compare-and-set on its last revision and a fresh TTL. It is lost when a
// renewal finds the key gone or taken over, or when no renewal has succeeded
// for 9/10 of a TTL (measured from the moment the last successful renewal
// was sent, so the holder gives up before the server drops the key).
type lease struct {
	c    *Client
	key  string
	mine func(val []byte) bool // nil: nobody else writes the key

	mu      sync.Mutex
	rev     uint64
	val     []byte
	valid   time.Time
	err     error // why lost
	lost    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	stopped bool
}

// startLease starts renewing key, last written at revision rev with val by a
// request sent at sent.
func (c *Client) startLease(key string, rev uint64, val []byte, sent time.Time, mine func([]byte) bool) *lease {
	l := &lease{c: c, key: key, mine: mine, rev: rev, val: val, valid: sent.Add(c.validFor()),
		lost: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		l.markLost(ErrClientClosed)
		close(l.done)
		return l
	}
	c.leases[l] = struct{}{}
	c.mu.Unlock()
	go l.run()
	return l
}

func (c *Client) validFor() time.Duration { return c.cfg.ttl * 9 / 10 }

func (l *lease) run() {
	defer close(l.done)
	period := l.c.cfg.ttl / 3
	tick := time.NewTicker(period)
	defer tick.Stop()
	l.mu.Lock()
	watchdog := time.NewTimer(time.Until(l.valid))
	l.mu.Unlock()
	defer watchdog.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-l.lost:
			return
		case <-watchdog.C:
			l.mu.Lock()
			left := time.Until(l.valid)
			l.mu.Unlock()
			if left <= 0 {
				l.markLost(fmt.Errorf("%w: %s not renewed within its TTL", ErrLeaseLost, l.key))
				return
			}
			watchdog.Reset(left)
		case <-tick.C:
			if l.renew() {
				l.mu.Lock()
				left := time.Until(l.valid)
				l.mu.Unlock()
				if !watchdog.Stop() {
					select {
					case <-watchdog.C:
					default:
					}
				}
				watchdog.Reset(left)
			}
		}
	}
}

// renew sends one renewal; it reports whether the lease was extended.
func (l *lease) renew() bool {
	ctx, cancel := context.WithTimeout(context.Background(), l.c.cfg.ttl/3)
	defer cancel()
	l.mu.Lock()
	rev, val := l.rev, l.val
	l.mu.Unlock()
	for try := 0; try < 3; try++ {
		sent := time.Now()
		nrev, err := l.c.cas(ctx, l.key, val, rev, l.c.cfg.ttl)
		if err == nil {
			l.mu.Lock()
			if !l.stopped {
				l.rev = nrev
				l.valid = sent.Add(l.c.validFor())
			}
			l.mu.Unlock()
			return true
		}
		if !isCAS(err) {
			return false // network trouble: try again at the next tick
		}
		// Someone else wrote the key: is it still ours?
		e, ok, gerr := l.c.get(ctx, l.key)
		if gerr != nil {
			return false
		}
		if !ok || l.mine == nil || !l.mine(e.Value()) {
			l.markLost(fmt.Errorf("%w: %s was taken over or expired", ErrLeaseLost, l.key))
			return false
		}
		rev, val = e.Revision(), e.Value()
		l.mu.Lock()
		l.rev, l.val = rev, val
		l.mu.Unlock()
	}
	return false
}

func (l *lease) markLost(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	l.err = err
	close(l.lost)
}

// Err returns nil while the lease holds, else why it was lost.
func (l *lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil && !time.Now().Before(l.valid) {
		l.err = fmt.Errorf("%w: %s not renewed within its TTL", ErrLeaseLost, l.key)
		close(l.lost)
	}
	return l.err
}

// stop ends the renewals and returns the last revision and value written.
func (l *lease) stop() (uint64, []byte) {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		close(l.quit)
	}
	l.mu.Unlock()
	<-l.done
	l.c.mu.Lock()
	delete(l.c.leases, l)
	l.c.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rev, l.val
}

// adopt records that the holder itself rewrote the key (at rev, with val).
func (l *lease) adopt(rev uint64, val []byte, sent time.Time) {
	l.mu.Lock()
	l.rev, l.val = rev, val
	l.valid = sent.Add(l.c.validFor())
	l.mu.Unlock()
}

var errStopped = errors.New("tock/dist: lease stopped")
