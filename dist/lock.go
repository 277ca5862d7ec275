package dist

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/tockgo/tock"
)

// Lock is a mutual-exclusion lock shared by every Client (of the same
// prefix) that makes a Lock of the same name. Like tock.Lock, it is owned by
// the task in the ctx given to Lock (within this Lock handle), re-entrant for
// that task, and only its owner may unlock it; a ctx with no tock task is an
// anonymous owner, which cannot re-enter. Every anonymous caller of one Lock
// handle is the same owner: after a lease loss, an anonymous Lock on the
// handle replaces the lost hold, and the next anonymous Unlock or Release
// ends the hold the handle has then, whoever took it. Give each caller a
// task (tock.Run, Group.Go) to have holds told apart per caller.
//
// Holding the lock is a lease: the holder's process renews it every TTL/3
// while it holds it. If the process dies or is cut off from the server, the
// lock is freed after the TTL and handed on. Each acquisition gets a fencing
// token (Fence), larger than the token of every earlier acquisition: pass it
// to the resource the lock protects, so that the resource can refuse the
// writes of a holder that lost its lease without knowing it yet. A holder
// learns the loss itself through Lost (a channel closed at the loss), Fence
// (ErrLeaseLost), a re-entrant Lock (ErrLeaseLost) and Release.
//
// Waiters are served in FIFO order across processes: a waiter takes a ticket
// (a key in the bucket, whose revision orders it) and the releasing holder
// hands the lock to the oldest waiter still there. The one exception: a
// caller that arrives just as the holder releases the lock, after the holder
// checked for waiters and before the first waiter marked the lock, may take
// the free lock first.
//
// A Lock is safe for concurrent use by the tasks of one process.
type Lock struct {
	c    *Client
	name string
	hkey string // the holder's key
	qpre string // prefix of the waiters' keys
	pat  string // every key of the lock

	mu    sync.Mutex
	holds map[uint64]*lockHold // by task ID (0: anonymous)

	// freedAt is the revision of the delete marker of this handle's last
	// release (0: unknown): the next Lock tries a compare-and-set on it,
	// one request instead of the three of a Create over a deleted key.
	freedAt atomic.Uint64
}

type lockHold struct {
	depth int
	owner string
	fence uint64
	l     *lease
}

// lockVal is the value of the holder's key.
type lockVal struct {
	O string `json:"o"`           // owner
	W bool   `json:"w,omitempty"` // waiters may be queued: hand over on release
	C bool   `json:"c,omitempty"` // the owner confirmed it took the lock
}

// qVal is the value of a waiter's key.
type qVal struct {
	O string `json:"o"`           // owner it waits for
	T uint64 `json:"t,omitempty"` // ticket (0: the key's revision)
}

