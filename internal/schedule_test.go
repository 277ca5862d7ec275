package internal

import (
	"slices"
	"testing"
)

func nums(r *ring) []uint64 {
	var out []uint64
	for i := 0; i < r.n; i++ {
		out = append(out, r.buf[(r.head+i)&(len(r.buf)-1)].num)
	}
	return out
}

// take removes the k-th oldest task and keeps the others' order, also when
// the ring wraps around.
func TestRingTake(t *testing.T) {
	var r ring
	for i := range 70 { // past the first 64 slots
		r.push(&simTask{Task: Task{num: uint64(i)}})
	}
	for range 60 {
		r.pop()
	}
	for i := 70; i < 100; i++ { // wraps around
		r.push(&simTask{Task: Task{num: uint64(i)}})
	}
	want := nums(&r)
	for _, k := range []int{0, 5, 12, 30, 0} {
		got := r.take(k)
		if got.num != want[k] {
			t.Fatalf("take(%d) = %d, want %d", k, got.num, want[k])
		}
		want = slices.Delete(want, k, k+1)
		if !slices.Equal(nums(&r), want) {
			t.Fatalf("after take(%d): %v, want %v", k, nums(&r), want)
		}
	}
}

// take removes the k-th oldest task and keeps the others' order for every
// position of the ring's head, every length and every k: whichever side it
// moves, wrapped around the end of the buffer or not.
func TestRingTakeEverywhere(t *testing.T) {
	const size = 16
	for head := range size {
		for n := 1; n <= size; n++ {
			for k := range n {
				r := ring{buf: make([]*simTask, size), head: head}
				var want []uint64
				for i := range n {
					r.push(&simTask{Task: Task{num: uint64(i)}})
					want = append(want, uint64(i))
				}
				if got := r.take(k); got.num != uint64(k) {
					t.Fatalf("head %d, n %d: take(%d) = %d", head, n, k, got.num)
				}
				want = slices.Delete(want, k, k+1)
				if !slices.Equal(nums(&r), want) {
					t.Fatalf("head %d, n %d, after take(%d): %v, want %v", head, n, k, nums(&r), want)
				}
				live := 0
				for _, e := range r.buf {
					if e != nil {
						live++
					}
				}
				if live != n-1 {
					t.Fatalf("head %d, n %d, after take(%d): %d slots hold a task, want %d (a stale slot keeps a task alive)", head, n, k, live, n-1)
				}
			}
		}
	}
}

// A replayed choice is taken at its numbered point; one out of range there
// is taken as FIFO's and not recorded; the points without one are FIFO's.
func TestScheduleReplay(t *testing.T) {
	x := NewSchedule(ScheduleConfig{Replay: []Deviation{{1, 2}, {2, 7}, {4, 1}}})
	var got []uint64
	for _, n := range []uint64{3, 3, 3, 2, 2} {
		got = append(got, x.choice(n, 0))
	}
	if !slices.Equal(got, []uint64{0, 2, 0, 0, 1}) {
		t.Fatalf("choices %v", got)
	}
	if d := x.Deviations(); !slices.Equal(d, []Deviation{{1, 2}, {4, 1}}) || x.Points() != 5 {
		t.Fatalf("recorded %v, %d points", d, x.Points())
	}
}

// The same seed draws the same choices; Random records every non-zero one.
func TestScheduleRandomDeterministic(t *testing.T) {
	draw := func(seed uint64) ([]uint64, []Deviation) {
		x := NewSchedule(ScheduleConfig{Strategy: Random, Seed: [2]uint64{seed, 3}})
		var out []uint64
		for range 50 {
			out = append(out, x.choice(4, x.uniform(4)))
		}
		return out, x.Deviations()
	}
	a, da := draw(1)
	b, _ := draw(1)
	c, _ := draw(2)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Fatalf("seed 1: %v / %v; seed 2: %v", a, b, c)
	}
	n := 0
	for i, v := range a {
		if v != 0 {
			if da[n] != (Deviation{uint64(i), v}) {
				t.Fatalf("deviation %d: %v, want {%d %d}", n, da[n], i, v)
			}
			n++
		}
		if v >= 4 {
			t.Fatalf("choice %d out of range", v)
		}
	}
	if n != len(da) || n < 25 {
		t.Fatalf("%d deviations recorded of %d", len(da), n)
	}
}

// order: choice k at position i moves the k-th remaining timer there and
// keeps the others' order.
func TestScheduleTimerOrder(t *testing.T) {
	tm := make([]timer, 4)
	due := make([]hent, 4)
	for i := range due {
		due[i] = hent{when: 5, seq: uint64(i + 1), tm: &tm[i]}
	}
	// point 0 (4 options): take the third; point 1 (3 left): FIFO; point 2 (2 left): the second
	x := NewSchedule(ScheduleConfig{Replay: []Deviation{{0, 2}, {2, 1}}})
	x.order(due)
	var got []uint64
	for _, e := range due {
		got = append(got, e.seq)
	}
	if !slices.Equal(got, []uint64{3, 1, 4, 2}) {
		t.Fatalf("order %v", got)
	}
}
