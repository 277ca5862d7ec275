package internal

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ---- schedules: the choice points of a simulation ----
//
// A simulation without a Schedule runs FIFO: the oldest runnable task runs
// next, timers due at one instant fire in the order they were set, a
// checkpoint gives way whenever another task is runnable, and a timer fires
// exactly when it is due. A Schedule decides those four things instead, at
// the choice points:
//
//   - pick: which of the n >= 2 runnable tasks runs next (choice k is the
//     task in place k of the run queue; 0, its head, is FIFO's);
//   - timers: the order of the n >= 2 timers due at one instant (one choice
//     per position: which of the remaining ones fires next, by its place
//     among them; 0, the oldest, is FIFO's);
//   - checkpoint: whether a checkpoint with another task runnable gives way
//     (0, FIFO's) or goes on without a switch (1);
//   - jitter (only with Jitter set): how late, in nanoseconds, a timer fires
//     (0 to Jitter; 0 is FIFO's).
//
// The run queue is in the order the tasks became runnable in, except that
// a task (a timer) taken out of turn from place k leaves its place to the
// one at the nearer end of the queue: the head if k is in the older half,
// else the tail. That is O(1) a pick, where keeping the others' order would
// move up to n of them; the order is kept whenever k is next to an end (so
// always with four tasks or fewer), and a uniform choice still draws each
// runnable task with the same probability.
//
// Nothing else is a choice: the virtual clock, and every primitive's own
// contract (FIFO hand-off to its waiters, the wake-up wins), are the same
// under every schedule.
//
// The choice points of a run are numbered in the order they are reached,
// counting only those with two options or more. A run is then described
// exactly by its deviations: the (number, choice) pairs where it did not take
// choice 0. Replaying a list of deviations (Strategy FIFO with Replay) takes
// each recorded choice at its numbered point and 0 everywhere else; a
// recorded choice out of range at its point (which only happens when
// shrinking removed the deviations that led there) is taken as 0. Every
// Schedule records the deviations it actually took, so a replay of a run's
// recorded deviations is that run again, byte for byte.

// Strategy is how a Schedule makes the choices that its replay list does not
// fix.
type Strategy uint8

const (
	// FIFO takes choice 0 everywhere (a replay takes its recorded choices).
	FIFO Strategy = iota
	// Random takes every choice uniformly among its options.
	Random
	// PCT is probabilistic concurrency testing (Burckhardt, Kothari,
	// Musuvathi, Nagarakatte, ASPLOS 2010): every task gets a random
	// priority when first seen runnable, the highest-priority runnable task
	// always runs, and at Depth-1 random steps of the run the task that ran
	// last has its priority dropped below every initial one (the i-th change
	// point gives priority i). A bug of depth d is found with probability at
	// least 1/(n*k^(d-1)) per schedule (n tasks, k steps).
	PCT
)

// Deviation is one choice that differs from FIFO's: at choice point Index
// (counted from 0), choice Choice (>= 1).
type Deviation struct {
	Index  uint64
	Choice uint64
}

// ScheduleConfig configures NewSchedule.
type ScheduleConfig struct {
	Strategy Strategy
	Seed     [2]uint64 // the PCG seed every strategy draw comes from
	Depth    int       // PCT: bug depth (>= 1); Depth-1 change points
	Length   uint64    // PCT: the expected number of steps (picks) of a run
	Jitter   time.Duration
	// JitterRandom draws jitter from the seed even under FIFO (a plain run
	// with Jitter alone).
	JitterRandom bool
	Replay       []Deviation // strictly increasing Index
	// NoRecord keeps no deviations (a plain run that nobody replays: its
	// memory does not grow with its length).
	NoRecord bool
	// Trace is how many of the last events to keep: 0 none, -1 all (up to
	// MaxTrace).
	Trace int
}

// MaxTrace bounds a full trace (Trace -1).
const MaxTrace = 1 << 20

// Event is one step of a traced run: the task that ran, at which instant
// (from the simulation's start), and how its step ended.
type Event struct {
	At   time.Duration
	Task string
	Op   string
}