// enc encodes a value of the bucket (see record.go).
func enc(v any) []byte {
	switch v := v.(type) {
	case lockVal:
		return encRec(rec{O: v.O, W: v.W, C: v.C})
	case qVal:
		return encRec(rec{O: v.O, T: v.T})
	case tokVal:
		return encRec(rec{O: v.O, T: v.T, B: v.B, A: v.A})
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func decLock(b []byte) lockVal {
	r := decRec(b)
	return lockVal{O: r.O, W: r.W, C: r.C}
}

func decQ(e jetstream.KeyValueEntry) qVal {
	r := decRec(e.Value())
	v := qVal{O: r.O, T: r.T}
	if v.T == 0 {
		v.T = e.Revision()
	}
	return v
}

// NewLock returns the Lock called name. It makes no request. It panics if
// name is not made of letters, digits, '-' and '_', or is longer than 200 characters.
func (c *Client) NewLock(name string) *Lock {
	checkName("NewLock", name)
	return &Lock{c: c, name: name, hkey: "lock." + name + ".h", qpre: "lock." + name + ".q.", pat: "lock." + name + ".>", holds: map[uint64]*lockHold{}}
}

// Name is the Lock's name.
func (l *Lock) Name() string { return l.name }

// hub is the Client's watch of the lock's keys.
func (l *Lock) hub(ctx context.Context) (*hub, error) { return l.c.hub(ctx, l.pat, l.hkey) }

func (l *Lock) mine(owner string) func([]byte) bool {
	return func(b []byte) bool { return decLock(b).O == owner }
}

// Lock acquires the lock for the task in ctx, blocking while another task
// (of this process or another) holds it. If ctx's task already holds it
// through this handle, the depth goes up by one and Lock returns at once
// (ErrLeaseLost, without re-entering, if that hold's lease was lost).
//
// Lock returns ctx's error without the lock if ctx is done first; if the lock
// was handed to the caller before it noticed the cancellation, Lock returns
// nil and the caller holds it. It returns an error matching ErrUnavailable if
// the server cannot be reached (then the caller does not hold the lock; a
// place in line it had is given up or expires), ErrLeaseLost if its place in
// line expired, ErrClientClosed after Client.Close. A Lock that returns nil
// holds a live lease: if the Client is closed while Lock takes the lock,
// Lock returns an error matching ErrClientClosed and leaves nothing behind
// (it frees the lock and gives up its place in line).
//
// Lock synchronizes after the Release that handed the lock over: a holder
// that uses the fencing token sees the writes of the previous holder through
// the resource the token guards.
func (l *Lock) Lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := l.c.checkOpen(); err != nil {
		return err
	}
	id := tock.TaskID(ctx)
	if ok, err := l.reenter(id); ok {
		return err
	}
	owner := l.c.id + "-" + nuid.Next()
	at, held := l.guess()
	if held {
		// This process watches the lock (it waited for it before) and
		// sees it held: queue at once rather than spend two requests on
		// a create bound to fail. (If the view lags and the lock is free,
		// the wait takes it.)
		return l.wait(ctx, id, owner)
	}
	got, err := l.tryCreate(ctx, id, owner, at)
	if got || err != nil {
		return err
	}
	return l.wait(ctx, id, owner)
}

// TryLock takes the lock if it is free (or re-enters it for ctx's task)
// without waiting, and reports whether it did. It ignores ctx's
// cancellation; the error is a network one (ErrUnavailable), ErrLeaseLost
// for a lost re-entered hold, or ErrClientClosed (also when the Client is
// closed while TryLock takes the lock: it then frees it, as Lock does).
func (l *Lock) TryLock(ctx context.Context) (bool, error) {
	if err := l.c.checkOpen(); err != nil {
		return false, err
	}
	id := tock.TaskID(ctx)
	if ok, err := l.reenter(id); ok {
		return err == nil, err
	}
	at, _ := l.guess()
	return l.tryCreate(context.WithoutCancel(ctx), id, l.c.id+"-"+nuid.Next(), at)
}

func (l *Lock) reenter(id uint64) (bool, error) {
	if id == 0 {
		return false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.holds[id]
	if h == nil {
		return false, nil
	}
	if err := h.l.Err(); err != nil {
		return true, fmt.Errorf("tock/dist: Lock.Lock %s: re-entry: %w", l.name, err)
	}
	h.depth++
	return true, nil
}

// guess returns what this process knows of the holder's key without a
// request: the revision of its delete marker (0: unknown), or held if it
// looks held. The freshest source wins: the Client's watch of the lock, if
// it runs and has seen at least this handle's last release, else the
// marker of that release.
func (l *Lock) guess() (at uint64, held bool) {
	at = l.freedAt.Swap(0)
	if h := l.c.peekHub(l.pat); h != nil {
		if ready, live, marker, pos := h.state(); ready && pos >= at {
			return marker, live
		}
	}
	return at, false
}

// tryCreate takes the free lock (at: see createAt); got is false (with a nil error) if the
// lock is held.
func (l *Lock) tryCreate(ctx context.Context, id uint64, owner string, at uint64) (bool, error) {
	val := enc(lockVal{O: owner, C: true})
	sent, rev, err := l.createAt(ctx, val, at)
	if err == nil {
		if err := l.take(ctx, id, owner, rev, val, sent); err != nil {
			return false, err
		}
		return true, nil
	}
	if isCAS(err) {
		return false, nil
	}
	// The request may have landed: if so the lock is ours (the wake-up
	// wins); otherwise report the failure.
	if ours, err := l.resolve(ctx, id, owner); ours {
		return err == nil, err
	}
	return false, netErr(ctx, "Lock.Lock "+l.name, err)
}

// createAt writes val as the holder's key if the key is free: first with a
// compare-and-set on at, the revision of the key's delete marker as last
// seen (one request; 0: not known), then, if that fails, with a Create (up
// to three requests: the marker may be gone or newer). sent is when the
// successful write was sent.
func (l *Lock) createAt(ctx context.Context, val []byte, at uint64) (sent time.Time, rev uint64, err error) {
	sent = time.Now()
	if at != 0 {
		rev, err = l.c.cas(ctx, l.hkey, val, at, l.c.cfg.ttl)
		if err == nil || !isCAS(err) {
			return sent, rev, err
		}
		sent = time.Now()
	}
	rev, err = l.c.create(ctx, l.hkey, val)
	return sent, rev, err
}

// take makes the lock, written for owner at rev with val by a request sent
// at sent, the hold of task id, under a lease. If the lease is lost by the
// time the hold is recorded (the Client was closed meanwhile: Close marks
// every lease lost, and a lease started after Close is lost at once), take
// records nothing, frees the key and returns the lease's error (it matches
// ErrClientClosed after Close): a Lock that returns nil holds a live lease.
func (l *Lock) take(ctx context.Context, id uint64, owner string, rev uint64, val []byte, sent time.Time) error {
	ls := l.c.startLease(l.hkey, rev, val, sent, l.mine(owner))
	if hook := testHookTake.Load(); hook != nil {
		(*hook)()
	}
	h := &lockHold{depth: 1, owner: owner, fence: rev, l: ls}
	l.mu.Lock()
	if err := ls.Err(); err != nil {
		l.mu.Unlock()
		rev, _ := ls.stop()
		dctx, cancel := l.c.detached(ctx)
		_, _ = l.c.del(dctx, l.hkey, rev) // free it: a waiter sees it gone and takes it
		cancel()
		return fmt.Errorf("tock/dist: Lock.Lock %s: %w", l.name, err)
	}
	old := l.holds[id]
	l.holds[id] = h
	l.mu.Unlock()
	if old != nil {
		old.l.stop() // a hold whose lease was lost and not yet released (after l.mu: stop waits for a renewal under way)
	}
	return nil
}

// resolve checks, after a failed or abandoned request, whether the lock is
// owner's; if so it confirms and takes it. ours reports whether the lock
// was owner's; if so, err is take's (nil: the caller holds it now).
func (l *Lock) resolve(ctx context.Context, id uint64, owner string) (ours bool, err error) {
	dctx, cancel := l.c.detached(ctx)
	defer cancel()
	e, ok, err := l.c.get(dctx, l.hkey)
	if err != nil || !ok {
		return false, nil
	}
	rev, val, sent, got, err := l.confirm(dctx, owner, e)
	if err != nil || !got {
		return false, nil
	}
	return true, l.take(ctx, id, owner, rev, val, sent)
}

// confirm makes owner's hold of the lock (handed over in e) final: the
// releaser may take back a hand-off until then. got is false if the lock is
// not (or no longer) owner's.
func (l *Lock) confirm(ctx context.Context, owner string, e jetstream.KeyValueEntry) (rev uint64, val []byte, sent time.Time, got bool, err error) {
	for try := 0; try < 50; try++ {
		v := decLock(e.Value())
		if v.O != owner {
			return 0, nil, time.Time{}, false, nil
		}
		v.C = true
		val = enc(v)
		sent = time.Now()
		rev, err = l.c.cas(ctx, l.hkey, val, e.Revision(), l.c.cfg.ttl)
		if err == nil {
			return rev, val, sent, true, nil
		}
		if !isCAS(err) {
			return 0, nil, time.Time{}, false, err
		}
		var ok bool
		e, ok, err = l.c.get(ctx, l.hkey)
		if err != nil {
			return 0, nil, time.Time{}, false, err
		}
		if !ok {
			return 0, nil, time.Time{}, false, nil
		}
	}
	return 0, nil, time.Time{}, false, fmt.Errorf("tock/dist: Lock %s: confirm kept conflicting", l.name)
}

// wait queues a ticket and waits for the lock.
func (l *Lock) wait(ctx context.Context, id uint64, owner string) (err error) {
	qkey := l.qpre + nuid.Next()
	sent := time.Now()
	qrev, err := l.c.create(ctx, qkey, enc(qVal{O: owner}))
	if hook := testHookTicketCreate.Load(); hook != nil {
		err = (*hook)(qkey, err)
	}
	if err != nil {
		dctx, cancel := l.c.detached(ctx)
		_, _ = l.c.drop(dctx, qkey, 0)
		cancel()
		// The write may have landed (a timeout), and a releaser may have
		// handed the lock to the ticket before the drop: we keep it then
		// (the wake-up wins, as in giveUp), rather than leave it handed
		// to nobody until its lease expires.
		if ours, err := l.resolve(ctx, id, owner); ours {
			return err
		}
		return netErr(ctx, "Lock.Lock "+l.name+": queue", err)
	}
	ql := l.c.startLease(qkey, qrev, enc(qVal{O: owner, T: qrev}), sent, nil)
	h, err := l.hub(ctx)
	if err != nil {
		return l.giveUp(ctx, id, owner, qkey, ql, err)
	}
	const (
		actConfirm = iota
		actCreate
		actFlag
	)
	min := qrev // read the view once it includes our ticket
	for {
		var act, others int
		var he jetstream.KeyValueEntry
		var pos, marker uint64
		err := h.await(ctx, min, ql.lost, ql.Err, func(es map[string]jetstream.KeyValueEntry, p uint64) bool {
			pos, marker = p, h.gone
			e, held := es[l.hkey]
			switch {
			case held && decLock(e.Value()).O == owner:
				act, he = actConfirm, e
			case !held:
				ws := l.waiters(es)
				if len(ws) == 0 || ws[0].key != qkey {
					return false
				}
				act, others = actCreate, len(ws)-1
			case !decLock(e.Value()).W:
				act, he = actFlag, e
			default:
				return false
			}
			return true
		})
		if err != nil {
			return l.giveUp(ctx, id, owner, qkey, ql, err)
		}
		// Unless we finish here, look again only once the view moved on.
		min = pos + 1
		switch act {
		case actConfirm:
			// Handed over to us: confirm, whatever ctx says now.
			dctx, cancel := l.c.detached(ctx)
			rev, val, sent, got, err := l.confirm(dctx, owner, he)
			cancel()
			if err != nil {
				return l.giveUp(ctx, id, owner, qkey, ql, netErr(ctx, "Lock.Lock "+l.name+": confirm", err))
			}
			if got {
				err := l.take(ctx, id, owner, rev, val, sent)
				l.leaveQueue(ctx, qkey, ql)
				return err
			}
		case actCreate:
			val := enc(lockVal{O: owner, C: true, W: others > 0})
			sent, rev, err := l.createAt(ctx, val, marker)
			if err == nil {
				err := l.take(ctx, id, owner, rev, val, sent)
				l.leaveQueue(ctx, qkey, ql)
				return err
			}
			if !isCAS(err) {
				return l.giveUp(ctx, id, owner, qkey, ql, netErr(ctx, "Lock.Lock "+l.name, err))
			}
		case actFlag:
			// Tell the holder to hand over on release.
			hv := decLock(he.Value())
			hv.W = true
			if _, err := l.c.cas(ctx, l.hkey, enc(hv), he.Revision(), l.c.cfg.ttl); err != nil && !isCAS(err) && ctx.Err() == nil {
				return l.giveUp(ctx, id, owner, qkey, ql, netErr(ctx, "Lock.Lock "+l.name, err))
			}
		}
	}
}

type waiter struct {
	key    string
	owner  string
	ticket uint64
}

// waiters lists the queued tickets of a view, oldest first.
func (l *Lock) waiters(entries map[string]jetstream.KeyValueEntry) []waiter {
	var ws []waiter
	for k, e := range entries {
		if strings.HasPrefix(k, l.qpre) {
			q := decQ(e)
			ws = append(ws, waiter{key: k, owner: q.O, ticket: q.T})
		}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].ticket < ws[j].ticket })
	return ws
}

