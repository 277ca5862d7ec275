package internal

// link is what an element carries for one intrusive list it can be in (an
// element can carry several, one per list). elem points back at the element
// while it is in a list and is nil otherwise.
type link[E any] struct {
	prev, next *link[E]
	elem       *E
}

// dlist is the one intrusive doubly-linked FIFO list of the package (wait
// queues, a node's children, the scheduler's live and
// polled tasks): O(1) append and removal, no allocation, no indirect calls.
// The zero value is an empty list.
type dlist[E any] struct {
	head, tail *link[E]
	n          int
}

// pushBack appends e, whose link for this list is k.
func (l *dlist[E]) pushBack(k *link[E], e *E) {
	k.prev, k.next, k.elem = l.tail, nil, e
	if l.tail != nil {
		l.tail.next = k
	} else {
		l.head = k
	}
	l.tail = k
	l.n++
}

// remove unlinks the element whose link is k; it reports false if that
// element was not in the list.
func (l *dlist[E]) remove(k *link[E]) bool {
	if k.elem == nil {
		return false
	}
	if k.prev != nil {
		k.prev.next = k.next
	} else {
		l.head = k.next
	}
	if k.next != nil {
		k.next.prev = k.prev
	} else {
		l.tail = k.prev
	}
	k.prev, k.next, k.elem = nil, nil, nil
	l.n--
	return true
}

// front is the first element, or nil.
func (l *dlist[E]) front() *E { return l.head.get() }

// after is the element after the one whose link is k, or nil.
func (k *link[E]) after() *E { return k.next.get() }

// in reports whether k's element is in a list.
func (k *link[E]) in() bool { return k.elem != nil }

func (k *link[E]) get() *E {
	if k == nil {
		return nil
	}
	return k.elem
}
