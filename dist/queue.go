package dist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tockgo/tock"
)

// Queue is an anycast queue of T shared by every Client (of the same prefix)
// that makes a Queue of the same name, over a JetStream work-queue stream:
// each item goes to one consumer at a time.
//
// Delivery is at-least-once. Take hands out an Item to Ack; an item not
// acked within the queue's redelivery deadline (its consumer died, was cut
// off, or was slow) is delivered again, to whoever asks next. So an item can
// be processed twice, never lost: make its processing idempotent, or use the
// Item's delivery count. Get is Take followed by Ack, for code that takes a
// tock.Getter: an item is acked (removed) before Get returns it, so if the
// caller then dies the item is gone; use Take to ack after processing.
//
// Items are encoded with the Client's Codec.
type Queue[T any] struct {
	c       *Client
	name    string
	subject string
	cons    jetstream.Consumer

	mu     sync.Mutex
	closed bool
}

// QueueOption configures a Queue.
type QueueOption func(*queueConfig)

type queueConfig struct{ redeliver time.Duration }

// RedeliverAfter sets how long a taken item may stay unacked before it is
// delivered again (default 30s). Every handle of a queue should use the
// same value: the last one made sets it.
func RedeliverAfter(d time.Duration) QueueOption {
	if d <= 0 {
		panic("tock/dist: RedeliverAfter: the deadline must be positive")
	}
	return func(q *queueConfig) { q.redeliver = d }
}

// NewQueue returns the Queue called name, creating its consumer on the
// server if needed. It returns an error matching ErrUnavailable if the
// server cannot be reached. It panics if name is not made of letters,
// digits, '-' and '_', or is longer than 200 characters.
func NewQueue[T any](ctx context.Context, c *Client, name string, opts ...QueueOption) (*Queue[T], error) {
	checkName("NewQueue", name)
	cfg := queueConfig{redeliver: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	q := &Queue[T]{c: c, name: name, subject: c.cfg.prefix + ".q." + name}
	cons, err := c.js.CreateOrUpdateConsumer(ctx, c.queues, jetstream.ConsumerConfig{
		Durable:       "q_" + name,
		FilterSubject: q.subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.redeliver,
		MaxDeliver:    -1,
		MaxAckPending: -1,
		Replicas:      c.cfg.replicas,
	})
	if err != nil {
		return nil, netErr(ctx, "NewQueue "+name, err)
	}
	q.cons = cons
	return q, nil
}

// Name is the Queue's name.
func (q *Queue[T]) Name() string { return q.name }

func (q *Queue[T]) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := q.c.checkOpen(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("tock/dist: Queue %s: %w", q.name, tock.ErrClosedResource)
	}
	return nil
}

// Put appends v, returning once the server stored it. It returns ctx's error
// if ctx is done first, an error matching ErrCodec if v cannot be encoded,
// ErrUnavailable if the server cannot be reached (v may or may not be
// stored then), tock.ErrClosedResource after this handle's Close. Put
// synchronizes before the Take that delivers v.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	if err := q.check(ctx); err != nil {
		return err
	}
	data, err := q.c.cfg.codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("tock/dist: Queue.Put %s: %w: %w", q.name, ErrCodec, err)
	}
	rctx, cancel := q.c.req(ctx)
	defer cancel()
	if _, err := q.c.js.Publish(rctx, q.subject, data); err != nil {
		return netErr(ctx, "Queue.Put "+q.name, err)
	}
	return nil
}

// Item is one delivery of a Queue item.
type Item[T any] struct {
	Value T
	q     *Queue[T]
	msg   jetstream.Msg
}

// Deliveries is how many times the item was delivered (1 on the first).
func (it *Item[T]) Deliveries() int {
	md, err := it.msg.Metadata()
	if err != nil {
		return 1
	}
	return int(md.NumDelivered)
}

// Ack removes the item from the queue, waiting for the server to confirm
// it. An error (matching ErrUnavailable) means the ack may not have been
// recorded: the item may be delivered again.
func (it *Item[T]) Ack(ctx context.Context) error {
	rctx, cancel := it.q.c.req(ctx)
	defer cancel()
	if err := it.msg.DoubleAck(rctx); err != nil {
		return netErr(ctx, "Item.Ack "+it.q.name, err)
	}
	return nil
}

// Nak hands the item back to be delivered again at once.
func (it *Item[T]) Nak(ctx context.Context) error {
	if err := it.msg.Nak(); err != nil {
		return netErr(ctx, "Item.Nak "+it.q.name, err)
	}
	return nil
}