func (l *Lock) leaveQueue(ctx context.Context, qkey string, ql *lease) {
	rev, _ := ql.stop()
	dctx, cancel := l.c.detached(ctx)
	_, _ = l.c.drop(dctx, qkey, rev)
	cancel()
}

// giveUp leaves the line after cause; if the lock was handed over to us
// meanwhile, we keep it and return nil (the wake-up wins).
func (l *Lock) giveUp(ctx context.Context, id uint64, owner, qkey string, ql *lease, cause error) error {
	ql.stop()
	if hook := testHookGiveUp.Load(); hook != nil {
		(*hook)()
	}
	dctx, cancel := l.c.detached(ctx)
	_, _ = l.c.drop(dctx, qkey, 0)
	cancel()
	if hook := testHookGaveUp.Load(); hook != nil {
		(*hook)()
	}
	if ours, err := l.resolve(ctx, id, owner); ours {
		return err
	}
	return cause
}

// Unlock releases one level of the lock held by ctx's task (Release without
// its error): when the depth reaches zero it hands the lock to the oldest
// waiter or frees it. If the server cannot be reached, the lock is freed
// when its lease expires. It panics if ctx's task does not hold the lock
// through this handle. It does not wait on ctx (a done ctx still unlocks).
func (l *Lock) Unlock(ctx context.Context) { _ = l.Release(ctx) }

