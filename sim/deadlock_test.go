package sim_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal/leaktest"
	"github.com/tockgo/tock/sim"
)

// deadlock runs main, which must deadlock, twice (the report is the same on
// every run, byte for byte) and returns the error.
func deadlock(t *testing.T, main func(ctx context.Context) error) *sim.DeadlockError {
	t.Helper()
	leaktest.Check(t)
	var first string
	var d *sim.DeadlockError
	for run := 0; run < 2; run++ {
		err := sim.Run(context.Background(), main)
		if !errors.As(err, &d) {
			t.Fatalf("Run = %v, want a *DeadlockError", err)
		}
		if run == 0 {
			first = fmt.Sprintf("%#v\n%s", d, err)
		} else if again := fmt.Sprintf("%#v\n%s", d, err); again != first {
			t.Fatalf("second run differs:\n%s\nfirst:\n%s", again, first)
		}
	}
	return d
}

func blockedTask(t *testing.T, d *sim.DeadlockError, name string) sim.BlockedTask {
	t.Helper()
	for _, b := range d.Blocked {
		if b.Task == name {
			return b
		}
	}
	t.Fatalf("no blocked task %q in %v", name, d.Blocked)
	return sim.BlockedTask{}
}

// Two named tasks take two Locks in opposite orders: each waits on the Lock
// the other holds, the cycle is named first, and names are everywhere.
func TestDeadlockLockOrderNamed(t *testing.T) {
	d := deadlock(t, func(ctx context.Context) error {
		var a, b tock.Lock
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			a.Lock(ctx)
			tock.Sleep(ctx, time.Second)
			return b.Lock(ctx)
		}, tock.Name("worker-1"))
		g.Go(func(ctx context.Context) error {
			b.Lock(ctx)
			tock.Sleep(ctx, time.Second)
			return a.Lock(ctx)
		}, tock.Name("worker-2"))
		return g.Wait()
	})
	want := []sim.BlockedTask{
		{Task: "main", WaitsOn: "Group.Wait", HeldBy: []string{"worker-1", "worker-2"}},
		{Task: "worker-1", WaitsOn: "Lock.Lock", HeldBy: []string{"worker-2"}},
		{Task: "worker-2", WaitsOn: "Lock.Lock", HeldBy: []string{"worker-1"}},
	}
	if fmt.Sprint(d.Blocked) != fmt.Sprint(want) {
		t.Errorf("Blocked = %v, want %v", d.Blocked, want)
	}
	if !slices.Equal(d.Cycle, []string{"worker-1", "worker-2"}) {
		t.Errorf("Cycle = %q", d.Cycle)
	}
	wantMsg := "tock/sim: deadlock at 2000-01-01T00:00:01Z: 3 task(s) blocked; cycle: worker-1 -> worker-2 -> worker-1\n" +
		"\tworker-1 waits on Lock.Lock, held by worker-2\n" +
		"\tworker-2 waits on Lock.Lock, held by worker-1\n" +
		"\tmain waits on Group.Wait, for worker-1, worker-2"
	if msg := d.Error(); msg != wantMsg {
		t.Errorf("message:\n%s\nwant:\n%s", msg, wantMsg)
	}
}

// A cycle through Group.Wait: main holds a Lock and waits for its group,
// whose task waits for the Lock.
func TestDeadlockGroupWaitCycle(t *testing.T) {
	d := deadlock(t, func(ctx context.Context) error {
		var l tock.Lock
		l.Lock(ctx)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, time.Hour) }, tock.Name("sleeper"))
		g.Go(func(ctx context.Context) error {
			// a derived context parks through the generic path
			c, cancel := context.WithCancel(context.WithValue(ctx, ctxKey{}, 1))
			defer cancel()
			return l.Lock(c)
		}, tock.Name("locker"))
		return g.Wait()
	})
	if !slices.Equal(d.Cycle, []string{"main", "locker"}) {
		t.Errorf("Cycle = %q", d.Cycle)
	}
	if b := blockedTask(t, d, "main"); !slices.Equal(b.HeldBy, []string{"locker"}) {
		t.Errorf("main: %v (the sleeper has ended)", b)
	}
	if b := blockedTask(t, d, "locker"); !slices.Equal(b.HeldBy, []string{"main"}) {
		t.Errorf("locker: %v", b)
	}
	msg := d.Error()
	if !strings.HasPrefix(msg, "tock/sim: deadlock at 2000-01-01T01:00:00Z: 2 task(s) blocked; cycle: main -> locker -> main\n") ||
		!strings.Contains(msg, "\n\tmain waits on Group.Wait, for locker\n\tlocker waits on Lock.Lock, held by main") {
		t.Errorf("message:\n%s", msg)
	}
}

