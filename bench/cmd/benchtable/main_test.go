package main

import "testing"

// A round's ratio pairs the two rows' samples of that round; rows with a
// sample missing in some round have none.
func TestPerRound(t *testing.T) {
	num := &result{ns: []float64{10, 30, 20}}
	den := &result{ns: []float64{10, 10, 40}}
	rs := perRound(num, den, "ns")
	want := []float64{1, 3, 0.5}
	if len(rs) != len(want) {
		t.Fatalf("perRound = %v, want %v", rs, want)
	}
	for i := range want {
		if rs[i] != want[i] {
			t.Fatalf("perRound = %v, want %v", rs, want)
		}
	}
	if rs := perRound(num, &result{ns: []float64{1, 2}}, "ns"); rs != nil {
		t.Errorf("rows of unequal rounds paired: %v", rs)
	}
	if rs := perRound(num, &result{ns: []float64{1, 0, 2}}, "ns"); rs != nil {
		t.Errorf("a zero sample divided: %v", rs)
	}
}

// spread gives the range and the rounds that meet the bound, either way
// round.
func TestSpread(t *testing.T) {
	rs := []float64{1, 3, 0.5}
	for _, c := range []struct {
		t    target
		want string
	}{
		{target{bound: 1.0}, "rounds 0.50-3.00, met in 2 of 3"},
		{target{bound: 2.0, atLeast: true}, "rounds 0.50-3.00, met in 1 of 3"},
		{target{}, "rounds 0.50-3.00"},
	} {
		if got := c.t.spread(rs); got != c.want {
			t.Errorf("spread(%+v) = %q, want %q", c.t, got, c.want)
		}
	}
	if got := (target{bound: 1}).spread([]float64{1}); got != "" {
		t.Errorf("one round: %q, want none", got)
	}
}
