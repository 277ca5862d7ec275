package sim

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal"
)

type myErr string

func (e myErr) Error() string { return string(e) }

func TestSignature(t *testing.T) {
	same := [][2]error{
		{fmt.Errorf("bad pointer 0xc000123456"), fmt.Errorf("bad pointer 0xc000999999")},
		{errors.New("stuck for 10.2s in goroutine 17"), errors.New("stuck for 10.4s in goroutine 90")},
		{&tock.PanicError{Value: "boom", Stack: []byte("goroutine 1 a")}, &tock.PanicError{Value: &tock.PanicError{Value: "boom"}, Stack: []byte("b")}},
		{&DeadlockError{At: DefaultStart, Blocked: []BlockedTask{{Task: "main", WaitsOn: "Group.Wait"}}}, &DeadlockError{At: DefaultStart.Add(time.Hour), Blocked: []BlockedTask{{Task: "main", WaitsOn: "Group.Wait"}}}},
	}
	for _, p := range same {
		if a, b := signature(p[0]), signature(p[1]); a != b {
			t.Errorf("%q and %q differ", a, b)
		}
	}
	differ := [][2]error{
		{errors.New("counter is 1"), errors.New("counter is 0")},
		{errors.New("x"), myErr("x")}, // other types
		{errors.New("x"), fmt.Errorf("w: %w", errors.New("x"))},
		{&tock.PanicError{Value: "boom"}, &tock.PanicError{Value: "bang"}},
		{&tock.PanicError{Value: "boom"}, errors.New("boom")},
		{&DeadlockError{Blocked: []BlockedTask{{Task: "main", WaitsOn: "Group.Wait"}}}, &DeadlockError{Blocked: []BlockedTask{{Task: "main", WaitsOn: "Lock.Lock"}}}},
	}
	for _, p := range differ {
		if a, b := signature(p[0]), signature(p[1]); a == b {
			t.Errorf("%v and %v have one signature %q", p[0], p[1], a)
		}
	}
}

func TestSeedRoundTrip(t *testing.T) {
	for _, d := range []seedData{
		{},
		{jitter: time.Millisecond, devs: []internal.Deviation{{Index: 0, Choice: 1}}},
		{devs: []internal.Deviation{{Index: 3, Choice: 1}, {Index: 4, Choice: 900}, {Index: 1 << 40, Choice: 1 << 50}}},
	} {
		s := encodeSeed(d)
		got, err := decodeSeed(s)
		if err != nil || got.jitter != d.jitter || !slices.Equal(got.devs, d.devs) {
			t.Fatalf("%+v -> %q -> %+v, %v", d, s, got, err)
		}
	}
	if s := encodeSeed(seedData{}); s != "tock1:AAA" {
		t.Fatalf("FIFO's seed is %q", s)
	}
}

// ddmin finds a 1-minimal subset: here the failing ones are those holding
// both index 3 and index 17.
func TestDDMin(t *testing.T) {
	var devs []internal.Deviation
	for i := range 40 {
		devs = append(devs, internal.Deviation{Index: uint64(i), Choice: 1})
	}
	runs := 0
	got := ddmin(devs, func(c []internal.Deviation) ([]internal.Deviation, bool) {
		runs++
		has := func(i uint64) bool {
			return slices.ContainsFunc(c, func(d internal.Deviation) bool { return d.Index == i })
		}
		return c, has(3) && has(17)
	})
	if !slices.Equal(got, []internal.Deviation{{Index: 3, Choice: 1}, {Index: 17, Choice: 1}}) {
		t.Fatalf("ddmin: %v", got)
	}
	if runs > 100 {
		t.Fatalf("%d runs", runs)
	}
}