func (e Event) String() string { return fmt.Sprintf("+%v %s: %s", e.At, e.Task, e.Op) }

// Schedule decides the choice points of one simulation run (see above). It
// is used by one Sched, from the scheduler's loop and the running task.
type Schedule struct {
	strat        Strategy
	rng          rand.PCG
	jitter       uint64
	jitterRandom bool
	noRecord     bool
	replay       []Deviation
	ri           int
	replayAt     uint64 // replay[ri].Index, or MaxUint64 once there is none
	recMask      uint64 // all ones when recording (not noRecord), else 0
	points       uint64 // choice points reached

	// A run that Sched.Run abandoned (a stall) may go on by itself on its
	// loop's goroutine, should the stuck task ever give control back,
	// while its caller reads the deviations and the trace: mu guards them,
	// and once the run is aborted no choice is recorded nor event traced.
	mu      sync.Mutex
	aborted *atomic.Bool
	devs    []Deviation

	// PCT
	steps uint64
	prios []uint64 // by task number (see prio)
	// the change points, by step: at changes[j].at the task that ran last
	// gets priority changes[j].prio (the highest change point drawn for
	// that step, as applying them in order would leave), in step order;
	// next is the first not passed yet
	changes []changePoint
	nextCP  int
	last    *simTask
	pq      prioHeap // the run queue's priorities

	tbuf []hent // same-instant timers in their new order (order)

	// trace
	trace  int
	events []Event
	head   int    // next slot once events is full (ring)
	total  uint64 // events seen
	note   string // what the current step's choices were, for its event
}

// NewSchedule makes a schedule for one run.
func NewSchedule(c ScheduleConfig) *Schedule {
	x := &Schedule{strat: c.Strategy, replay: c.Replay, trace: c.Trace, jitterRandom: c.JitterRandom, noRecord: c.NoRecord}
	x.rng.Seed(c.Seed[0], c.Seed[1])
	x.replayAt = math.MaxUint64
	if len(c.Replay) > 0 {
		x.replayAt = c.Replay[0].Index
	}
	if !c.NoRecord {
		x.recMask = math.MaxUint64
	}
	if c.Jitter > 0 {
		x.jitter = uint64(c.Jitter)
	}
	if c.Strategy == PCT {
		// Depth-1 change points, each at a step drawn in [1, k]; more
		// than k of them cannot all fall on steps of their own, so a
		// depth beyond the run's length draws k (and a huge depth costs
		// no more than the run).
		k := max(c.Length, 1)
		n := min(uint64(c.Depth-1), k)
		for i := uint64(1); i <= n; i++ {
			x.changes = append(x.changes, changePoint{at: 1 + x.uniform(k), prio: i})
		}
		slices.SortStableFunc(x.changes, func(a, b changePoint) int { return cmp.Compare(a.at, b.at) })
		// one per step: the last of each run of equal steps (the highest
		// priority value, drawn last)
		out := x.changes[:0]
		for j, cp := range x.changes {
			if j+1 < len(x.changes) && x.changes[j+1].at == cp.at {
				continue
			}
			out = append(out, cp)
		}
		x.changes = out
	}
	return x
}

// changePoint is a PCT change point: at step at, the task that ran last
// gets priority prio.
type changePoint struct{ at, prio uint64 }

// SetSchedule makes s follow x (nil: FIFO). Call it before Run.
func (s *Sched) SetSchedule(x *Schedule) {
	s.x = x
	if x != nil {
		x.aborted = &s.aborted
	}
}

// Deviations are the choices this run took that differ from FIFO's, in
// order. It may be called while an abandoned run goes on.
func (x *Schedule) Deviations() []Deviation {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.devs)
}

// Points is the number of choice points the run reached.
func (x *Schedule) Points() uint64 { return x.points }

// Steps is the number of tasks resumed by the scheduler's loop. Call it
// only once the run has ended (not abandoned).
func (x *Schedule) Steps() uint64 { return x.steps }

// Trace is the recorded events, oldest first, and how many events the run
// had in all. It may be called while an abandoned run goes on.
func (x *Schedule) Trace() ([]Event, uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.head == 0 {
		return slices.Clone(x.events), x.total
	}
	out := make([]Event, 0, len(x.events))
	out = append(out, x.events[x.head:]...)
	return append(out, x.events[:x.head]...), x.total
}

