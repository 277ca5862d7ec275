// Package dist offers tock's primitives across processes, over NATS
// JetStream: Lock, Semaphore, CapacityLimiter, Event, Queue[T] and
// Channel[T]. Each one is named: every process whose Client uses the same
// prefix and the same name shares it. They keep the in-process types'
// method names and ctx-first shape and satisfy the small interfaces of
// package tock (tock.Locker, tock.Limiter, tock.Acquirer, tock.Waiter,
// tock.Putter, tock.Getter, tock.Receiver), so service code that takes those
// interfaces runs against either.
//
// What differs from the in-process types, because a network sits between the
// processes:
//
//   - Every call that talks to the server can fail. Its error matches
//     ErrUnavailable (errors.Is) when the server could not be reached or did
//     not answer in time; the underlying nats error stays in the chain. No
//     call waits forever on a dead connection: a blocked call checks the
//     connection at least once per lease TTL and returns ErrUnavailable when
//     it is gone.
//   - Whatever a process holds (a Lock, a Semaphore or CapacityLimiter
//     token, a place in a wait queue) is a lease: a key with a TTL that the
//     holding process renews while it holds it. A process that dies, or is
//     cut off, loses what it held after the TTL, so the others go on. The
//     holder learns it lost the lease from Lock.Lost, Lock.Fence, or the
//     error of its next call (ErrLeaseLost).
//   - Queue delivery is at-least-once: an item taken and not acked within its
//     redelivery deadline (its holder died, or was slow) is delivered again.
//
// A blocked call honours ctx as tock's primitives do: it returns ctx's error
// without the resource, unless the resource was already handed to it, in
// which case it returns nil ("the wake-up wins") and nothing is lost; an
// abandoned place in line is given up, an item fetched for a cancelled call
// is handed back to the queue at once.
package dist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Errors returned by the distributed types; match them with errors.Is.
var (
	// ErrUnavailable: the NATS server could not be reached, or did not
	// answer in time. The call may or may not have taken effect on the
	// server; what it held (if anything) will expire after its lease TTL.
	ErrUnavailable = errors.New("tock/dist: NATS unavailable")
	// ErrLeaseLost: the lease on what the caller held (a lock, a token, a
	// place in line) was not renewed in time or was taken over; the caller
	// no longer holds it and must not act as if it did.
	ErrLeaseLost = errors.New("tock/dist: lease lost")
	// ErrNotHeld: the caller asked about a hold it does not have.
	ErrNotHeld = errors.New("tock/dist: not held")
	// ErrClientClosed: the Client (or the handle) was closed.
	ErrClientClosed = errors.New("tock/dist: client closed")
	// ErrBorrowerBusy: CapacityLimiter.AcquireFor was called for a borrower
	// that already holds a token of that limiter in another process.
	ErrBorrowerBusy = errors.New("tock/dist: borrower already holds a token")
	// ErrCodec: a value could not be encoded, or an item could not be
	// decoded (the item is then terminated, not redelivered).
	ErrCodec = errors.New("tock/dist: codec")
)

// Codec encodes the values of Queue[T] and Channel[T]. It must be safe for
// concurrent use.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSON is the default Codec: encoding/json.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Option configures a Client.
type Option func(*config)

type config struct {
	prefix   string
	ttl      time.Duration
	replicas int
	codec    Codec
	timeout  time.Duration
}

// WithPrefix names the KV bucket and streams the Client uses (default
// "tock"); processes share primitives only within one prefix. It panics if
// the prefix is not made of letters, digits, '-' and '_', or is longer than 200 characters.
func WithPrefix(p string) Option {
	checkName("WithPrefix", p)
	return func(c *config) { c.prefix = p }
}

// WithLeaseTTL sets the lease TTL of everything the Client holds (default
// 5s, at least 1s, as the server counts per-message TTLs in seconds). A
// holder renews its lease every TTL/3; a holder that cannot renew considers
// its lease lost 9/10 of a TTL after the last renewal it sent, before the
// server drops it. It panics below 1s.
func WithLeaseTTL(d time.Duration) Option {
	if d < time.Second {
		panic("tock/dist: WithLeaseTTL: the TTL must be at least 1s, got " + d.String())
	}
	return func(c *config) { c.ttl = d }
}

// WithReplicas sets the replication factor of the bucket and streams the
// Client creates (default 1; use 3 on a 3-node cluster).
func WithReplicas(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("tock/dist: WithReplicas: %d replicas", n))
	}
	return func(c *config) { c.replicas = n }
}