// A task that waits for its own group is a cycle of one.
func TestDeadlockSelfCycle(t *testing.T) {
	d := deadlock(t, func(ctx context.Context) error {
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return g.Wait() }, tock.Name("narcissus"))
		return g.Wait()
	})
	if !slices.Equal(d.Cycle, []string{"narcissus"}) {
		t.Errorf("Cycle = %q", d.Cycle)
	}
	if msg := d.Error(); !strings.Contains(msg, "; cycle: narcissus -> narcissus\n\tnarcissus waits on Group.Wait, for narcissus\n\tmain waits on Group.Wait, for narcissus") {
		t.Errorf("message:\n%s", msg)
	}
}

// Group.Start waits for the task it started; that task waits on a Lock the
// starter holds.
func TestDeadlockGroupStartCycle(t *testing.T) {
	d := deadlock(t, func(ctx context.Context) error {
		var l tock.Lock
		l.Lock(ctx)
		g := tock.NewGroup(ctx)
		return g.Start(func(ctx context.Context, started func()) error {
			if err := l.Lock(ctx); err != nil {
				return err
			}
			started()
			return nil
		}, tock.Name("server"))
	})
	want := []sim.BlockedTask{
		{Task: "main", WaitsOn: "Group.Start", HeldBy: []string{"server"}},
		{Task: "server", WaitsOn: "Lock.Lock", HeldBy: []string{"main"}},
	}
	if fmt.Sprint(d.Blocked) != fmt.Sprint(want) || !slices.Equal(d.Cycle, []string{"main", "server"}) {
		t.Errorf("Blocked = %v, Cycle = %q", d.Blocked, d.Cycle)
	}
	if msg := d.Error(); !strings.Contains(msg, "main waits on Group.Start, for server") {
		t.Errorf("message:\n%s", msg)
	}
}

type loud struct{}

func (loud) String() string { panic("loud") }

// A CapacityLimiter names its borrowers: tasks by name, other borrowers
// with %v (cut short if long; a String method's panic is reported in the
// text, not raised). No cycle.
func TestDeadlockLimiterHolders(t *testing.T) {
	long := strings.Repeat("x", 200)
	d := deadlock(t, func(ctx context.Context) error {
		l := tock.NewCapacityLimiter(4)
		var never tock.Event
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			l.Acquire(ctx)
			return never.Wait(ctx)
		}, tock.Name("holder"))
		tock.Yield(ctx)
		l.AcquireFor(ctx, "job-7")
		l.AcquireFor(ctx, long)
		l.AcquireFor(ctx, loud{})
		g.Go(func(ctx context.Context) error { return l.Acquire(ctx) }, tock.Name("waiter"))
		return g.Wait()
	})
	b := blockedTask(t, d, "waiter")
	want := []string{"holder", "job-7", strings.Repeat("x", 77) + "...", "%!v(PANIC=String method: loud)"}
	if b.WaitsOn != "CapacityLimiter.Acquire" || !slices.Equal(b.HeldBy, want) {
		t.Errorf("waiter: %v, want held by %q", b, want)
	}
	if h := blockedTask(t, d, "holder"); h.WaitsOn != "Event.Wait" || h.HeldBy != nil {
		t.Errorf("holder: %v", h)
	}
	if d.Cycle != nil {
		t.Errorf("Cycle = %q, want none", d.Cycle)
	}
	if msg := d.Error(); !strings.Contains(msg, "3 task(s) blocked\n") || !strings.Contains(msg, "waiter waits on CapacityLimiter.Acquire, held by holder, job-7, xxx") {
		t.Errorf("message:\n%s", msg)
	}
}

