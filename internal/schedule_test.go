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

// takeModel is ring.take's definition on a slice: the task in place k
// leaves, and the nearer end takes its place.
func takeModel(q []uint64, k int) (uint64, []uint64) {
	t := q[k]
	q = slices.Clone(q)
	if k < len(q)-1-k {
		q[k] = q[0]
		return t, q[1:]
	}
	q[k] = q[len(q)-1]
	return t, q[:len(q)-1]
}

// take follows its definition for every position of the ring's head, every
// length and every place k, the ring wrapped around the end of its buffer or
// not; it keeps the queue's order when k is next to an end; and it leaves no
// task in a slot outside the queue (that would keep it alive).
func TestRingTake(t *testing.T) {
	const size = 16
	for head := range size {
		for n := 1; n <= size; n++ {
			for k := range n {
				r := ring{buf: make([]*simTask, size), head: head}
				var q []uint64
				for i := range n {
					r.push(&simTask{Task: Task{num: uint64(i)}})
					q = append(q, uint64(i))
				}
				wantT, want := takeModel(q, k)
				if got := r.take(k); got.num != wantT {
					t.Fatalf("head %d, n %d: take(%d) = %d, want %d", head, n, k, got.num, wantT)
				}
				if !slices.Equal(nums(&r), want) {
					t.Fatalf("head %d, n %d, after take(%d): %v, want %v", head, n, k, nums(&r), want)
				}
				if k <= 1 || k >= n-2 {
					if kept := slices.Delete(slices.Clone(q), k, k+1); !slices.Equal(want, kept) {
						t.Fatalf("head %d, n %d, after take(%d): %v, want the order kept: %v", head, n, k, want, kept)
					}
				}
				live := 0
				for _, e := range r.buf {
					if e != nil {
						live++
					}
				}
				if live != n-1 {
					t.Fatalf("head %d, n %d, after take(%d): %d slots hold a task, want %d", head, n, k, live, n-1)
				}
			}
		}
	}
	// the queue grows and wraps after picks out of turn
	var r ring
	var q []uint64
	x := NewSchedule(ScheduleConfig{Seed: [2]uint64{1, 2}})
	for i := range 500 {
		r.push(&simTask{Task: Task{num: uint64(i)}})
		q = append(q, uint64(i))
		if i%3 == 0 {
			k := int(x.uniform(uint64(len(q))))
			var want uint64
			want, q = takeModel(q, k)
			if got := r.take(k); got.num != want {
				t.Fatalf("push %d: take(%d) = %d, want %d", i, k, got.num, want)
			}
		}
	}
	if !slices.Equal(nums(&r), q) {
		t.Fatalf("after 500 pushes: %v, want %v", nums(&r), q)
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

// order follows its definition (at each position, the k-th of the
// remaining timers fires next and the nearer end takes its place) for every
// length up to 70 and many seeds, and draws the same choices.
func TestScheduleTimerOrderMatchesDefinition(t *testing.T) {
	tm := make([]timer, 70)
	for n := 2; n <= 70; n++ {
		for seed := range uint64(20) {
			due := make([]hent, n)
			var rest []uint64
			for i := range due {
				due[i] = hent{when: 5, seq: uint64(i + 1), tm: &tm[i]}
				rest = append(rest, uint64(i+1))
			}
			var want []uint64
			ref := NewSchedule(ScheduleConfig{Strategy: Random, Seed: [2]uint64{seed, uint64(n)}})
			for len(rest) > 1 {
				k := int(ref.choice(uint64(len(rest)), ref.uniform(uint64(len(rest)))))
				var e uint64
				e, rest = takeModel(rest, k)
				want = append(want, e)
			}
			want = append(want, rest[0])
			x := NewSchedule(ScheduleConfig{Strategy: Random, Seed: [2]uint64{seed, uint64(n)}})
			x.order(due)
			var got []uint64
			for _, e := range due {
				got = append(got, e.seq)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("n %d, seed %d: order %v, want %v", n, seed, got, want)
			}
			if !slices.Equal(x.Deviations(), ref.Deviations()) {
				t.Fatalf("n %d, seed %d: deviations %v, want %v", n, seed, x.Deviations(), ref.Deviations())
			}
		}
	}
}

// order with one replayed deviation: the timers before it fire in place, the
// one chosen there next, then the rest as the nearer-end rule left them.
func TestScheduleTimerOrderReplayed(t *testing.T) {
	tm := make([]timer, 12)
	for n := 2; n <= 12; n++ {
		for at := 0; at < n-1; at++ {
			for k := 1; k < n-at; k++ {
				due := make([]hent, n)
				var rest []uint64
				for i := range due {
					due[i] = hent{when: 5, seq: uint64(i + 1), tm: &tm[i]}
					rest = append(rest, uint64(i+1))
				}
				want := slices.Clone(rest[:at])
				e, left := takeModel(rest[at:], k)
				want = append(append(want, e), left...)
				x := NewSchedule(ScheduleConfig{Replay: []Deviation{{uint64(at), uint64(k)}}})
				x.order(due)
				var got []uint64
				for _, e := range due {
					got = append(got, e.seq)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("n %d, choice %d at %d: order %v, want %v", n, k, at, got, want)
				}
			}
		}
	}
}

// PCT's pick, through its heap, is always the highest-priority runnable
// task, while tasks join the queue (new ones, and ones that ran again), the
// queue grows into new buffers, a lone task is popped, and replayed choices
// take other tasks than the highest out of the heap.
func TestPCTPicksHighest(t *testing.T) {
	for seed := range uint64(30) {
		s := &Sched{}
		var replay []Deviation
		over := map[uint64]bool{}
		for i := uint64(3); i < 2000; i += 3 + i%5 {
			replay = append(replay, Deviation{i, 1 + i%11})
			over[i] = true
		}
		x := NewSchedule(ScheduleConfig{Strategy: PCT, Seed: [2]uint64{seed, 9}, Depth: 3, Length: 400, Replay: replay})
		ops := NewSchedule(ScheduleConfig{Seed: [2]uint64{seed, 10}})
		var ran []*simTask
		num := uint64(0)
		for step := 0; step < 2000; step++ {
			// a few tasks become runnable: new ones or ones that ran;
			// the queue grows for 150 steps, then shrinks for 150 (from
			// a scan of a few tasks to the heap and back)
			most := uint64(4)
			if step/150%2 == 1 {
				most = 2
			}
			for range ops.uniform(most) {
				if len(ran) > 0 && ops.uniform(2) == 0 {
					i := int(ops.uniform(uint64(len(ran))))
					s.runq.push(ran[i])
					ran = slices.Delete(ran, i, i+1)
				} else if s.runq.n < 300 {
					num++
					s.runq.push(&simTask{Task: Task{num: num}})
				}
			}
			if s.runq.n == 0 {
				continue
			}
			var best *simTask
			lone := s.runq.n == 1
			point := x.Points()
			got := x.next(s)
			if !lone && !over[point] {
				best = got
				for i := 0; i < s.runq.n; i++ {
					if o := s.runq.buf[(s.runq.head+i)&(len(s.runq.buf)-1)]; *x.prio(o) >= *x.prio(best) {
						t.Fatalf("seed %d, step %d: picked task %d (priority %x), but task %d has %x", seed, step, got.num, *x.prio(got), o.num, *x.prio(o))
					}
				}
			}
			ran = append(ran, got)
		}
	}
}
