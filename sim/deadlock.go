package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/tockgo/tock/internal"
)

// BlockedTask is one task left waiting at a deadlock.
type BlockedTask struct {
	Task    string // the task's name ("main", "worker-3", "task 2", ...; see tock.Name)
	WaitsOn string // what it waits on ("Lock.Lock", "Group.Wait", ...)
	// HeldBy names who holds what it waits on, where the primitive knows:
	// a Lock's owner, a CapacityLimiter's borrowers (in the order they got
	// their token), the running tasks of the Group a Group.Wait waits for,
	// the task a Group.Start waits for. It is nil where nobody is known to
	// hold it (an Event, a Condition, a stream, a Semaphore). A holder that
	// has ended shows as such: by name where the primitive keeps the task
	// (a CapacityLimiter's borrower: "worker-3 (ended)"), or as "a task that
	// has ended" where it keeps only the task's ID (a Lock's owner), since
	// IDs differ from run to run.
	HeldBy []string
}

// DeadlockError is returned by Run when tasks are blocked, nothing is
// runnable and no timer is pending: no task can ever run again.
type DeadlockError struct {
	At      time.Time     // the instant of the deadlock
	Blocked []BlockedTask // every blocked task, in the order they were started
	// Cycle is a wait-for cycle among the blocked tasks, if there is one:
	// each task in it waits on what the next one holds, and the last on
	// what the first holds (a task waiting for itself is a cycle of one).
	// Of several cycles, it is the first found from the first task started.
	Cycle []string

	cycle []int // Cycle, as indices into Blocked
}

func newDeadlockError(res internal.Result) *DeadlockError {
	d := &DeadlockError{At: res.At, Blocked: make([]BlockedTask, len(res.Deadlock)), cycle: res.Cycle}
	for i, b := range res.Deadlock {
		d.Blocked[i] = BlockedTask{Task: b.Task, WaitsOn: b.On, HeldBy: b.HeldBy}
	}
	for _, i := range res.Cycle {
		d.Cycle = append(d.Cycle, d.Blocked[i].Task)
	}
	return d
}

// The message shows at most this many tasks, holders of one task, and
// tasks of the cycle; the struct keeps them all.
const (
	maxTasksShown   = 20
	maxHoldersShown = 5
	maxCycleShown   = 20
)

// Error names the instant, the wait-for cycle if there is one, then the
// blocked tasks with what each waits on and who holds it: the tasks of the
// cycle first, then the others in the order they were started. It shows
// the first 20 tasks (and the first 5 holders of each), then how many more
// there are: the full list is in the struct.
func (e *DeadlockError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tock/sim: deadlock at %s: %d task(s) blocked", e.At.Format(time.RFC3339Nano), len(e.Blocked))
	if len(e.Cycle) > 0 {
		b.WriteString("; cycle: ")
		for i, name := range e.Cycle {
			if i == maxCycleShown {
				fmt.Fprintf(&b, "… %d more -> ", len(e.Cycle)-i)
				break
			}
			b.WriteString(name + " -> ")
		}
		b.WriteString(e.Cycle[0])
	}
	// the order of the lines: the cycle's tasks, then the rest
	order := make([]int, 0, min(len(e.Blocked), maxTasksShown))
	shown := map[int]bool{}
	if len(e.cycle) == len(e.Cycle) {
		for _, i := range e.cycle {
			if i >= 0 && i < len(e.Blocked) && !shown[i] && len(order) < maxTasksShown {
				order = append(order, i)
				shown[i] = true
			}
		}
	}
	for i := 0; i < len(e.Blocked) && len(order) < maxTasksShown; i++ {
		if !shown[i] {
			order = append(order, i)
		}
	}
	for _, i := range order {
		t := &e.Blocked[i]
		fmt.Fprintf(&b, "\n\t%s waits on %s", t.Task, t.WaitsOn)
		if len(t.HeldBy) == 0 {
			continue
		}
		if strings.HasPrefix(t.WaitsOn, "Group.") {
			b.WriteString(", for ")
		} else {
			b.WriteString(", held by ")
		}
		for j, h := range t.HeldBy {
			if j == maxHoldersShown {
				fmt.Fprintf(&b, " and %d more", len(t.HeldBy)-j)
				break
			}
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(h)
		}
	}
	if n := len(e.Blocked) - len(order); n > 0 {
		fmt.Fprintf(&b, "\n\t… and %d more", n)
	}
	return b.String()
}