// Release is Unlock that reports what happened: nil if the lock was held to
// the end and released (or, above depth one, is still held), an error
// matching ErrLeaseLost if the hold's lease was lost before the release (so
// another holder may have acted meanwhile), or one matching ErrUnavailable if
// the release could not be sent (the lease then expires after its TTL). It
// panics if ctx's task does not hold the lock through this handle.
func (l *Lock) Release(ctx context.Context) error {
	id := tock.TaskID(ctx)
	l.mu.Lock()
	h := l.holds[id]
	if h == nil {
		l.mu.Unlock()
		panic("tock/dist: Lock.Unlock: the lock " + l.name + " is not held by ctx's task through this handle")
	}
	if h.depth > 1 {
		h.depth--
		l.mu.Unlock()
		return h.l.Err()
	}
	delete(l.holds, id)
	l.mu.Unlock()
	lostErr := h.l.Err()
	rev, val := h.l.stop()
	dctx, cancel := l.c.detached(ctx)
	defer cancel()
	err := l.release(dctx, h.owner, rev, val)
	if lostErr != nil {
		return lostErr
	}
	return err
}

// release frees the lock held by owner (last written at rev with val) or
// hands it to the oldest waiter.
func (l *Lock) release(ctx context.Context, owner string, rev uint64, val []byte) error {
	cur := owner // whom the key names while we act on it
	var seen string
	lost := func() error {
		return fmt.Errorf("tock/dist: Lock.Unlock %s: %w: the lock was taken over or expired (%s)", l.name, ErrLeaseLost, seen)
	}
	// reread returns false, nil when we have nothing more to do.
	reread := func() (bool, error) {
		e, ok, err := l.c.get(ctx, l.hkey)
		if err != nil {
			return false, netErr(ctx, "Lock.Unlock "+l.name, err)
		}
		if !ok {
			if cur == owner {
				seen = "key gone"
				return false, lost()
			}
			return false, nil
		}
		v := decLock(e.Value())
		if v.O != cur {
			seen = fmt.Sprintf("now %+v at %d, mine was %s at %d", v, e.Revision(), owner, rev)
			if cur == owner {
				return false, lost()
			}
			return false, nil
		}
		if cur != owner && v.C {
			return false, nil // the waiter took it
		}
		rev, val = e.Revision(), e.Value()
		return true, nil
	}
	for try := 0; try < 100; try++ {
		v := decLock(val)
		var ws []waiter
		if v.W {
			var err error
			all, err := l.listWaiters(ctx, rev)
			if err != nil {
				return err
			}
			// The view may still list tickets already gone, our own among
			// them: never hand the lock to ourselves (nor back to the
			// waiter we are taking it from).
			for _, w := range all {
				if w.owner != owner && w.owner != cur {
					ws = append(ws, w)
				}
			}
		}
		if len(ws) == 0 {
			at, err := l.c.del(ctx, l.hkey, rev)
			if err == nil {
				l.freedAt.Store(at)
				return nil
			}
			if !isCAS(err) {
				return netErr(ctx, "Lock.Unlock "+l.name, err)
			}
			if again, err := reread(); !again {
				return err
			}
			continue
		}
		head := ws[0]
		nval := enc(lockVal{O: head.owner, W: len(ws) > 1})
		if hook := testHookHandOver.Load(); hook != nil {
			(*hook)(head.key)
		}
		nrev, err := l.c.cas(ctx, l.hkey, nval, rev, l.c.cfg.ttl)
		if err != nil {
			if !isCAS(err) {
				return netErr(ctx, "Lock.Unlock "+l.name, err)
			}
			if again, err := reread(); !again {
				return err
			}
			continue
		}
		// Handed over. If that waiter had left the line by then, take the
		// lock back (unless it confirmed) and hand it on. (A waiter that
		// leaves later sees the hand-over when it gives up, and keeps the
		// lock.)
		if ok, err := l.queuedAt(ctx, head.key, nrev); err != nil || ok {
			return nil
		}
		cur, rev, val = head.owner, nrev, nval
	}
	return fmt.Errorf("tock/dist: Lock.Unlock %s: the hand-over kept conflicting", l.name)
}

