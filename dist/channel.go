package dist

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tockgo/tock"
)

// Channel is a broadcast channel of T shared by every Client (of the same
// prefix) that makes a Channel of the same name: each value put goes to every
// current subscriber, in every process, in the order the server stored it.
// A value put while nobody subscribes is dropped (it is kept on the server
// for a minute, but only subscribers that exist when it is put receive it).
//
// A Subscription receives every value put after Subscribe returned, in
// order, none twice, across server restarts and reconnections (within the
// minute the server keeps values). Values are encoded with the Client's
// Codec.
type Channel[T any] struct {
	c       *Client
	name    string
	subject string

	mu     sync.Mutex
	closed bool
}

// NewChannel returns the Channel called name. It makes no request. It
// panics if name is not made of letters, digits, '-' and '_', or is longer than 200 characters.
func NewChannel[T any](c *Client, name string) *Channel[T] {
	checkName("NewChannel", name)
	return &Channel[T]{c: c, name: name, subject: c.cfg.prefix + ".ch." + name}
}

func (ch *Channel[T]) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ch.c.checkOpen(); err != nil {
		return err
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.closed {
		return fmt.Errorf("tock/dist: Channel %s: %w", ch.name, tock.ErrClosedResource)
	}
	return nil
}

// Put broadcasts v, returning once the server stored it. It returns ctx's
// error if ctx is done first, ErrCodec if v cannot be encoded, an error
// matching ErrUnavailable if the server cannot be reached (v may or may not
// be broadcast then), tock.ErrClosedResource after this handle's Close. Put
// synchronizes before each Receive that returns v.
func (ch *Channel[T]) Put(ctx context.Context, v T) error {
	if err := ch.check(ctx); err != nil {
		return err
	}
	data, err := ch.c.cfg.codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("tock/dist: Channel.Put %s: %w: %w", ch.name, ErrCodec, err)
	}
	rctx, cancel := ch.c.req(ctx)
	defer cancel()
	if _, err := ch.c.js.Publish(rctx, ch.subject, data); err != nil {
		return netErr(ctx, "Channel.Put "+ch.name, err)
	}
	return nil
}

// Subscription receives a Channel's values in order; see Channel.
type Subscription[T any] struct {
	ch   *Channel[T]
	cons jetstream.Consumer
	it   jetstream.MessagesContext

	mu     sync.Mutex
	closed bool
}

// Subscribe returns a Subscription that receives every value put from now
// on (two requests). Close it when done. It returns an error matching
// ErrUnavailable if the server cannot be reached.
func (ch *Channel[T]) Subscribe(ctx context.Context) (*Subscription[T], error) {
	if err := ch.check(ctx); err != nil {
		return nil, err
	}
	// Start right after the stream's last value, by sequence: an ordered
	// consumer that the client recreates (the server restarted) before it
	// delivered anything starts from its policy again, and "new" would then
	// skip what was put meanwhile.
	st, err := ch.c.js.Stream(ctx, ch.c.channels)
	if err != nil {
		return nil, netErr(ctx, "Channel.Subscribe "+ch.name, err)
	}
	cons, err := ch.c.js.OrderedConsumer(ctx, ch.c.channels, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{ch.subject},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    st.CachedInfo().State.LastSeq + 1,
	})
	if err != nil {
		return nil, netErr(ctx, "Channel.Subscribe "+ch.name, err)
	}
	// Create the consumer on the server now, so that values put after
	// Subscribe returns are received.
	if _, err := cons.Info(ctx); err != nil {
		return nil, netErr(ctx, "Channel.Subscribe "+ch.name, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, netErr(ctx, "Channel.Subscribe "+ch.name, err)
	}
	return &Subscription[T]{ch: ch, cons: cons, it: it}, nil
}

// Receive returns the next value. It returns ctx's error if ctx is done
// first (no value is lost: the next Receive returns it), an error matching
// ErrUnavailable if the server cannot be reached (it checks the connection
// once per lease TTL while it waits), ErrCodec for a value the Codec cannot
// decode (it is skipped), tock.ErrClosedResource after Close, and
// ErrClientClosed after the Client's Close (also one that ends the wait).
func (s *Subscription[T]) Receive(ctx context.Context) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	for {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return zero, fmt.Errorf("tock/dist: Subscription %s: %w", s.ch.name, tock.ErrClosedResource)
		}
		if err := s.ch.c.checkOpen(); err != nil {
			return zero, err
		}
		nctx, cancel := context.WithTimeout(ctx, s.ch.c.cfg.ttl)
		stop := context.AfterFunc(s.ch.c.ctx, cancel) // the Client's Close ends the wait
		blocking("Subscription.Receive " + s.ch.name)
		m, err := s.it.Next(jetstream.NextContext(nctx))
		stop()
		cancel()
		if err == nil {
			var v T
			if err := s.ch.c.cfg.codec.Unmarshal(m.Data(), &v); err != nil {
				return zero, fmt.Errorf("tock/dist: Subscription.Receive %s: %w: %w", s.ch.name, ErrCodec, err)
			}
			return v, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return zero, cerr
		}
		if err := s.ch.c.checkOpen(); err != nil {
			return zero, err
		}
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return zero, fmt.Errorf("tock/dist: Subscription %s: %w", s.ch.name, tock.ErrClosedResource)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			return zero, netErr(ctx, "Subscription.Receive "+s.ch.name, err)
		}
		if err := s.ch.c.alive(ctx); err != nil {
			return zero, err
		}
	}
}

// Close ends the subscription; its later Receives return
// tock.ErrClosedResource.
func (s *Subscription[T]) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.it.Stop()
}

// Receive waits for the next value put on the channel and returns it: it
// sees only values put while it waits. It subscribes for the wait and so
// returns the errors of Subscribe and Subscription.Receive.
func (ch *Channel[T]) Receive(ctx context.Context) (T, error) {
	var zero T
	s, err := ch.Subscribe(ctx)
	if err != nil {
		return zero, err
	}
	defer s.Close()
	return s.Receive(ctx)
}

// Close closes this handle: its later Put, Subscribe and Receive return
// tock.ErrClosedResource. It does not affect other handles or processes, nor
// the subscriptions already made.
func (ch *Channel[T]) Close() {
	ch.mu.Lock()
	ch.closed = true
	ch.mu.Unlock()
}

// Closed reports whether Close was called on this handle.
func (ch *Channel[T]) Closed() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.closed
}

var (
	_ tock.Putter[int]   = (*Channel[int])(nil)
	_ tock.Receiver[int] = (*Channel[int])(nil)
	_ tock.Receiver[int] = (*Subscription[int])(nil)
)
