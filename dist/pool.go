package dist

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// pool is the shared core of Semaphore and CapacityLimiter: a set of leased
// tokens, each a key whose creation revision is its ticket, and a total. The
// holders are the tokens whose rank (the number of live tokens with a smaller
// ticket) is below the total. As tickets only grow, a token's rank only goes
// down while it lives: once a view of the bucket shows a rank below the
// total, it stays below, so a token never believes it holds when it does not
// (and at most total tokens ever have a rank below total).
type pool struct {
	c        *Client
	kind     string // for messages: "Semaphore", "CapacityLimiter"
	name     string
	pre      string // every key of the pool
	tpre     string // tokens
	totalKey string
	initial  int

	reuse   bool // token keys recur (one per borrower): remember freedAt
	mu      sync.Mutex
	freedAt map[string]uint64 // token key -> revision of our purge marker
}

type tokVal struct {
	O string `json:"o"`           // the holder (unique per acquisition)
	T uint64 `json:"t,omitempty"` // ticket (0: the key's revision)
	B string `json:"b,omitempty"` // borrower
	A bool   `json:"a,omitempty"` // admitted: a holder, not a waiter
}

type token struct {
	key string
	l   *lease
}

func decTok(e jetstream.KeyValueEntry) tokVal {
	r := decRec(e.Value())
	v := tokVal{O: r.O, T: r.T, B: r.B, A: r.A}
	if v.T == 0 {
		v.T = e.Revision()
	}
	return v
}

func (c *Client) newPool(ctx context.Context, kind, short, name string, total int) (*pool, error) {
	checkName("New"+kind, name)
	if total < 0 {
		panic(fmt.Sprintf("tock/dist: New%s: the total %d is negative", kind, total))
	}
	p := &pool{c: c, kind: kind, name: name, pre: short + "." + name + ".", initial: total, freedAt: map[string]uint64{}}
	p.tpre = p.pre + "t."
	p.totalKey = p.pre + "total"
	if _, err := c.kv.Create(ctx, p.totalKey, []byte(strconv.Itoa(total))); err != nil && !isCAS(err) {
		return nil, netErr(ctx, "New"+kind+" "+name, err)
	}
	return p, nil
}

func (p *pool) op(m string) string { return p.kind + "." + m + " " + p.name }

func (p *pool) total(entries map[string]jetstream.KeyValueEntry) int {
	if e, ok := entries[p.totalKey]; ok {
		if n, err := strconv.Atoi(string(e.Value())); err == nil {
			return n
		}
	}
	return p.initial
}

// rank counts the live tokens older than the one with ticket t.
func (p *pool) rank(entries map[string]jetstream.KeyValueEntry, t uint64) int {
	n := 0
	for k, e := range entries {
		if strings.HasPrefix(k, p.tpre) && decTok(e).T < t {
			n++
		}
	}
	return n
}

// acquire queues a token under suffix for borrower and waits until it is
// among the first total; with try, it gives up at once instead of waiting
// (returning nil, nil).
func (p *pool) acquire(ctx context.Context, suffix, borrower string, try bool) (*token, error) {
	if err := p.c.checkOpen(); err != nil {
		return nil, err
	}
	key := p.tpre + suffix
	owner := p.c.id + "-" + nuid.Next()
	sent := time.Now()
	val := enc(tokVal{O: owner, B: borrower})
	p.mu.Lock()
	at := p.freedAt[key]
	delete(p.freedAt, key)
	p.mu.Unlock()
	var rev uint64
	var err error
	if at != 0 {
		rev, err = p.c.cas(ctx, key, val, at, p.c.cfg.ttl)
		if err != nil && isCAS(err) {
			sent = time.Now()
			rev, err = p.c.create(ctx, key, val)
		}
	} else {
		rev, err = p.c.create(ctx, key, val)
	}
	if hook := testHookTokenCreate.Load(); hook != nil {
		err = (*hook)(key, err)
	}
	if err != nil {
		if isCAS(err) {
			return nil, fmt.Errorf("tock/dist: %s: %w: %s", p.op("Acquire"), ErrBorrowerBusy, borrower)
		}
		// The create may have landed: take the key back only if it is
		// ours (a borrower's key recurs across processes), at its revision.
		dctx, cancel := p.c.detached(ctx)
		if e, ok, gerr := p.c.get(dctx, key); gerr == nil && ok && decRec(e.Value()).O == owner {
			if hook := testHookTokenCleanup.Load(); hook != nil {
				(*hook)(key)
			}
			_, _ = p.c.drop(dctx, key, e.Revision())
		}
		cancel()
		return nil, netErr(ctx, p.op("Acquire"), err)
	}
	mine := func(b []byte) bool { return decRec(b).O == owner }
	tl := p.c.startLease(key, rev, enc(tokVal{O: owner, T: rev, B: borrower}), sent, mine)
	giveUp := func(cause error) (*token, error) {
		r, _ := tl.stop()
		dctx, cancel := p.c.detached(ctx)
		_, _ = p.c.drop(dctx, key, r)
		cancel()
		return nil, cause
	}
	h, err := p.c.hub(ctx, p.pre+">", "")
	if err != nil {
		return giveUp(err)
	}
	wctx := ctx
	if try {
		wctx = context.WithoutCancel(ctx)
	}
	admitted := false
	err = h.await(wctx, rev, tl.lost, tl.Err, func(es map[string]jetstream.KeyValueEntry, _ uint64) bool {
		admitted = p.rank(es, rev) < p.total(es)
		return admitted || try
	})
	if err != nil {
		return giveUp(err)
	}
	if !admitted {
		return giveUp(nil)
	}
	// Admitted: mark the token so that Borrowed counts it.
	if hook := testHookAdmitted.Load(); hook != nil {
		(*hook)()
	}
	dctx, cancel := p.c.detached(ctx)
	defer cancel()
	if err := tl.rewrite(dctx, enc(tokVal{O: owner, T: rev, B: borrower, A: true})); err != nil {
		return giveUp(netErr(ctx, p.op("Acquire"), err))
	}
	// A token returned holds a live lease: if the Client was closed
	// meanwhile (Close marks every lease lost), give the token up.
	if err := tl.Err(); err != nil {
		return giveUp(fmt.Errorf("tock/dist: %s: %w", p.op("Acquire"), err))
	}
	return &token{key: key, l: tl}, nil
}