// What a task waits on is what it waits on now: a task that got a Lock
// after waiting for it, then waits on an Event or a Condition, is not
// reported as held by the Lock's owner (main, who has it again); a
// Semaphore names no holder.
func TestDeadlockWaitsOnIsCurrent(t *testing.T) {
	d := deadlock(t, func(ctx context.Context) error {
		var l tock.Lock
		var never tock.Event
		c := tock.NewCondition(nil)
		s := tock.NewSemaphore(0)
		l.Lock(ctx)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			l.Lock(ctx) // waits for main
			l.Unlock(ctx)
			return never.Wait(ctx)
		}, tock.Name("e"))
		g.Go(func(ctx context.Context) error {
			l.Lock(ctx) // waits for main, then e
			l.Unlock(ctx)
			c.Lock(ctx)
			return c.Wait(ctx)
		}, tock.Name("c"))
		g.Go(func(ctx context.Context) error { return s.Acquire(ctx) }, tock.Name("s"))
		tock.Yield(ctx)
		l.Unlock(ctx)
		l.Lock(ctx) // after e and c: main holds it at the deadlock
		return never.Wait(ctx)
	})
	want := []sim.BlockedTask{
		{Task: "main", WaitsOn: "Event.Wait"},
		{Task: "e", WaitsOn: "Event.Wait"},
		{Task: "c", WaitsOn: "Condition.Wait"},
		{Task: "s", WaitsOn: "Semaphore.Acquire"},
	}
	if fmt.Sprintf("%#v", d.Blocked) != fmt.Sprintf("%#v", want) || d.Cycle != nil {
		t.Errorf("Blocked = %#v, Cycle = %q", d.Blocked, d.Cycle)
	}
}

// A Lock whose owner ended without unlocking it is held by "a task that has
// ended" (its ID would differ from run to run); a CapacityLimiter token kept
// by a task that ended names it.
func TestDeadlockHolderEnded(t *testing.T) {
	d := deadlock(t, func(ctx context.Context) error {
		var l tock.Lock
		lim := tock.NewCapacityLimiter(1)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			lim.Acquire(ctx)
			return l.Lock(ctx)
		}, tock.Name("leaker"))
		g.Wait()
		g = tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { return l.Lock(ctx) }, tock.Name("l"))
		g.Go(func(ctx context.Context) error { return lim.Acquire(ctx) }, tock.Name("c"))
		return g.Wait()
	})
	if b := blockedTask(t, d, "l"); !slices.Equal(b.HeldBy, []string{"a task that has ended"}) {
		t.Errorf("l: %v", b)
	}
	if b := blockedTask(t, d, "c"); !slices.Equal(b.HeldBy, []string{"leaker (ended)"}) {
		t.Errorf("c: %v", b)
	}
}

// 10,001 blocked tasks: the message is bounded (20 tasks, 5 holders each,
// then how many more), and the struct is complete.
func TestDeadlockMessageCapped(t *testing.T) {
	const n = 10000
	d := deadlock(t, func(ctx context.Context) error {
		var l tock.Lock
		l.Lock(ctx)
		g := tock.NewGroup(ctx)
		for i := range n {
			g.Go(func(ctx context.Context) error { return l.Lock(ctx) }, tock.Name(fmt.Sprintf("w%d", i)))
		}
		return g.Wait()
	})
	if len(d.Blocked) != n+1 {
		t.Fatalf("%d blocked tasks, want %d", len(d.Blocked), n+1)
	}
	mainB := d.Blocked[0]
	if mainB.Task != "main" || mainB.WaitsOn != "Group.Wait" || len(mainB.HeldBy) != n || mainB.HeldBy[n-1] != fmt.Sprintf("w%d", n-1) {
		t.Errorf("main: %s on %s, %d holders", mainB.Task, mainB.WaitsOn, len(mainB.HeldBy))
	}
	for i, b := range d.Blocked[1:] {
		if b.Task != fmt.Sprintf("w%d", i) || b.WaitsOn != "Lock.Lock" || !slices.Equal(b.HeldBy, []string{"main"}) {
			t.Fatalf("blocked[%d] = %v", i+1, b)
		}
	}
	if !slices.Equal(d.Cycle, []string{"main", "w0"}) {
		t.Errorf("Cycle = %q", d.Cycle)
	}
	msg := d.Error()
	if len(msg) > 2000 {
		t.Errorf("message of %d bytes", len(msg))
	}
	lines := strings.Split(msg, "\n")
	if len(lines) != 1+20+1 {
		t.Errorf("%d lines, want 22:\n%s", len(lines), msg)
	}
	if want := "\tmain waits on Group.Wait, for w0, w1, w2, w3, w4 and 9995 more"; lines[1] != want {
		t.Errorf("line 1 = %q, want %q", lines[1], want)
	}
	if want := "\t… and 9981 more"; lines[len(lines)-1] != want {
		t.Errorf("last line = %q, want %q", lines[len(lines)-1], want)
	}
	if !strings.HasPrefix(msg, "tock/sim: deadlock at 2000-01-01T00:00:00Z: 10001 task(s) blocked; cycle: main -> w0 -> main\n") {
		t.Errorf("first line: %q", lines[0])
	}
}

