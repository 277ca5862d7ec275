package internal

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTimerHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h timerHeap
	var live []*timer
	seq := uint64(0)
	for i := 0; i < 5000; i++ {
		switch op := rng.IntN(3); {
		case op < 2 || len(live) == 0:
			seq++
			tm := &timer{when: int64(rng.IntN(100)), seq: seq}
			h.push(tm)
			live = append(live, tm)
		default:
			k := rng.IntN(len(live))
			h.remove(live[k])
			if live[k].pos != 0 {
				t.Fatal("removed timer still has a position")
			}
			live = slices.Delete(live, k, k+1)
		}
		if h.len() != len(live) {
			t.Fatalf("heap has %d timers, want %d", h.len(), len(live))
		}
	}
	slices.SortFunc(live, func(a, b *timer) int {
		if tless(a, b) {
			return -1
		}
		return 1
	})
	for i, want := range live {
		if got := h.pop(); got != want {
			t.Fatalf("pop %d: got (%d,%d), want (%d,%d)", i, got.when, got.seq, want.when, want.seq)
		}
	}
}

func TestQueueRemoveAndPopLive(t *testing.T) {
	var q Queue[int]
	ws := make([]*Waiter[int], 5)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range ws {
		ws[i] = &Waiter[int]{Val: i, Ctx: context.Background()}
		q.Push(ws[i])
	}
	ws[1].Ctx = cancelled
	if !q.Remove(ws[3]) || q.Remove(ws[3]) || q.Len() != 4 {
		t.Fatal("Remove")
	}
	var got []int
	for w := q.PopLive(); w != nil; w = q.PopLive() {
		got = append(got, w.Val)
	}
	if !slices.Equal(got, []int{0, 2, 4}) || q.Len() != 0 || q.Front() != nil {
		t.Fatalf("PopLive order %v, len %d", got, q.Len())
	}
}

func TestRing(t *testing.T) {
	var r ring
	var ts []*Task
	for i := 0; i < 300; i++ {
		ts = append(ts, &Task{ID: uint64(i)})
	}
	for round := 0; round < 3; round++ {
		for _, x := range ts[:200] {
			r.push(x)
		}
		for i := 0; i < 100; i++ {
			if r.pop() != ts[i] {
				t.Fatal("ring order")
			}
		}
		for _, x := range ts[200:] {
			r.push(x)
		}
		for i := 100; i < 300; i++ {
			if r.pop() != ts[i] {
				t.Fatal("ring order after wrap")
			}
		}
	}
}
