package dist

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// hub is one long-lived watch of the keys under a pattern, shared by every
// waiter of this Client on those keys (one server-side consumer per Client
// and pattern, not one per wait). Its view is the bucket as of some point of
// its history: pos is the highest revision it applied, so a waiter that
// wrote a key at revision r reads the view once pos >= r and then sees every
// key written before its own.
type hub struct {
	c       *Client
	pattern string

	mu      sync.Mutex
	entries map[string]jetstream.KeyValueEntry
	track   string // a key whose deletion the hub remembers (may be "")
	gone    uint64 // revision of track's delete marker, 0 if it is live or unknown
	pos     uint64
	ready   bool
	changed chan struct{} // closed at the next change
	err     error         // the watch ended
}

// hub returns the Client's hub of pattern, starting it if needed; track is a
// key whose delete marker the hub remembers (see marker), "" for none (a
// pattern's hub must always be asked for with the same track).
func (c *Client) hub(ctx context.Context, pattern, track string) (*hub, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClientClosed
	}
	if h := c.hubs[pattern]; h != nil {
		c.mu.Unlock()
		return h, nil
	}
	h := &hub{c: c, pattern: pattern, track: track, entries: map[string]jetstream.KeyValueEntry{}, changed: make(chan struct{})}
	c.hubs[pattern] = h
	c.mu.Unlock()
	w, err := c.kv.Watch(c.ctx, pattern)
	if err != nil {
		c.mu.Lock()
		delete(c.hubs, pattern)
		c.mu.Unlock()
		h.fail(err)
		return nil, netErr(ctx, "watch "+pattern, err)
	}
	c.goWorker(func() {
		defer func() { _ = w.Stop() }()
		for {
			select {
			case e, ok := <-w.Updates():
				if !ok {
					h.fail(errWatchEnded)
					return
				}
				h.apply(e)
			case <-c.done:
				h.fail(ErrClientClosed)
				return
			}
		}
	})
	return h, nil
}

func (h *hub) fail(err error) {
	h.mu.Lock()
	if h.err == nil {
		h.err = err
		close(h.changed)
	}
	h.mu.Unlock()
	h.c.mu.Lock()
	if h.c.hubs[h.pattern] == h {
		delete(h.c.hubs, h.pattern)
	}
	h.c.mu.Unlock()
}

func (h *hub) apply(e jetstream.KeyValueEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e == nil {
		h.ready = true
	} else {
		if e.Revision() > h.pos {
			h.pos = e.Revision()
		}
		if e.Operation() == jetstream.KeyValuePut {
			h.entries[e.Key()] = e
			if e.Key() == h.track {
				h.gone = 0
			}
		} else {
			delete(h.entries, e.Key())
			if e.Key() == h.track {
				h.gone = e.Revision()
			}
		}
	}
	if h.ready {
		close(h.changed)
		h.changed = make(chan struct{})
	}
}

// await calls f on the view (under the hub's lock) once the view is at
// revision min or later, and again after each change, until f returns true
// or the wait fails: with ctx's error, lostErr() once lost is closed (lost
// may be nil), ErrUnavailable if the watch ends or the connection fails its
// check (made once per lease TTL while nothing changes), ErrClientClosed.
func (h *hub) await(ctx context.Context, min uint64, lost <-chan struct{}, lostErr func() error, f func(entries map[string]jetstream.KeyValueEntry, pos uint64) bool) error {
	var check *time.Timer
	defer func() {
		if check != nil {
			check.Stop()
		}
	}()
	for {
		h.mu.Lock()
		if h.err != nil {
			err := h.err
			h.mu.Unlock()
			if err == ErrClientClosed {
				return err
			}
			return fmt.Errorf("tock/dist: watch %s: %w: %w", h.pattern, ErrUnavailable, err)
		}
		if h.ready && h.pos >= min && f(h.entries, h.pos) {
			h.mu.Unlock()
			return nil
		}
		ch := h.changed
		h.mu.Unlock()
		if check == nil {
			check = time.NewTimer(h.c.cfg.ttl)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-lost:
			return lostErr()
		case <-check.C:
			if err := h.c.alive(ctx); err != nil {
				return err
			}
			check.Reset(h.c.cfg.ttl)
		}
	}
}

// peekHub returns the Client's running hub of pattern, or nil.
func (c *Client) peekHub(pattern string) *hub {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hubs[pattern]
}

// state tells what the view says of the tracked key: ready is false if the
// view is not complete yet (or the watch ended); else live tells whether the
// key exists and, if not, marker is the revision of its delete marker (0:
// unknown), as of revision pos. The view may lag the server: use it as a
// guess only.
func (h *hub) state() (ready, live bool, marker, pos uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.ready || h.err != nil {
		return false, false, 0, 0
	}
	_, live = h.entries[h.track]
	return true, live, h.gone, h.pos
}
