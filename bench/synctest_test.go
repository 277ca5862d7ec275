package bench

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The simulation's peer in the standard library is testing/synctest: the
// same model (n goroutines sleeping on a fake clock) inside a bubble.
// synctest.Test needs a *testing.T, so a benchmark runs its bubble as a
// one-test run of testing.RunTests; the clock is the benchmark's.

// inBubble runs f in a synctest bubble and reports whether it passed.
func inBubble(tb testing.TB, f func()) {
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