// testHookHandOver, set only by tests, runs in a release between choosing
// the waiter to hand the lock to and the hand-over write.
var testHookHandOver atomic.Pointer[func(waiterKey string)]

// testHookTicketCreate, set only by tests, sees the error of the write
// that queues a Lock's ticket (nil: it landed) and returns the error the
// Lock goes on with.
var testHookTicketCreate atomic.Pointer[func(key string, err error) error]

// testHookHandedOver, set only by tests, runs in a release after the
// hand-over write, before the check of the waiter's ticket (queuedAt).
var testHookHandedOver atomic.Pointer[func(waiterKey string)]

// testHookGaveUp, set only by tests, runs when a waiter that gave up has
// removed its ticket, before it looks whether the lock was handed to it.
var testHookGaveUp atomic.Pointer[func()]

// testHookTake, set only by tests, runs when a Lock took the lock, between
// the start of its lease and the record of its hold.
var testHookTake atomic.Pointer[func()]

// testHookGiveUp, set only by tests, runs when a waiter gives up its place,
// before it removes its ticket.
var testHookGiveUp atomic.Pointer[func()]

// queuedAt reports whether the waiter's key was still there at revision
// rev: from the hub's view once it reached rev (no request), where a key
// deleted after rev (the waiter gave up after the hand-over, and keeps the
// lock: see giveUp) counts as there; or, if the watch failed, from the
// key as it is now. A deletion the hub has forgotten (it remembers the
// last deletedMax) counts as made before rev: the lock is then taken back,
// which is safe (the waiter, finding it gone, returns its cause).
func (l *Lock) queuedAt(ctx context.Context, key string, rev uint64) (bool, error) {
	if hook := testHookHandedOver.Load(); hook != nil {
		(*hook)(key)
	}
	if h, err := l.hub(ctx); err == nil {
		var ok bool
		if err := h.await(ctx, rev, nil, nil, func(es map[string]jetstream.KeyValueEntry, _ uint64) bool {
			_, ok = es[key]
			ok = ok || h.deletedAfter(key, rev)
			return true
		}); err == nil {
			return ok, nil
		}
	}
	_, ok, err := l.c.get(ctx, key)
	return ok, err
}