// WithCodec sets the Codec of the Queues and Channels made from the Client
// (default JSON).
func WithCodec(cd Codec) Option {
	if cd == nil {
		panic("tock/dist: WithCodec: nil codec")
	}
	return func(c *config) { c.codec = cd }
}

// WithRequestTimeout bounds each request to the server made under a ctx
// without a deadline (default 5s).
func WithRequestTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("tock/dist: WithRequestTimeout: the timeout must be positive")
	}
	return func(c *config) { c.timeout = d }
}

// Client is a connection to JetStream for tock's distributed primitives. It
// is safe for concurrent use. Close it when done: it stops renewing the
// leases it holds (they expire after their TTL).
type Client struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	cfg config
	id  string

	queues   string // stream names
	channels string

	mu      sync.Mutex
	closed  bool
	done    chan struct{}
	leases  map[*lease]struct{}
	hubs    map[string]*hub
	workers sync.WaitGroup
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
}

// Connect makes a Client over nc, creating (or reusing) the KV bucket and the
// two streams it needs. It returns an error matching ErrUnavailable if the
// server cannot be reached or has no JetStream, and ctx's error if ctx is
// done first. Its requests wait for ctx's deadline if ctx has one (else for
// the request timeout, WithRequestTimeout): a request that goes unanswered,
// as one can while a fresh cluster settles, then costs the whole deadline,
// so give each attempt a short deadline and retry on either error.
func Connect(ctx context.Context, nc *nats.Conn, opts ...Option) (*Client, error) {
	cfg := config{prefix: "tock", ttl: 5 * time.Second, replicas: 1, codec: JSON, timeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(cfg.timeout))
	if err != nil {
		return nil, netErr(ctx, "Connect", err)
	}
	c := &Client{nc: nc, js: js, cfg: cfg, id: nuid.Next(), done: make(chan struct{}), leases: map[*lease]struct{}{},
		hubs: map[string]*hub{}, queues: cfg.prefix + "_queues", channels: cfg.prefix + "_channels"}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         cfg.prefix,
		History:        1,
		Replicas:       cfg.replicas,
		Storage:        jetstream.FileStorage,
		LimitMarkerTTL: time.Minute,
	})
	if err != nil {
		c.cancel()
		return nil, netErr(ctx, "Connect: KV bucket "+cfg.prefix, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      c.queues,
		Subjects:  []string{cfg.prefix + ".q.>"},
		Retention: jetstream.WorkQueuePolicy,
		Replicas:  cfg.replicas,
		Storage:   jetstream.FileStorage,
	}); err != nil {
		c.cancel()
		return nil, netErr(ctx, "Connect: stream "+c.queues, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:     c.channels,
		Subjects: []string{cfg.prefix + ".ch.>"},
		MaxAge:   time.Minute,
		Replicas: cfg.replicas,
		Storage:  jetstream.FileStorage,
	}); err != nil {
		c.cancel()
		return nil, netErr(ctx, "Connect: stream "+c.channels, err)
	}
	return c, nil
}

// ID is this Client's unique identity (it appears in lock owners).
func (c *Client) ID() string { return c.id }

// LeaseTTL is the lease TTL of the Client.
func (c *Client) LeaseTTL() time.Duration { return c.cfg.ttl }

// Close stops the Client's lease renewals and background work and waits for
// them to end. What the Client held is not released: it expires after its
// lease TTL (release explicitly first for a prompt hand-over). Calls made
// after Close return ErrClientClosed, and so does a Lock or an acquisition
// that Close interrupts before it returned (it gives up what it was taking:
// a call that returns nil holds a live lease). It does not close the
// nats.Conn.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.done)
	c.cancel()
	ls := make([]*lease, 0, len(c.leases))
	for l := range c.leases {
		ls = append(ls, l)
	}
	c.mu.Unlock()
	for _, l := range ls {
		l.stop()
		// no more renewals: a holder watching Lost learns it now, not
		// never (the key itself expires on the server after its TTL)
		l.markLost(fmt.Errorf("%w: %w", ErrLeaseLost, ErrClientClosed))
	}
	c.workers.Wait()
}

func (c *Client) checkOpen() error {
	select {
	case <-c.done:
		return ErrClientClosed
	default:
		return nil
	}
}

