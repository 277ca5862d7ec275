package internal

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func namedLen() int {
	n := 0
	named.Range(func(any, any) bool { n++; return true })
	return n
}

// A named task of the real runtime is known by its ID while it runs, and
// forgotten when it ends; an unnamed one is never registered.
func TestRealNamedTaskRegistry(t *testing.T) {
	before := namedLen()
	running, release, done := make(chan uint64), make(chan struct{}), make(chan struct{}, 2)
	spawnFn(Real, context.Background(), "worker-3", func(ctx context.Context) {
		defer func() { done <- struct{}{} }()
		running <- TaskID(ctx)
		<-release
	})
	id := <-running
	if got := TaskLabel(context.Background(), id); got != "worker-3" {
		t.Errorf("TaskLabel while running = %q", got)
	}
	spawnFn(Real, context.Background(), "", func(ctx context.Context) {
		defer func() { done <- struct{}{} }()
		running <- TaskID(ctx)
	})
	id2 := <-running
	if got := TaskLabel(context.Background(), id2); got != "task "+itoa(id2) {
		t.Errorf("TaskLabel of an unnamed task = %q", got)
	}
	close(release)
	for range 2 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("tasks did not end")
		}
	}
	// the deferred Delete runs after done is sent: wait for it, bounded
	for i := 0; namedLen() != before; i++ {
		if i > 10000 {
			t.Fatalf("%d named tasks registered, want %d", namedLen(), before)
		}
		time.Sleep(time.Millisecond)
	}
	if got := TaskLabel(context.Background(), id); got != "task "+itoa(id) {
		t.Errorf("TaskLabel after the end = %q", got)
	}
	main := NewRealTask("main")
	if got := TaskLabel(context.Background(), main.ID); got != "main" {
		t.Errorf("TaskLabel of tock.Run's task = %q", got)
	}
	EndRealTask(main)
	if namedLen() != before {
		t.Errorf("EndRealTask did not forget the task")
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// findCycle finds the first cycle from the first node, entered where the
// search met it again, or none.
func TestFindCycle(t *testing.T) {
	for _, tc := range []struct {
		edges [][]int
		want  []int
	}{
		{nil, nil},
		{[][]int{{}, {}}, nil},
		{[][]int{{1}, {2}, {}}, nil},
		{[][]int{{0}}, []int{0}},
		{[][]int{{1}, {0}}, []int{0, 1}},
		{[][]int{{1, 2}, {}, {3}, {2}}, []int{2, 3}},
		{[][]int{{}, {2}, {3}, {1}}, []int{1, 2, 3}},
		{[][]int{{1}, {2}, {3}, {1}}, []int{1, 2, 3}},
		{[][]int{{1, 2}, {3}, {3}, {}}, nil}, // a diamond is no cycle
	} {
		got := findCycle(tc.edges)
		if len(got) != len(tc.want) {
			t.Errorf("findCycle(%v) = %v, want %v", tc.edges, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("findCycle(%v) = %v, want %v", tc.edges, got, tc.want)
				break
			}
		}
	}
}