// InProgress restarts the item's redelivery deadline.
func (it *Item[T]) InProgress(ctx context.Context) error {
	if err := it.msg.InProgress(); err != nil {
		return netErr(ctx, "Item.InProgress "+it.q.name, err)
	}
	return nil
}

type fetched struct {
	msg jetstream.Msg
	err error
}

// Take blocks until an item is available and returns it, to be acked (see
// Item.Ack). It returns ctx's error if ctx is done first; an item that
// arrives for a Take already cancelled is handed back to the queue at once
// (Nak), so nothing is lost. It returns an error matching ErrUnavailable if
// the server cannot be reached, tock.ErrClosedResource after Close. An item
// that the Codec cannot decode is terminated (never redelivered) and Take
// returns an error matching ErrCodec.
func (q *Queue[T]) Take(ctx context.Context) (*Item[T], error) {
	if err := q.check(ctx); err != nil {
		return nil, err
	}
	for {
		wait := 2 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			if left := time.Until(dl); left < wait {
				wait = max(left, 10*time.Millisecond)
			}
		}
		res := make(chan fetched, 1)
		go func() {
			batch, err := q.cons.Fetch(1, jetstream.FetchMaxWait(wait))
			if err != nil {
				res <- fetched{err: err}
				return
			}
			var m jetstream.Msg
			for msg := range batch.Messages() {
				m = msg
			}
			if m == nil {
				res <- fetched{err: batch.Error()}
				return
			}
			res <- fetched{msg: m}
		}()
		var r fetched
		blocking("Queue.Take " + q.name)
		select {
		case r = <-res:
		case <-ctx.Done():
			select {
			case r = <-res: // it came at the same time: the wake-up wins
			default:
				go func() { // hand back whatever arrives for us
					if r := <-res; r.msg != nil {
						_ = r.msg.Nak()
					}
				}()
				return nil, ctx.Err()
			}
		case <-q.c.done:
			go func() {
				if r := <-res; r.msg != nil {
					_ = r.msg.Nak()
				}
			}()
			return nil, ErrClientClosed
		}
		if r.msg != nil {
			it := &Item[T]{q: q, msg: r.msg}
			if err := q.c.cfg.codec.Unmarshal(r.msg.Data(), &it.Value); err != nil {
				_ = r.msg.Term()
				return nil, fmt.Errorf("tock/dist: Queue.Take %s: %w: %w", q.name, ErrCodec, err)
			}
			return it, nil
		}
		if r.err != nil && !errors.Is(r.err, nats.ErrTimeout) && !errors.Is(r.err, jetstream.ErrNoMessages) && !errors.Is(r.err, context.DeadlineExceeded) {
			return nil, netErr(ctx, "Queue.Take "+q.name, r.err)
		}
		// Nothing within the wait: check the connection, then ask again.
		if err := q.c.alive(ctx); err != nil {
			return nil, err
		}
		if err := q.check(ctx); err != nil {
			return nil, err
		}
	}
}

// Get takes an item and acks it before returning its value (see the type's
// doc: the item is removed before the caller processes it). It returns the
// errors of Take and Ack; if the ack fails, the item will be delivered
// again and Get returns the error.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	var zero T
	it, err := q.Take(ctx)
	if err != nil {
		return zero, err
	}
	dctx, cancel := q.c.detached(ctx)
	defer cancel()
	if err := it.Ack(dctx); err != nil {
		return zero, err
	}
	return it.Value, nil
}

// Len returns how many items wait to be delivered (not counting those taken
// and not yet acked), one request. It is the server's count of the queue's
// consumer, which the server brings up to date after it acknowledged a Put
// (a moment later, on a goroutine of its own): a Len right after a Put may
// not count that item yet. Use it as a gauge, not to sequence on.
func (q *Queue[T]) Len(ctx context.Context) (int, error) {
	info, err := q.cons.Info(ctx)
	if err != nil {
		return 0, netErr(ctx, "Queue.Len "+q.name, err)
	}
	return int(info.NumPending), nil
}

// Close closes this handle: its later calls return tock.ErrClosedResource.
// It does not close the queue for other handles or processes, and the items
// stay in the queue.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

// Closed reports whether Close was called on this handle.
func (q *Queue[T]) Closed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

var (
	_ tock.Putter[int] = (*Queue[int])(nil)
	_ tock.Getter[int] = (*Queue[int])(nil)
)
