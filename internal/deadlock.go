package internal

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// Holding is implemented by a primitive that can tell a deadlock report who
// holds it. The primitive sets Res of the wait queue it parks its waiters on
// to itself; the simulation records, for each task parked through Block or
// Wait, the Res of its queue (nil: nobody is known to hold it), and asks it
// at a deadlock, while every task is parked.
type Holding interface {
	// AppendHolders appends to dst who holds the resource now. It must not
	// block (take the primitive's mutex with TryLock, and append nothing if
	// that fails) and must not run user code.
	AppendHolders(dst []Holder) []Holder
}

// Holder is one holder of a resource in a deadlock report. Exactly one field
// is set.
type Holder struct {
	Task  *Task           // a task
	ID    uint64          // a task known only by its ID (a Lock's owner)
	Tasks context.Context // every live task started in this context (a Group's tasks)
	Value any             // a holder that is not a task (a borrower), shown with %v
}

// AppendHolders makes a task what another waits on (Group.Start waits on
// the task it started).
func (t *Task) AppendHolders(dst []Holder) []Holder { return append(dst, Holder{Task: t}) }

// Blocked describes one task left blocked at a deadlock.
type Blocked struct {
	Task   string   // the task's name
	On     string   // what it waits on, e.g. "Lock.Lock"
	HeldBy []string // who holds what it waits on, where known
}

// blocked describes every live task at a deadlock, in creation order, and
// the first wait-for cycle among them (indices into the first result; each
// waits on what the next one holds, the last on what the first holds), or
// nil.
func (s *Sched) blocked() ([]Blocked, []int) {
	var tasks []*simTask
	for t := s.live.front(); t != nil; t = t.live.after() {
		tasks = append(tasks, t)
	}
	byID := make(map[uint64]int, len(tasks))
	children := map[*node][]int{}
	for i, t := range tasks {
		byID[t.ID] = i
		if n, ok := t.tctx.Context.(*node); ok {
			children[n] = append(children[n], i)
		}
	}
	out := make([]Blocked, len(tasks))
	edges := make([][]int, len(tasks))
	var hs []Holder
	for i, t := range tasks {
		b := &out[i]
		b.Task, b.On = t.Name(), t.what
		if t.state != stParked {
			b.On = "runnable"
			continue
		}
		if t.on == nil {
			continue
		}
		hs = holdersOf(t.on, hs[:0])
		for _, h := range hs {
			switch {
			case h.Task != nil:
				if j, ok := byID[h.Task.ID]; ok && &tasks[j].Task == h.Task {
					b.HeldBy = append(b.HeldBy, h.Task.Name())
					edges[i] = append(edges[i], j)
				} else {
					b.HeldBy = append(b.HeldBy, h.Task.Name()+" (ended)")
				}
			case h.ID != 0:
				if j, ok := byID[h.ID]; ok {
					b.HeldBy = append(b.HeldBy, tasks[j].Name())
					edges[i] = append(edges[i], j)
				} else {
					b.HeldBy = append(b.HeldBy, endedTask) // its ID would differ from run to run
				}
			case h.Tasks != nil:
				n, _ := h.Tasks.(*node)
				for _, j := range children[n] {
					b.HeldBy = append(b.HeldBy, tasks[j].Name())
					edges[i] = append(edges[i], j)
				}
			default:
				b.HeldBy = append(b.HeldBy, show(h.Value))
			}
		}
	}
	return out, findCycle(edges)
}

// endedTask names a holder known by its ID that is no longer live.
const endedTask = "a task that has ended"

// holdersOf asks r who holds it; a panic there (a bug) leaves the holders
// unknown rather than ending the report.
func holdersOf(r Holding, dst []Holder) (hs []Holder) {
	defer func() {
		if recover() != nil {
			hs = dst[:0]
		}
	}()
	return r.AppendHolders(dst)
}

// show formats a borrower that is not a task with %v, in at most 80 bytes
// (fmt reports a String method's panic in the text).
func show(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 80 {
		i := 77
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "..."
	}
	return s
}

// findCycle returns the first cycle a depth-first search finds in the graph
// edges (node i has an edge to each node in edges[i]), searching from the
// nodes in order and following edges in order, or nil: the nodes of the
// cycle, starting where the search entered it.
func findCycle(edges [][]int) []int {
	const (
		unseen = iota
		onPath
		finished
	)
	state := make([]uint8, len(edges))
	type frame struct{ v, next int }
	var path []frame
	for root := range edges {
		if state[root] != unseen {
			continue
		}
		state[root] = onPath
		path = append(path[:0], frame{v: root})
		for len(path) > 0 {
			f := &path[len(path)-1]
			if f.next == len(edges[f.v]) {
				state[f.v] = finished
				path = path[:len(path)-1]
				continue
			}
			w := edges[f.v][f.next]
			f.next++
			switch state[w] {
			case unseen:
				state[w] = onPath
				path = append(path, frame{v: w})
			case onPath:
				i := len(path) - 1
				for path[i].v != w {
					i--
				}
				cycle := make([]int, 0, len(path)-i)
				for _, f := range path[i:] {
					cycle = append(cycle, f.v)
				}
				return cycle
			}
		}
	}
	return nil
}