// goWorker runs f on a goroutine that Close waits for, and reports whether
// it did: after Close it does not run f (Close may be waiting already).
func (c *Client) goWorker(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.workers.Add(1)
	go func() {
		defer c.workers.Done()
		f()
	}()
	return true
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func checkName(op, name string) {
	if !nameRE.MatchString(name) {
		panic(fmt.Sprintf("tock/dist: %s: the name %q must be non-empty letters, digits, '-' or '_'", op, name))
	}
	if len(name) > maxName {
		panic(fmt.Sprintf("tock/dist: %s: the name %.40q... is %d characters long, over %d (it becomes part of the server's subjects, keys and consumer names, which it bounds)", op, name, len(name), maxName))
	}
}

// maxName is the longest name (and prefix) a primitive may have.
const maxName = 200

// netErr turns an error of a request into the error the caller sees: ctx's
// own error if ctx is done, else one matching ErrUnavailable (keeping err in
// the chain).
func netErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("tock/dist: %s: %w: %w", op, ErrUnavailable, err)
}

// detached returns a ctx for clean-up work after ctx is done: not cancelled
// with ctx, bounded by the request timeout.
func (c *Client) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.cfg.timeout)
}

// req bounds one request by the request timeout, whatever ctx's own
// deadline: a server that does not answer is an error, never a long wait.
func (c *Client) req(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.cfg.timeout {
		return ctx, func() {} // bounded already (e.g. a detached ctx)
	}
	return context.WithTimeout(ctx, c.cfg.timeout)
}

// alive checks the connection with a round trip to the server.
func (c *Client) alive(ctx context.Context) error {
	if c.nc.IsClosed() {
		return fmt.Errorf("tock/dist: %w: %w", ErrUnavailable, nats.ErrConnectionClosed)
	}
	fctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	defer cancel()
	if err := c.nc.FlushWithContext(fctx); err != nil {
		return netErr(ctx, "connection check", err)
	}
	return nil
}

// isCAS reports whether err is a failed compare-and-set (wrong last
// sequence, or key exists).
func isCAS(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// cas writes val under key if key's last revision is rev, with a TTL of ttl
// (0: none), and returns the new revision.
func (c *Client) cas(ctx context.Context, key string, val []byte, rev uint64, ttl time.Duration) (uint64, error) {
	ctx, cancel := c.req(ctx)
	defer cancel()
	m := &nats.Msg{Subject: "$KV." + c.cfg.prefix + "." + key, Header: nats.Header{}, Data: val}
	opts := []jetstream.PublishOpt{jetstream.WithExpectLastSequencePerSubject(rev)}
	if ttl > 0 {
		opts = append(opts, jetstream.WithMsgTTL(ttl))
	}
	pa, err := c.js.PublishMsg(ctx, m, opts...)
	if err != nil {
		return 0, err
	}
	return pa.Sequence, nil
}

// del writes a delete marker for key if its last revision is rev, and
// returns the marker's revision.
func (c *Client) del(ctx context.Context, key string, rev uint64) (uint64, error) {
	ctx, cancel := c.req(ctx)
	defer cancel()
	m := &nats.Msg{Subject: "$KV." + c.cfg.prefix + "." + key, Header: nats.Header{}}
	m.Header.Set("KV-Operation", "DEL")
	pa, err := c.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(rev))
	if err != nil {
		return 0, err
	}
	return pa.Sequence, nil
}

// create writes key if it does not exist (or was deleted), with the lease
// TTL.
func (c *Client) create(ctx context.Context, key string, val []byte) (uint64, error) {
	ctx, cancel := c.req(ctx)
	defer cancel()
	return c.kv.Create(ctx, key, val, jetstream.KeyTTL(c.cfg.ttl))
}

// get reads key; ok is false if it does not exist.
func (c *Client) get(ctx context.Context, key string) (e jetstream.KeyValueEntry, ok bool, err error) {
	ctx, cancel := c.req(ctx)
	defer cancel()
	e, err = c.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return e, true, nil
}

// drop removes a key of a lease whose last revision is rev (0: whatever it
// is), leaving a marker that the server removes after a minute; it returns
// the marker's revision.
func (c *Client) drop(ctx context.Context, key string, rev uint64) (uint64, error) {
	ctx, cancel := c.req(ctx)
	defer cancel()
	m := &nats.Msg{Subject: "$KV." + c.cfg.prefix + "." + key, Header: nats.Header{}}
	m.Header.Set("KV-Operation", "PURGE")
	m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	opts := []jetstream.PublishOpt{jetstream.WithMsgTTL(time.Minute)}
	if rev != 0 {
		opts = append(opts, jetstream.WithExpectLastSequencePerSubject(rev))
	}
	pa, err := c.js.PublishMsg(ctx, m, opts...)
	if err != nil {
		return 0, err
	}
	return pa.Sequence, nil
}
