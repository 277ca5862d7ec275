package internal

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// neverChan is never closed: the Done of a node's stand-in parent (stdParent)
// until the node is cancelled.
var neverChan = make(chan struct{})

// cancelCtxKey is the key the context package looks its own cancelCtx up by
// (an unexported *int). context.Cause asks a context's Value for it, so a
// probe that records the key it is asked for learns it once.
var cancelCtxKey = func() any {
	var p keyProbe
	context.Cause(&p)
	return p.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Err() error            { return context.Canceled }
func (p *keyProbe) Value(k any) any       { p.key = k; return nil }
func (p *keyProbe) Done() <-chan struct{} { return closedChan }

// node is a cancellable context inside a simulation. Cancelling it is
// synchronous and deterministic: its error and cause are stored first, then
// the tasks parked on it are made runnable in the order they parked, then its
// child nodes are cancelled in the order they were made, then the
// standard-library contexts derived from it are cancelled, all before cancel
// returns.
//
// The standard library finds a parent it can register with synchronously
// through Value(cancelCtxKey) and Done: a node answers both with std, a real
// *context.cancelCtx made (at first use) over a stand-in parent that the
// node cancels from cancel. So context.WithCancel, WithTimeout, AfterFunc and
// the rest register with std at once, whether derived from the node itself,
// from a task's context over it, or from any stdlib wrapper (WithValue ...)
// above either; no propagation goroutine is ever started.
type node struct {
	parent context.Context
	pnode  *node // nearest simulation node above, nil for the root
	s      *Sched
	root   bool

	mu     sync.Mutex            // guards cause, afters, std, stdCancel, and setting errp
	errp   atomic.Pointer[error] // the error once cancelled (Err may be read from anywhere)
	cause  error
	afters []*afterEntry
	// std stands for the node to the context package (see node); nil until
	// first asked for. stdCancel cancels it (the callback the context package
	// registered with stdParent.AfterFunc); stdRelease is its CancelFunc,
	// kept only so that it is not discarded.
	std        context.Context
	stdCancel  func()
	stdRelease context.CancelFunc

	deadline    time.Time
	hasDeadline bool
	timer       timer

	// simulation-only registrations
	parked   []*simTask  // tasks parked here or at home here, in no order (see Task.parkSeq)
	children dlist[node] // child nodes
	child    link[node]  // in the parent's children
	foreign  bool        // in s.fnodes: the parent's cancellation is polled
	// wall: a deadline of the wall clock is above it (a context.WithTimeout
	// in its chain), which a simulated wait refuses (ErrWallClockDeadline)
	// even where the node's own, virtual, deadline is earlier
	wall bool
}

type afterEntry struct {
	f    func()
	done bool
}

func newRoot(s *Sched, outer context.Context) *node {
	return &node{parent: outer, s: s, root: true}
}

// nodeOf returns the nearest simulation node in ctx's chain.
func nodeOf(ctx context.Context) *node {
	if n := directNode(ctx); n != nil {
		return n
	}
	n, _ := ctx.Value(nodeKey).(*node)
	return n
}

// directNode returns n if ctx is node n or a task's context over n: a context
// whose cancellation is exactly n's.
func directNode(ctx context.Context) *node {
	switch c := ctx.(type) {
	case *node:
		return c
	case *taskCtx:
		if n, ok := c.Context.(*node); ok {
			return n
		}
	}
	return nil
}

func (s *Sched) newNode(parent context.Context) *node {
	n := &node{parent: parent, s: s, pnode: nodeOf(parent)}
	if dl, ok := parent.Deadline(); ok {
		n.deadline, n.hasDeadline = dl, true
		p := n.pnode
		n.wall = p == nil || p.wall || !p.hasDeadline || !dl.Equal(p.deadline)
	}
	if err := parent.Err(); err != nil {
		n.errp.Store(&err)
		n.cause = context.Cause(parent)
		return n
	}
	if p := directNode(parent); p != nil {
		// its Done would make p's std: compare nodes instead
		p.children.pushBack(&n.child, n)
		return n
	}
	pd := parent.Done()
	switch {
	case pd == nil:
	case n.pnode != nil && pd == n.pnode.Done():
		n.pnode.children.pushBack(&n.child, n)
	default:
		n.foreign = true
		s.fnodes = append(s.fnodes, n)
	}
	return n
}

func (n *node) Deadline() (time.Time, bool) { return n.deadline, n.hasDeadline }

// Done is std's Done channel. Err is non-nil before it is closed.
func (n *node) Done() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.std == nil && n.errp.Load() != nil {
		return closedChan
	}
	return n.stdLocked().Done()
}

// stdLocked returns std, making it if needed; n.mu is held.
func (n *node) stdLocked() context.Context {
	if n.std == nil {
		if n.errp.Load() != nil {
			// Cancelled already: it only carries the cause for context.Cause.
			n.std = causeCarrier(n.cause)
		} else {
			// The context package registers with stdParent through its
			// AfterFunc (setting n.stdCancel), under n.mu held here.
			n.std, n.stdRelease = context.WithCancel(stdParent{n})
		}
	}
	return n.std
}

// causeCarrier is a cancelled standard-library context whose cause is cause.
func causeCarrier(cause error) context.Context {
	c, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	return c
}

