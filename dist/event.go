package dist

import (
	"context"

	"github.com/tockgo/tock"
)

// Event is a one-shot flag shared by every Client (of the same prefix) that
// makes an Event of the same name: once set, by any process, it stays set,
// and every Wait returns.
type Event struct {
	c   *Client
	key string
}

// NewEvent returns the Event called name. It makes no request. It panics if
// name is not made of letters, digits, '-' and '_', or is longer than 200 characters.
func (c *Client) NewEvent(name string) *Event {
	checkName("NewEvent", name)
	return &Event{c: c, key: "event." + name}
}

// Set sets the event for every process (one request; setting it again does
// nothing). It returns an error matching ErrUnavailable if the server cannot
// be reached (the event may or may not be set then). Set synchronizes
// before every Wait that returns because of it.
func (e *Event) Set(ctx context.Context) error {
	if err := e.c.checkOpen(); err != nil {
		return err
	}
	rctx, cancel := e.c.req(ctx)
	defer cancel()
	if _, err := e.c.kv.Create(rctx, e.key, []byte("1")); err != nil && !isCAS(err) {
		return netErr(ctx, "Event.Set "+e.key, err)
	}
	return nil
}

// IsSet reports whether the event is set (one request).
func (e *Event) IsSet(ctx context.Context) (bool, error) {
	_, ok, err := e.c.get(ctx, e.key)
	if err != nil {
		return false, netErr(ctx, "Event.IsSet "+e.key, err)
	}
	return ok, nil
}

// Wait blocks until the event is set (returning at once if it is) and
// returns nil. It returns ctx's error if ctx is done first (checked first,
// even if the event is set), an error matching ErrUnavailable if the server
// cannot be reached (it checks the connection once per lease TTL while it
// waits), ErrClientClosed after Client.Close.
func (e *Event) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v, err := e.c.watch(ctx, e.key)
	if err != nil {
		return err
	}
	defer v.stop()
	for {
		if err := v.next(ctx, nil, nil); err != nil {
			if _, ok := v.entries[e.key]; ok {
				return nil // set before we noticed the cancellation
			}
			return err
		}
		if _, ok := v.entries[e.key]; ok {
			return nil
		}
	}
}

var _ tock.Waiter = (*Event)(nil)
