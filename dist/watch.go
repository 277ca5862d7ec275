package dist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// view follows the live keys under a pattern of the bucket: the first next
// returns once the current keys are known, each later one once something
// changed. Since the watch is one ordered consumer, the view is always the
// bucket as of some point of its history (never a mix of two).
type view struct {
	c       *Client
	w       jetstream.KeyWatcher
	cancel  context.CancelFunc
	entries map[string]jetstream.KeyValueEntry
	ready   bool
}

func (c *Client) watch(ctx context.Context, pattern string) (*view, error) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w, err := c.kv.Watch(wctx, pattern)
	if err != nil {
		cancel()
		return nil, netErr(ctx, "watch "+pattern, err)
	}
	return &view{c: c, w: w, cancel: cancel, entries: map[string]jetstream.KeyValueEntry{}}, nil
}

func (v *view) stop() {
	_ = v.w.Stop()
	v.cancel()
}

func (v *view) apply(e jetstream.KeyValueEntry) {
	if e == nil {
		v.ready = true
		return
	}
	if e.Operation() == jetstream.KeyValuePut {
		v.entries[e.Key()] = e
	} else {
		delete(v.entries, e.Key())
	}
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
	check := time.NewTimer(v.c.cfg.ttl)
	defer check.Stop()
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
		select {
		case e, ok := <-v.w.Updates():
			if !ok {
				return fmt.Errorf("tock/dist: %w: %w", ErrUnavailable, errWatchEnded)
			}
			wasReady := v.ready
			v.apply(e)
			changed = wasReady || v.ready
		case <-ctx.Done():
			return ctx.Err()
		case <-lost:
			return lostErr()
		case <-v.c.done:
			return ErrClientClosed
		case <-check.C:
			if err := v.c.alive(ctx); err != nil {
				return err
			}
			check.Reset(v.c.cfg.ttl)
		}
	}
}
