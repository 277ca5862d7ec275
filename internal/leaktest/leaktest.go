// Package leaktest fails a test that leaves goroutines behind.
package leaktest

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

var header = regexp.MustCompile(`^goroutine (\d+) `)

func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if m := header.FindStringSubmatch(g); m != nil {
			out[m[1]] = g
		}
	}
	return out
}

// Check fails t if goroutines started during the test are still running when
// it ends, after giving them up to 10 s to exit.
func Check(t testing.TB) {
	before := goroutines()
	t.Cleanup(func() {
		var leaked []string
		for i := 0; i < 1000; i++ {
			leaked = leaked[:0]
			for id, g := range goroutines() {
				if _, ok := before[id]; !ok && !strings.Contains(g, "testing.tRunner") && !strings.Contains(g, "testing.(*T).Run") {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("%d goroutine(s) left behind:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	})
}