// uniform draws from [0, n), n >= 1.
func (x *Schedule) uniform(n uint64) uint64 {
	hi, _ := bits.Mul64(x.rng.Uint64(), n)
	return hi
}

// choice returns the choice at the next choice point, of n >= 2 options:
// the replayed one if the replay list has this point, else proposal (the
// strategy's), and records it if it is not 0. Its common case (nothing
// left to replay, nothing to record) is inlined.
func (x *Schedule) choice(n, proposal uint64) uint64 {
	if x.points == x.replayAt || proposal&x.recMask != 0 {
		return x.choiceSlow(n, proposal)
	}
	x.points++
	return proposal
}

func (x *Schedule) choiceSlow(n, proposal uint64) uint64 {
	i := x.points
	x.points++
	c := proposal
	if x.ri < len(x.replay) && x.replay[x.ri].Index == i {
		c = x.replay[x.ri].Choice
		x.ri++
		if c >= n {
			c = 0
		}
		x.replayAt = math.MaxUint64
		if x.ri < len(x.replay) {
			x.replayAt = x.replay[x.ri].Index
		}
	}
	if c != 0 && !x.noRecord {
		x.mu.Lock()
		if x.aborted != nil && x.aborted.Load() {
			c = 0 // abandoned: the run only unwinds from here
		} else {
			x.devs = append(x.devs, Deviation{i, c})
		}
		x.mu.Unlock()
	}
	return c
}

// next pops the task to resume (the loop's pick).
func (x *Schedule) next(s *Sched) *simTask {
	r := &s.runq
	x.steps++
	if x.strat == PCT {
		for x.nextCP < len(x.changes) && x.changes[x.nextCP].at <= x.steps {
			if cp := x.changes[x.nextCP]; cp.at == x.steps && x.last != nil {
				// x.last ran the step before: if it is runnable again,
				// it is among the newcomers that pq has not seen yet
				*x.prio(x.last) = cp.prio
			}
			x.nextCP++
		}
	}
	if r.n == 1 {
		if x.strat == PCT {
			x.pq.popped()
		}
		t := r.pop()
		x.last = t
		return t
	}
	n := uint64(r.n)
	var p uint64
	switch x.strat {
	case Random:
		p = x.uniform(n)
	case PCT:
		p = x.highest(r)
	}
	k := x.choice(n, p)
	if k != 0 && x.trace != 0 {
		x.note += fmt.Sprintf(" [ran out of turn: %d of %d runnable]", k+1, n)
	}
	if x.strat == PCT && x.pq.buf != nil {
		x.pq.taking(r, int(k))
	}
	t := r.take(int(k))
	x.last = t
	return t
}

// remove deletes s[k] as ring.take does: the nearer end takes its place.
func remove[E any](s []E, k int) []E {
	if k < len(s)-1-k {
		s[k] = s[0]
		return s[1:]
	}
	s[k] = s[len(s)-1]
	return s[:len(s)-1]
}

// highest is the place of the highest-priority task in r, giving a random
// priority to each task seen for the first time, in the queue's order.
func (x *Schedule) highest(r *ring) uint64 {
	q := &x.pq
	m := len(r.buf) - 1
	if r.n <= smallQueue {
		// a scan is cheaper than keeping the heap: drop it until the
		// queue grows again
		q.buf = nil
		best, bp := 0, uint64(0)
		for i := 0; i < r.n; i++ {
			p := x.prio(r.buf[(r.head+i)&m])
			if *p == 0 {
				*p = 1<<63 | x.rng.Uint64()>>1 // above every change point's
			}
			if *p > bp {
				best, bp = i, *p
			}
		}
		return uint64(best)
	}
	if q.buf == nil || len(r.buf) != len(q.buf) || &r.buf[0] != &q.buf[0] {
		q.reset(r.buf) // the queue grew into a new buffer (every slot moved), or out of a scan
	}
	for ; q.n < r.n; q.n++ {
		i := (r.head + q.n) & m
		p := x.prio(r.buf[i])
		if *p == 0 {
			*p = 1<<63 | x.rng.Uint64()>>1 // above every change point's
		}
		q.push(i, *p)
	}
	return uint64((q.top() - r.head) & m)
}

