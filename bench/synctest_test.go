package bench

import (
	"flag"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The simulation's peer in the standard library is testing/synctest: the
// same model (n goroutines sleeping on a fake clock) inside a bubble.
// synctest.Test needs a *testing.T, so a benchmark runs its bubble as a
// one-test run of testing.RunTests; the clock is the benchmark's.

// inBubble runs f in a synctest bubble, once, and fails tb if the bubble
// failed. RunTests runs each test -test.count times, so the flag is set to 1
// around it: under go test -count N a bubble's op would otherwise be N runs
// of the model (until this session the benchtable's synctest rows took
// 3-5 times their time so).
func inBubble(tb testing.TB, f func()) {
	count := flag.Lookup("test.count")
	if old := count.Value.String(); old != "1" {
		count.Value.Set("1")
		defer count.Value.Set(old)
	}
	ok := testing.RunTests(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: "bubble", F: func(t *testing.T) {
			synctest.Test(t, func(*testing.T) { f() })
		}}})
	if !ok {
		tb.Fatal("the synctest bubble failed")
	}
}

// synctestSleeps is tockSleeps under synctest: n goroutines doing m sleeps
// each, with the same delays.
func synctestSleeps(b *testing.B) func(n, m int) {
	return func(n, m int) {
		inBubble(b, func() {
			var wg sync.WaitGroup
			wg.Add(n)
			for i := 0; i < n; i++ {
				go func() {
					defer wg.Done()
					d := time.Duration(delay(i))
					for k := 0; k < m; k++ {
						time.Sleep(d)
					}
				}()
			}
			wg.Wait()
		})
	}
}

// inBubble runs its model once whatever -test.count says (the synctest
// rows measure one run of the model per op), and leaves the flag as it was.
func TestInBubbleRunsOnce(t *testing.T) {
	count := flag.Lookup("test.count")
	old := count.Value.String()
	defer count.Value.Set(old)
	count.Value.Set("3")
	runs := 0
	inBubble(t, func() { runs++ })
	if runs != 1 {
		t.Errorf("inBubble ran its bubble %d times under -test.count 3, want 1", runs)
	}
	if got := count.Value.String(); got != "3" {
		t.Errorf("-test.count is %s after inBubble, want 3 (restored)", got)
	}
}
