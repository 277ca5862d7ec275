package internal

// link is what an element carries for one intrusive list it can be in.
type link[E any] struct {
	prev, next *E
	in         bool
}

// linkOf selects, for a list, which of an element's links it uses. Its
// implementations are zero-size types, so a zero dlist is ready to use.
type linkOf[E any] interface{ of(*E) *link[E] }

// dlist is the one intrusive doubly-linked FIFO list of the package (wait
// queues, a node's children and parked tasks, the scheduler's live and
// polled tasks): O(1) append and removal, no allocation.
type dlist[E any, L linkOf[E]] struct {
	head, tail *E
	n          int
}

func (l *dlist[E, L]) at(e *E) *link[E] {
	var sel L
	return sel.of(e)
}

func (l *dlist[E, L]) pushBack(e *E) {
	k := l.at(e)
	k.prev, k.next, k.in = l.tail, nil, true
	if l.tail != nil {
		l.at(l.tail).next = e
	} else {
		l.head = e
	}
	l.tail = e
	l.n++
}

// remove unlinks e; it reports false if e was not in the list.
func (l *dlist[E, L]) remove(e *E) bool {
	k := l.at(e)
	if !k.in {
		return false
	}
	if k.prev != nil {
		l.at(k.prev).next = k.next
	} else {
		l.head = k.next
	}
	if k.next != nil {
		l.at(k.next).prev = k.prev
	} else {
		l.tail = k.prev
	}
	k.prev, k.next, k.in = nil, nil, false
	l.n--
	return true
}

// next is the element after e.
func (l *dlist[E, L]) next(e *E) *E { return l.at(e).next }

// The links of the package's lists.
type (
	waiterLink[T any] struct{} // Waiter in its Queue
	parkLink          struct{} // Task parked on a node, or in the polled list
	liveLink          struct{} // Task in the scheduler's live list
	childLink         struct{} // node in its parent's children
)

func (waiterLink[T]) of(w *Waiter[T]) *link[Waiter[T]] { return &w.link }
func (parkLink) of(t *Task) *link[Task]                { return &t.park }
func (liveLink) of(t *Task) *link[Task]                { return &t.live }
func (childLink) of(n *node) *link[node]               { return &n.child }