// A ring of 100 tasks, each holding a Lock and waiting for the next one's:
// the cycle is found wherever it starts, named first, capped in the
// message, complete in the struct; its tasks are listed first.
func TestDeadlockLongCycle(t *testing.T) {
	const n = 100
	d := deadlock(t, func(ctx context.Context) error {
		locks := make([]tock.Lock, n)
		var never tock.Event
		g := tock.NewGroup(ctx)
		for i := range 30 { // tasks outside the cycle come first
			g.Go(func(ctx context.Context) error { return never.Wait(ctx) }, tock.Name(fmt.Sprintf("idle%d", i)))
		}
		for i := range n {
			g.Go(func(ctx context.Context) error {
				locks[i].Lock(ctx)
				tock.Sleep(ctx, time.Second)
				return locks[(i+1)%n].Lock(ctx)
			}, tock.Name(fmt.Sprintf("r%d", i)))
		}
		return g.Wait()
	})
	// main waits for the group's tasks; the search goes from main through
	// the idle tasks (dead ends) to r0, and around the ring.
	var ring []string
	for i := range n {
		ring = append(ring, fmt.Sprintf("r%d", i))
	}
	if !slices.Equal(d.Cycle, ring) {
		t.Fatalf("Cycle = %q", d.Cycle)
	}
	msg := d.Error()
	lines := strings.Split(msg, "\n")
	want := "tock/sim: deadlock at 2000-01-01T00:00:01Z: 131 task(s) blocked; cycle: r0 -> r1 -> "
	if !strings.HasPrefix(lines[0], want) || !strings.HasSuffix(lines[0], " -> r19 -> … 80 more -> r0") {
		t.Errorf("first line %q", lines[0])
	}
	if lines[1] != "\tr0 waits on Lock.Lock, held by r1" || lines[20] != "\tr19 waits on Lock.Lock, held by r20" || lines[21] != "\t… and 111 more" {
		t.Errorf("message:\n%s", msg)
	}
}

// A DeadlockError made by hand (no cycle indices) still prints.
func TestDeadlockErrorByHand(t *testing.T) {
	d := &sim.DeadlockError{At: sim.DefaultStart, Blocked: []sim.BlockedTask{{Task: "a", WaitsOn: "Lock.Lock", HeldBy: []string{"b"}}, {Task: "b", WaitsOn: "Lock.Lock", HeldBy: []string{"a"}}}, Cycle: []string{"b", "a"}}
	want := "tock/sim: deadlock at 2000-01-01T00:00:00Z: 2 task(s) blocked; cycle: b -> a -> b\n\ta waits on Lock.Lock, held by b\n\tb waits on Lock.Lock, held by a"
	if d.Error() != want {
		t.Errorf("message:\n%s\nwant:\n%s", d.Error(), want)
	}
}

type ctxKey struct{}

// A Condition waiter that was notified waits for the lock (it was moved to
// the lock's queue): it is reported as held by the lock's owner. Before the
// notification it waits on the Condition, which nobody holds.
func TestDeadlockNotifiedWaiterHeldByLockOwner(t *testing.T) {
	d := deadlock(t, func(ctx context.Context) error {
		var never tock.Event
		c := tock.NewCondition(nil)
		g := tock.NewGroup(ctx)
		for _, name := range []string{"notified", "waiting"} {
			g.Go(func(ctx context.Context) error {
				c.Lock(ctx)
				defer c.Unlock(ctx)
				return c.Wait(ctx)
			}, tock.Name(name))
		}
		tock.Yield(ctx) // both wait on the Condition
		c.Lock(ctx)
		c.Notify(ctx, 1) // "notified" now waits for the lock main keeps
		return never.Wait(ctx)
	})
	if b := blockedTask(t, d, "notified"); fmt.Sprint(b.HeldBy) != "[main]" {
		t.Errorf("notified: %+v, want held by main", b)
	}
	if b := blockedTask(t, d, "waiting"); len(b.HeldBy) != 0 {
		t.Errorf("waiting: %+v, want no holder", b)
	}
}
