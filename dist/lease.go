package dist

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// lease keeps one key alive: it rewrites the key every TTL/3 with a
// compare-and-set on its last revision and a fresh TTL. It is lost when a
// renewal finds the key gone or taken over, or when no renewal has succeeded
// for 9/10 of a TTL (measured from the moment the last successful renewal
// was sent, so the holder gives up before the server drops the key).
//
// It runs on one timer and no goroutine of its own: the timer fires when
// the next renewal is due or the lease runs out, whichever comes first, and
// a renewal never outlasts the lease. Starting and stopping a lease that no
// renewal interrupts costs no request and no hand-off to another goroutine.
type lease struct {
	c    *Client
	key  string
	mine func(val []byte) bool // nil: nobody else writes the key

	mu       sync.Mutex
	rev      uint64
	val      []byte
	valid    time.Time
	err      error // why lost
	lost     chan struct{}
	stopped  bool
	next     time.Time     // when the next renewal is due
	timer    *time.Timer   // fires at min(next, valid)
	renewing chan struct{} // closed when the renewal under way ends (nil: none)
}

// startLease starts renewing key, last written at revision rev with val by a
// request sent at sent.
func (c *Client) startLease(key string, rev uint64, val []byte, sent time.Time, mine func([]byte) bool) *lease {
	l := &lease{c: c, key: key, mine: mine, rev: rev, val: val, valid: sent.Add(c.validFor()), lost: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		l.stopped = true
		l.markLost(ErrClientClosed)
		return l
	}
	c.leases[l] = struct{}{}
	c.mu.Unlock()
	l.mu.Lock()
	l.next = sent.Add(c.cfg.ttl / 3)
	l.timer = time.AfterFunc(time.Until(l.next), l.fire)
	l.mu.Unlock()
	return l
}

func (c *Client) validFor() time.Duration { return c.cfg.ttl * 9 / 10 }

// fire marks the lease lost if it ran out, else sends the renewal that is
// due (if one is), then sets the timer again. Renewals are due every period
// after the previous one was due, so that slow ones do not push the
// schedule back.
func (l *lease) fire() {
	l.mu.Lock()
	if l.stopped || l.err != nil {
		l.mu.Unlock()
		return
	}
	if now := time.Now(); !now.Before(l.next) && now.Before(l.valid) {
		done := make(chan struct{})
		l.renewing = done
		until := now.Add(l.c.cfg.ttl / 3) // then the next one is due
		if l.valid.Before(until) {
			until = l.valid
		}
		l.mu.Unlock()
		l.renew(until)
		l.mu.Lock()
		l.renewing = nil
		close(done)
		if l.stopped || l.err != nil {
			l.mu.Unlock()
			return
		}
		l.next = l.next.Add(l.c.cfg.ttl / 3)
		if now := time.Now(); l.next.Before(now) {
			l.next = now
		}
	}
	defer l.mu.Unlock()
	if !time.Now().Before(l.valid) {
		l.lostLocked(fmt.Errorf("%w: %s not renewed within its TTL", ErrLeaseLost, l.key))
		return
	}
	at := l.next
	if l.valid.Before(at) {
		at = l.valid
	}
	l.timer.Reset(time.Until(at))
}

// renew sends one renewal, giving up at until (by when the next one is due,
// or the lease runs out);
// it reports whether the lease was extended.
func (l *lease) renew(until time.Time) bool {
	ctx, cancel := context.WithDeadline(context.Background(), until)
	defer cancel()
	l.mu.Lock()
	rev, val := l.rev, l.val
	l.mu.Unlock()
	for try := 0; try < 3; try++ {
		sent := time.Now()
		nrev, err := l.c.cas(ctx, l.key, val, rev, l.c.cfg.ttl)
		if err == nil {
			l.adopt(nrev, val, sent)
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
		l.advanceLocked(rev, val)
		l.mu.Unlock()
	}
	return false
}

func (l *lease) markLost(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lostLocked(err)
}

func (l *lease) lostLocked(err error) {
	if l.err != nil {
		return
	}
	l.err = err
	close(l.lost)
	if l.timer != nil {
		l.timer.Stop()
	}
}

// Err returns nil while the lease holds, else why it was lost.
func (l *lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil && !time.Now().Before(l.valid) {
		l.lostLocked(fmt.Errorf("%w: %s not renewed within its TTL", ErrLeaseLost, l.key))
	}
	return l.err
}

// stop ends the renewals (waiting for one under way) and returns the last
// revision and value written.
func (l *lease) stop() (uint64, []byte) {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		if l.timer != nil {
			l.timer.Stop()
		}
	}
	for l.renewing != nil {
		ch := l.renewing
		l.mu.Unlock()
		<-ch
		l.mu.Lock()
	}
	rev, val := l.rev, l.val
	l.mu.Unlock()
	l.c.mu.Lock()
	delete(l.c.leases, l)
	l.c.mu.Unlock()
	return rev, val
}

// adopt records that the holder itself wrote the key (at rev, with val, by
// a request sent at sent). Revisions only move forward: a write older than
// one already recorded (a renewal and a rewrite that crossed) changes
// neither the revision nor the value, and the lease stays valid until the
// later of the two deadlines.
func (l *lease) adopt(rev uint64, val []byte, sent time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(rev, val)
	if v := sent.Add(l.c.validFor()); v.After(l.valid) {
		l.valid = v
	}
}

// advanceLocked records that the key is at rev with val, unless the lease
// already saw a later revision.
func (l *lease) advanceLocked(rev uint64, val []byte) {
	if rev > l.rev {
		l.rev, l.val = rev, val
	}
}