// listWaiters lists the waiters queued before the holder's key reached
// revision rev (and maybe later ones).
func (l *Lock) listWaiters(ctx context.Context, rev uint64) ([]waiter, error) {
	h, err := l.hub(ctx)
	if err != nil {
		return nil, err
	}
	var ws []waiter
	err = h.await(ctx, rev, nil, nil, func(es map[string]jetstream.KeyValueEntry, _ uint64) bool {
		ws = l.waiters(es)
		return true
	})
	return ws, err
}

// Fence returns the fencing token of the hold of ctx's task: it is larger
// than the token of every earlier acquisition of this lock, by any process.
// It returns an error matching ErrNotHeld if ctx's task does not hold the
// lock through this handle, or ErrLeaseLost (with the token) if the hold's
// lease was lost. It makes no request.
func (l *Lock) Fence(ctx context.Context) (uint64, error) {
	l.mu.Lock()
	h := l.holds[tock.TaskID(ctx)]
	l.mu.Unlock()
	if h == nil {
		return 0, fmt.Errorf("tock/dist: Lock.Fence %s: %w", l.name, ErrNotHeld)
	}
	return h.fence, h.l.Err()
}

// Lost returns a channel that is closed when the lease of the hold of ctx's
// task is lost (not renewed within its TTL, taken over, or its Client
// closed): from then on the task no longer holds the lock and must not
// write as its holder. It does not block. A channel obtained while holding
// stays open for as long as the hold lasts and also after a normal release
// ends it (a release is not a loss); for a task that does not hold the
// lock, Lost returns a closed channel.
func (l *Lock) Lost(ctx context.Context) <-chan struct{} {
	l.mu.Lock()
	h := l.holds[tock.TaskID(ctx)]
	l.mu.Unlock()
	if h == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return h.l.lost
}

// Locked reports whether some process holds the lock (one request).
func (l *Lock) Locked(ctx context.Context) (bool, error) {
	_, ok, err := l.c.get(ctx, l.hkey)
	if err != nil {
		return false, netErr(ctx, "Lock.Locked "+l.name, err)
	}
	return ok, nil
}

var _ tock.Locker = (*Lock)(nil)