// prio is t's priority (0 until it has one). Priorities are kept by task
// number, which a simulation hands out densely from 1: a slice, not a map,
// and not a field of simTask, whose size (one size class) every FIFO run
// pays for.
func (x *Schedule) prio(t *simTask) *uint64 {
	if t.num >= uint64(len(x.prios)) {
		x.prios = append(x.prios, make([]uint64, t.num+1-uint64(len(x.prios)))...)
	}
	return &x.prios[t.num]
}

// smallQueue is the longest run queue that PCT scans for its highest
// priority rather than keep its heap.
const smallQueue = 8

// prioHeap is a max-heap of the run queue's priorities, each entry with the
// ring slot of its task. It follows the queue lazily, from PCT's picks:
// between two picks the queue only grows at its tail, so a pick first adds
// the newcomers (n is how many of the queue's places, from its head, are in
// the heap), then reads the highest at the root and mirrors take's one move
// (the task taken leaves, the one moved into its slot changes slot). That is
// O(log n) a pick; a scan of every runnable task's priority at every pick
// was most of the cost of a PCT run at 1,000 tasks.
type prioHeap struct {
	buf []*simTask // the ring buffer the slots are of
	h   []pent
	pos []int32 // pos[slot]: the index in h of that slot's entry, for slots in the heap
	n   int
}

type pent struct {
	prio uint64
	slot int32
}

// reset follows the ring buffer buf, with no slot in the heap yet.
func (q *prioHeap) reset(buf []*simTask) {
	q.buf, q.h, q.n = buf, q.h[:0], 0
	q.pos = slices.Grow(q.pos[:0], len(buf))[:len(buf)]
}

// push adds slot i with priority p.
func (q *prioHeap) push(i int, p uint64) {
	q.h = append(q.h, pent{p, int32(i)})
	q.up(len(q.h) - 1)
}

// top is the slot of the highest priority.
func (q *prioHeap) top() int { return int(q.h[0].slot) }

func (q *prioHeap) up(i int) {
	e := q.h[i]
	for i > 0 {
		p := (i - 1) / 2
		if q.h[p].prio >= e.prio {
			break
		}
		q.h[i] = q.h[p]
		q.pos[q.h[i].slot] = int32(i)
		i = p
	}
	q.h[i] = e
	q.pos[e.slot] = int32(i)
}

func (q *prioHeap) down(i int) {
	e, n := q.h[i], len(q.h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n {
			// the greater child, without a branch: either is as likely
			_, right := bits.Sub64(q.h[c].prio, q.h[c+1].prio, 0)
			c += int(right)
		}
		if q.h[c].prio <= e.prio {
			break
		}
		q.h[i] = q.h[c]
		q.pos[q.h[i].slot] = int32(i)
		i = c
	}
	q.h[i] = e
	q.pos[e.slot] = int32(i)
}

// remove deletes the entry at index i.
func (q *prioHeap) remove(i int) {
	last := len(q.h) - 1
	if i != last {
		q.h[i] = q.h[last]
		q.h = q.h[:last]
		q.down(i)
		q.up(i)
		return
	}
	q.h = q.h[:last]
}

// taking mirrors r.take(k), about to happen: the task in place k leaves,
// and the nearer end's task moves into its slot.
func (q *prioHeap) taking(r *ring, k int) {
	m := len(r.buf) - 1
	from := r.head
	if k >= r.n-1-k {
		from = (r.head + r.n - 1) & m
	}
	i := (r.head + k) & m
	q.remove(int(q.pos[i]))
	if from != i {
		j := q.pos[from]
		q.h[j].slot = int32(i)
		q.pos[i] = j
	}
	q.n--
}

// popped mirrors r.pop() of the queue's only task, about to happen.
func (q *prioHeap) popped() { q.h, q.n = q.h[:0], 0 }

