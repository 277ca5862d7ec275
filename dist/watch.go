package dist

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// keys is a view of the live keys under a pattern, fed the updates of one
// watch in order: the bucket as of revision pos, complete once ready.
type keys struct {
	entries map[string]jetstream.KeyValueEntry
	pos     uint64 // the highest revision applied
	ready   bool   // the watch's initial values are all in
}

// apply applies one update of the watch (nil: the initial values are in).
func (k *keys) apply(e jetstream.KeyValueEntry) {
	if e == nil {
		k.ready = true
		return
	}
	if e.Revision() > k.pos {
		k.pos = e.Revision()
	}
	if e.Operation() == jetstream.KeyValuePut {
		k.entries[e.Key()] = e
	} else {
		delete(k.entries, e.Key())
	}
}

// connCheck times the connection checks of one wait: one per lease TTL of
// waiting, counted from the first time the wait blocks.
type connCheck struct {
	c *Client
	t *time.Timer
}

func (k *connCheck) stop() {
	if k.t != nil {
		k.t.Stop()
	}
}

// testHookBlock, set only by tests, runs when a wait is about to block,
// with what it waits on.
var testHookBlock atomic.Pointer[func(what string)]

// blocking tells testHookBlock that a wait on what is about to block.
func blocking(what string) {
	if hook := testHookBlock.Load(); hook != nil {
		(*hook)(what)
	}
}

// recv waits for a value of ch (ok is false if ch is closed), checking the
// connection once per lease TTL meanwhile. It returns ctx's error once ctx
// is done, lostErr() once lost is closed (lost may be nil), ErrClientClosed
// once done is closed (done may be nil), or the check's error
// (ErrUnavailable) if the connection fails it.
func recv[T any](ctx context.Context, check *connCheck, ch <-chan T, lost <-chan struct{}, lostErr func() error, done <-chan struct{}) (v T, ok bool, err error) {
	if check.t == nil {
		check.t = time.NewTimer(check.c.cfg.ttl)
	}
	for {
		select {
		case v, ok = <-ch:
			return v, ok, nil
		case <-ctx.Done():
			return v, false, ctx.Err()
		case <-lost:
			return v, false, lostErr()
		case <-done:
			return v, false, ErrClientClosed
		case <-check.t.C:
			if err := check.c.alive(ctx); err != nil {
				return v, false, err
			}
			check.t.Reset(check.c.cfg.ttl)
		}
	}
}

// view follows the live keys under a pattern of the bucket: the first next
// returns once the current keys are known, each later one once something
// changed. Since the watch is one ordered consumer, the view is always the
// bucket as of some point of its history (never a mix of two).
type view struct {
	keys
	pattern string
	c       *Client
	w       jetstream.KeyWatcher
	cancel  context.CancelFunc
}

func (c *Client) watch(ctx context.Context, pattern string) (*view, error) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w, err := c.kv.Watch(wctx, pattern)
	if err != nil {
		cancel()
		return nil, netErr(ctx, "watch "+pattern, err)
	}
	return &view{pattern: pattern, c: c, w: w, cancel: cancel, keys: keys{entries: map[string]jetstream.KeyValueEntry{}}}, nil
}

func (v *view) stop() {
	_ = v.w.Stop()
	v.cancel()
}

// errWatchEnded: the watch's update channel closed under us.
var errWatchEnded = errors.New("watch ended")

// next waits for the view to change (the first call: to be complete). It
// returns ctx's error, the lease's error once lost is closed (lost may be
// nil), or an ErrUnavailable error if the connection fails its check, which
// it makes once per lease TTL while nothing happens.
func (v *view) next(ctx context.Context, lost <-chan struct{}, lostErr func() error) error {
	if err := v.c.checkOpen(); err != nil {
		return err
	}
	check := connCheck{c: v.c}
	defer check.stop()
	changed := false
	for {
		if changed || !v.ready {
			// Apply whatever is already there without waiting.
			select {
			case e, ok := <-v.w.Updates():
				if !ok {
					return fmt.Errorf("tock/dist: %w: %w", ErrUnavailable, errWatchEnded)
				}
				v.apply(e)
				changed = changed || v.ready
				continue
			default:
			}
			if changed {
				return nil
			}
		}
		blocking("watch " + v.pattern)
		e, ok, err := recv(ctx, &check, v.w.Updates(), lost, lostErr, v.c.done)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("tock/dist: %w: %w", ErrUnavailable, errWatchEnded)
		}
		wasReady := v.ready
		v.apply(e)
		changed = wasReady || v.ready
	}
}