func (p *pool) release(ctx context.Context, t *token) error {
	lostErr := t.l.Err()
	rev, _ := t.l.stop()
	dctx, cancel := p.c.detached(ctx)
	defer cancel()
	at, err := p.c.drop(dctx, t.key, rev)
	if err == nil && p.reuse {
		p.mu.Lock()
		if len(p.freedAt) < 1024 {
			p.freedAt[t.key] = at
		}
		p.mu.Unlock()
	}
	if lostErr != nil {
		return lostErr
	}
	if err != nil {
		if isCAS(err) {
			return fmt.Errorf("tock/dist: %s: %w", p.op("Release"), ErrLeaseLost)
		}
		return netErr(ctx, p.op("Release"), err)
	}
	return nil
}

// counts returns the total, the tokens held (admitted) and all live tokens.
func (p *pool) counts(ctx context.Context) (total, held, live int, err error) {
	v, err := p.c.watch(ctx, p.pre+">")
	if err != nil {
		return 0, 0, 0, err
	}
	defer v.stop()
	if err := v.next(ctx, nil, nil); err != nil {
		return 0, 0, 0, err
	}
	for k, e := range v.entries {
		if strings.HasPrefix(k, p.tpre) {
			live++
			if decTok(e).A {
				held++
			}
		}
	}
	return p.total(v.entries), held, live, nil
}

func (p *pool) setTotal(ctx context.Context, n int) error {
	if n < 0 {
		panic(fmt.Sprintf("tock/dist: %s.SetTotal: the total %d is negative", p.kind, n))
	}
	rctx, cancel := p.c.req(ctx)
	defer cancel()
	if _, err := p.c.kv.Put(rctx, p.totalKey, []byte(strconv.Itoa(n))); err != nil {
		return netErr(ctx, p.op("SetTotal"), err)
	}
	return nil
}

// rewrite replaces the lease's value now (a compare-and-set on its last
// revision, retried if a renewal raced with it, after a short wait if
// another writer did). It returns ctx's error if ctx is done while it waits.
func (l *lease) rewrite(ctx context.Context, val []byte) error {
	for try := 0; try < 5; try++ {
		l.mu.Lock()
		rev := l.rev
		l.mu.Unlock()
		sent := time.Now()
		nrev, err := l.c.cas(ctx, l.key, val, rev, l.c.cfg.ttl)
		if err == nil {
			l.adopt(nrev, val, sent)
			return nil
		}
		if !isCAS(err) {
			return err
		}
		l.mu.Lock()
		moved := l.rev != rev
		l.mu.Unlock()
		if !moved {
			// Not a renewal of ours: someone else wrote the key.
			if _, ok, gerr := l.c.get(ctx, l.key); gerr == nil && !ok {
				l.markLost(fmt.Errorf("%w: %s expired", ErrLeaseLost, l.key))
				return l.Err()
			}
			if hook := testHookRewriteWait.Load(); hook != nil {
				(*hook)()
			}
			if err := sleepCtx(ctx, rewriteBackoff); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("tock/dist: %s: rewrite kept conflicting", l.key)
}

// rewriteBackoff is how long a rewrite waits after a conflict that was not
// a renewal of its own (a variable for tests).
var rewriteBackoff = 10 * time.Millisecond

// testHookTokenCreate, set only by tests, sees the error of the write that
// queues a token (nil: it landed) and returns the error acquire goes on
// with (a test makes an outcome uncertain with it).
var testHookTokenCreate atomic.Pointer[func(key string, err error) error]

// testHookTokenCleanup, set only by tests, runs when acquire, cleaning up
// after a failed queueing write, read the key and found it ours, before it
// drops the key at the revision it read.
var testHookTokenCleanup atomic.Pointer[func(key string)]

// testHookAdmitted, set only by tests, runs when a token is admitted,
// before acquire marks it so.
var testHookAdmitted atomic.Pointer[func()]

// testHookRewriteWait, set only by tests, runs when a rewrite is about to
// wait out rewriteBackoff.
var testHookRewriteWait atomic.Pointer[func()]

// sleepCtx waits for d, or returns ctx's error as soon as ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