func (n *node) Err() error {
	if p := n.errp.Load(); p != nil {
		return *p
	}
	return nil
}

func (n *node) Value(k any) any {
	switch k {
	case nodeKey:
		return n
	case cancelCtxKey:
		// The standard library's cancelCtx for n (see node); at the root it
		// also hides the outer context's, whose cancellation is not ours.
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.stdLocked()
	}
	return n.parent.Value(k)
}

func (n *node) String() string { return "tock/sim.context" }

// stdParent is the parent of a node's std: the context package sees a
// context that is not its own, with an AfterFunc, and registers std's
// cancellation with it; the node calls that callback from cancel.
type stdParent struct{ n *node }

func (p stdParent) Deadline() (time.Time, bool) { return time.Time{}, false }

func (p stdParent) Done() <-chan struct{} {
	if p.n.errp.Load() != nil {
		return closedChan
	}
	return neverChan
}

func (p stdParent) Err() error { return p.n.Err() }

// Value answers the context package's cancelCtx lookup, made by
// context.Cause(p) when std is cancelled: a carrier of the node's cause, so
// that std's cause (and context.Cause of anything below the node) is it.
func (p stdParent) Value(k any) any {
	n := p.n
	if k == cancelCtxKey && n.errp.Load() != nil {
		n.mu.Lock()
		cause := n.cause
		n.mu.Unlock()
		if cause != nil && cause != n.Err() {
			return causeCarrier(cause)
		}
	}
	return nil
}

// AfterFunc is called by context.WithCancel(stdParent{n}), in stdLocked,
// with n.mu held.
func (p stdParent) AfterFunc(f func()) func() bool {
	p.n.stdCancel = f
	return func() bool { return false }
}

// AfterFunc makes the context package propagate our cancellation to its own
// contexts synchronously (it prefers a parent's AfterFunc to a goroutine). It
// is the fallback for a wrapper that hides std: the callbacks run in
// registration order at the end of cancel.
func (n *node) AfterFunc(f func()) func() bool {
	n.mu.Lock()
	if n.errp.Load() != nil {
		n.mu.Unlock()
		f()
		return func() bool { return false }
	}
	e := &afterEntry{f: f}
	n.afters = append(n.afters, e)
	n.mu.Unlock()
	return func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		if e.done {
			return false
		}
		e.done = true
		for i, x := range n.afters {
			if x == e {
				n.afters = append(n.afters[:i], n.afters[i+1:]...)
				break
			}
		}
		return true
	}
}

// register adds t to n's parked set and returns its index there. The set
// grows by doubling into kept arrays (see spares).
func (n *node) register(t *simTask) int32 {
	if len(n.parked) == cap(n.parked) {
		n.parked = parkedSpares.grow(n.parked)
	}
	n.parked = append(n.parked, t)
	return int32(len(n.parked) - 1)
}

// parkedSpares keeps the arrays of nodes' parked sets (see spares). A set
// of a thousand tasks or more gives its array back when its last task
// leaves: a Group's set, which holds every task of the group from its
// first park until it ends, has then done its work (100,000 tasks set up
// at once grow it to a megabyte).
var parkedSpares spares[*simTask]

// unregister removes the task at index i from n's parked set, moving the
// last one into its place.
func (n *node) unregister(i int) {
	last := len(n.parked) - 1
	m := n.parked[last]
	n.parked[i] = m
	if m.home == n {
		m.homeIdx = int32(i)
	} else {
		m.parkIdx = int32(i)
	}
	n.parked[last] = nil
	n.parked = n.parked[:last]
	if last == 0 && cap(n.parked) >= 1024 {
		parkedSpares.put(n.parked)
		n.parked = nil
	}
}

func (n *node) cancel(err, cause error) {
	n.mu.Lock()
	if n.errp.Load() != nil {
		n.mu.Unlock()
		return
	}
	// Err and Cause are set before anything is closed or called.
	n.cause = cause
	n.errp.Store(&err)
	afters := n.afters
	n.afters = nil
	for _, e := range afters {
		e.done = true
	}
	stdCancel := n.stdCancel
	n.stdCancel = nil
	n.mu.Unlock()

	s := n.s
	s.stopTimer(&n.timer)
	if n.pnode != nil && !n.foreign {
		n.pnode.children.remove(&n.child)
	}
	if n.foreign {
		for i, x := range s.fnodes {
			if x == n {
				s.fnodes = append(s.fnodes[:i], s.fnodes[i+1:]...)
				break
			}
		}
	}
	// The set is unordered (O(1) removal touching one other task), and
	// holds tasks at home here that are not parked here now; the tasks
	// parked here are woken in the order they parked.
	var parked []*simTask
	for _, t := range n.parked {
		if t.wnode == n && t.state == stParked {
			parked = append(parked, t)
		}
	}
	slices.SortFunc(parked, func(a, b *simTask) int { return cmp.Compare(a.parkSeq, b.parkSeq) })
	for _, t := range parked {
		s.wakeWith(t, err)
	}
	for c := n.children.front(); c != nil; {
		next := c.child.after()
		c.cancel(err, cause)
		c = next
	}
	if stdCancel != nil {
		stdCancel() // closes Done; cancels the stdlib contexts below, synchronously
	}
	for _, e := range afters {
		e.f()
	}
}
