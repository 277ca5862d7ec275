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

// node is a cancellable context inside a simulation. Cancelling it is
// synchronous and deterministic: the tasks parked on it are made runnable in
// the order they parked, then its child nodes are cancelled in the order they
// were made, then the standard-library contexts derived from it (which
// register through AfterFunc) are cancelled in registration order.
type node struct {
	parent context.Context
	pnode  *node // nearest simulation node above, nil for the root
	s      *Sched
	root   bool

	mu     sync.Mutex            // guards done, cause, afters, and setting errp
	errp   atomic.Pointer[error] // the error once cancelled (Err may be read from anywhere)
	done   chan struct{}
	cause  error
	afters []*afterEntry

	deadline    time.Time
	hasDeadline bool
	timer       timer

	// simulation-only registrations
	parked   []*Task     // tasks parked here or at home here, in no order (see Task.parkSeq)
	children dlist[node] // child nodes
	child    link[node]  // in the parent's children
	foreign  bool        // in s.fnodes: the parent's cancellation is polled
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
	switch c := ctx.(type) {
	case *node:
		return c
	case *taskCtx:
		if n, ok := c.Context.(*node); ok {
			return n
		}
	}
	n, _ := ctx.Value(nodeKey).(*node)
	return n
}

func (s *Sched) newNode(parent context.Context) *node {
	n := &node{parent: parent, s: s, pnode: nodeOf(parent)}
	if dl, ok := parent.Deadline(); ok {
		n.deadline, n.hasDeadline = dl, true
	}
	if err := parent.Err(); err != nil {
		n.errp.Store(&err)
		n.cause, n.done = context.Cause(parent), closedChan
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

func (n *node) Done() <-chan struct{} {
	n.mu.Lock()
	if n.done == nil {
		if n.errp.Load() != nil {
			n.done = closedChan
		} else {
			n.done = make(chan struct{})
		}
	}
	d := n.done
	n.mu.Unlock()
	return d
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
	case rtKey:
		return n.s
	}
	if n.root {
		// The root hides the outer context's cancellation state: the standard
		// library finds its cancelCtx through a *int key, and context.Cause
		// must report this node's own cause.
		if _, ok := k.(*int); ok {
			return nil
		}
	}
	return n.parent.Value(k)
}

func (n *node) String() string { return "tock/sim.context" }

// AfterFunc makes the context package propagate our cancellation to its own
// contexts synchronously (it prefers a parent's AfterFunc to a goroutine).
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

// unregister removes the task at index i from n's parked set, moving the
// last one into its place.
func (n *node) unregister(i int) {
	last := len(n.parked) - 1
	m := n.parked[last]
	n.parked[i] = m
	if m.home == n {
		m.homeIdx = i
	} else {
		m.parkIdx = i
	}
	n.parked[last] = nil
	n.parked = n.parked[:last]
}

func (n *node) cancel(err, cause error) {
	n.mu.Lock()
	if n.errp.Load() != nil {
		n.mu.Unlock()
		return
	}
	n.cause = cause
	if n.done == nil {
		n.done = closedChan
	} else {
		close(n.done)
	}
	afters := n.afters
	n.afters = nil
	for _, e := range afters {
		e.done = true
	}
	n.errp.Store(&err)
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
	var parked []*Task
	for _, t := range n.parked {
		if t.wnode == n && t.state == stParked {
			parked = append(parked, t)
		}
	}
	slices.SortFunc(parked, func(a, b *Task) int { return cmp.Compare(a.parkSeq, b.parkSeq) })
	for _, t := range parked {
		s.wakeWith(t, err)
	}
	for c := n.children.front(); c != nil; {
		next := c.child.after()
		c.cancel(err, cause)
		c = next
	}
	for _, e := range afters {
		e.f()
	}
}