// order permutes the timers due at one instant (the loop's hook): at each
// position, which of the remaining ones fires next, by its place among them
// (0 the oldest); the one taken out of turn leaves its place to the nearer
// end, as in the run queue.
func (x *Schedule) order(due []hent) {
	rest := due
	out := x.tbuf[:0]
	for len(rest) > 1 {
		n := uint64(len(rest))
		var p uint64
		if x.strat == Random {
			p = x.uniform(n)
		}
		k := x.choice(n, p)
		if k == 0 && len(out) == 0 {
			rest = rest[1:] // FIFO's so far: in place
			continue
		}
		if k != 0 && x.trace != 0 && !strings.Contains(x.note, "timers") {
			x.note += " [same-instant timers fired out of order]"
		}
		if len(out) == 0 {
			out = slices.Grow(out, len(rest))
		}
		out = append(out, rest[k])
		rest = remove(rest, int(k))
	}
	if len(out) == 0 {
		return
	}
	out = append(out, rest[0])
	copy(due[len(due)-len(out):], out)
	clear(out)
	x.tbuf = out[:0]
}

// goOn reports whether a checkpoint with another task runnable goes on
// without a switch.
func (x *Schedule) goOn(s *Sched) bool {
	if s.stopping || s.aborted.Load() {
		return false
	}
	var p uint64
	if x.strat == Random {
		p = x.uniform(2)
	}
	if x.choice(2, p) == 0 {
		return false
	}
	if x.trace != 0 {
		x.note += " [went on past a checkpoint]"
	}
	return true
}

// late is when a timer due at when fires: up to the jitter later.
func (x *Schedule) late(when int64) int64 {
	if x.jitter == 0 {
		return when
	}
	var p uint64
	if x.strat != FIFO || x.jitterRandom {
		p = x.uniform(x.jitter + 1)
	}
	c := x.choice(x.jitter+1, p)
	if c != 0 && x.trace != 0 {
		x.note += fmt.Sprintf(" [a timer fires %v late]", time.Duration(c))
	}
	if c > uint64(math.MaxInt64-when) {
		return math.MaxInt64
	}
	return when + int64(c)
}

// step records the event of t's step that just ended (the loop's hook).
func (x *Schedule) step(s *Sched, t *simTask, ended bool) {
	var op string
	switch {
	case ended && t.panicked() != nil:
		op = "panics: " + panicText(t.panicked().Value)
	case ended && t.goexit:
		op = "calls runtime.Goexit"
	case ended:
		op = "returns"
	case t.state == stParked:
		op = "waits on " + t.what
	default:
		op = "gives way"
	}
	e := Event{At: time.Duration(s.now), Task: t.Name(), Op: op + x.note}
	x.note = ""
	x.mu.Lock()
	defer x.mu.Unlock()
	if s.aborted.Load() {
		return // abandoned: the rest is not the run's
	}
	x.total++
	switch {
	case x.trace < 0:
		if len(x.events) < MaxTrace {
			x.events = append(x.events, e)
		}
	case len(x.events) < x.trace:
		x.events = append(x.events, e)
	default:
		x.events[x.head] = e
		x.head = (x.head + 1) % x.trace
	}
}

// panicText is the first line of what a task panicked with, without the
// "tock: task panicked: " of the panic errors that re-raised it (a Group's
// Wait re-raises a task's panic in its caller).
func panicText(v any) string {
	s := fmt.Sprint(v)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	for {
		r, ok := strings.CutPrefix(s, "tock: task panicked: ")
		if !ok {
			return s
		}
		s = r
	}
}

// take removes and returns the task in place k (see the choice points
// above): the head or the tail, whichever is nearer, takes its place.
func (r *ring) take(k int) *simTask {
	m := len(r.buf) - 1
	i := (r.head + k) & m
	t := r.buf[i]
	if k < r.n-1-k {
		r.buf[i] = r.buf[r.head]
		r.buf[r.head] = nil
		r.head = (r.head + 1) & m
	} else {
		last := (r.head + r.n - 1) & m
		r.buf[i] = r.buf[last]
		r.buf[last] = nil
	}
	r.n--
	return t
}
