package dist

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

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
	set     chan struct{} // closed when the watch is set up (or its setup failed)
	setOK   bool          // the setup succeeded (written before set is closed)

	mu      sync.Mutex
	keys                  // the view
	track   string        // a key whose deletion the hub remembers (may be "")
	gone    uint64        // revision of track's delete marker, 0 if it is live or unknown
	deleted               // the delete markers of the keys deleted last
	changed chan struct{} // closed at the next change
	err     error         // the watch ended
}

// hub returns the Client's hub of pattern, starting it if needed; track is a
// key whose delete marker the hub remembers (see marker), "" for none (a
// pattern's hub must always be asked for with the same track).
//
// The setup of the watch (a request to the server) runs under ctx: if ctx is
// done first, hub stops the watch and returns ctx's error, and the next
// caller starts the hub afresh. A caller that finds the hub being set up by
// another waits for that setup (returning ctx's error if ctx is done first)
// and, if it failed, tries once itself, so that one caller's cancellation
// or failure is never another's. The watch, once set up, lasts until Close.
func (c *Client) hub(ctx context.Context, pattern, track string) (*hub, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClientClosed
		}
		if h := c.hubs[pattern]; h != nil {
			c.mu.Unlock()
			if hook := testHookHub.Load(); hook != nil {
				(*hook)("wait")
			}
			select {
			case <-h.set:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if h.setOK {
				return h, nil
			}
			continue // its setup failed (it is out of the map): set it up ourselves
		}
		h := &hub{c: c, pattern: pattern, track: track, set: make(chan struct{}), keys: keys{entries: map[string]jetstream.KeyValueEntry{}}, changed: make(chan struct{})}
		c.hubs[pattern] = h
		c.mu.Unlock()
		if err := h.start(ctx); err != nil {
			return nil, err
		}
		return h, nil
	}
}

// start sets up the hub's watch under ctx (see Client.hub) and starts the
// worker that feeds it.
func (h *hub) start(ctx context.Context) (err error) {
	c := h.c
	defer func() {
		if err != nil {
			h.fail(err)
		} else {
			h.setOK = true
		}
		close(h.set)
	}()
	if hook := testHookHub.Load(); hook != nil {
		(*hook)("setup")
	}
	// The watch lives with the Client, not with ctx (the ordered consumer
	// keeps its ctx to recreate itself), but ctx bounds its setup: ctx's
	// end during the setup cancels the watch.
	wctx, wcancel := context.WithCancel(c.ctx)
	stop := context.AfterFunc(ctx, wcancel)
	w, err := c.kv.Watch(wctx, h.pattern)
	if !stop() {
		// ctx ended during the setup (wctx is cancelled).
		if err == nil {
			_ = w.Stop()
		}
		wcancel()
		return ctx.Err()
	}
	if err != nil {
		wcancel()
		if c.ctx.Err() != nil {
			return ErrClientClosed // Close cancelled the setup
		}
		return netErr(ctx, "watch "+h.pattern, err)
	}
	if hook := testHookHub.Load(); hook != nil {
		(*hook)("watched")
	}
	started := c.goWorker(func() {
		defer wcancel()
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
	if !started {
		_ = w.Stop()
		wcancel()
		return ErrClientClosed
	}
	return nil
}

// testHookHub, set only by tests, runs in Client.hub with "setup" before a
// caller sets up a hub's watch, "watched" once the watch is set up and
// before its worker starts, and "wait" before a caller waits for the setup
// of a hub that another started.
var testHookHub atomic.Pointer[func(event string)]

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
	h.keys.apply(e)
	h.deleted.apply(e)
	if e != nil && e.Key() == h.track {
		if e.Operation() == jetstream.KeyValuePut {
			h.gone = 0
		} else {
			h.gone = e.Revision()
		}
	}
	if h.ready {
		close(h.changed)
		h.changed = make(chan struct{})
	}
}

// deleted remembers the revisions of the delete markers of the last
// deletedMax keys deleted while the hub watched: whether a key the view
// no longer holds was still there at a given revision (Lock.queuedAt).
type deleted struct {
	at   map[string]uint64 // key -> revision of its delete marker
	ring []deletion        // the deletions at remembers, oldest at next once full
	next int
}

type deletion struct {
	key string
	rev uint64
}

const deletedMax = 1024

func (d *deleted) apply(e jetstream.KeyValueEntry) {
	if e == nil {
		return
	}
	k := e.Key()
	if e.Operation() == jetstream.KeyValuePut {
		delete(d.at, k) // a key written again (its old marker is forgotten)
		return
	}
	if d.at == nil {
		d.at = map[string]uint64{}
	}
	if len(d.ring) < deletedMax {
		d.ring = append(d.ring, deletion{k, e.Revision()})
	} else {
		old := d.ring[d.next]
		if d.at[old.key] == old.rev {
			delete(d.at, old.key)
		}
		d.ring[d.next] = deletion{k, e.Revision()}
		d.next = (d.next + 1) % deletedMax
	}
	d.at[k] = e.Revision()
}

// deletedAfter reports whether key, absent from the view, was deleted at
// a revision after rev (so it was there at rev, if it was there before):
// false if the hub saw no deletion of key or has forgotten it. Call it
// with the hub's lock held (in await's f).
func (h *hub) deletedAfter(key string, rev uint64) bool { return h.deleted.at[key] > rev }

// await calls f on the view (under the hub's lock) once the view is at
// revision min or later, and again after each change, until f returns true
// or the wait fails: with ctx's error, lostErr() once lost is closed (lost
// may be nil), ErrUnavailable if the watch ends or the connection fails its
// check (made once per lease TTL while nothing changes), ErrClientClosed.
func (h *hub) await(ctx context.Context, min uint64, lost <-chan struct{}, lostErr func() error, f func(entries map[string]jetstream.KeyValueEntry, pos uint64) bool) error {
	check := connCheck{c: h.c}
	defer check.stop()
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
		blocking("watch " + h.pattern)
		if _, _, err := recv(ctx, &check, ch, lost, lostErr, nil); err != nil {
			return err
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
