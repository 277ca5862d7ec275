package main

import (
	"strings"
	"testing"
)

func TestShopDemo(t *testing.T) {
	out := func(args ...string) string {
		var b strings.Builder
		if err := run(&b, args); err != nil {
			t.Fatal(err)
		}
		s := b.String()
		return s[:strings.LastIndex(s, "(")] // without the wall time
	}
	a := out("-replications", "6", "-hours", "4", "-agents", "2", "-preempt")
	for _, m := range []string{"agent utilisation: 0.", "hung up (share): 0.", "preempted calls (share): 0.", "wait, mean (min): ", "(n=6)"} {
		if !strings.Contains(a, m) {
			t.Errorf("output lacks %q:\n%s", m, a)
		}
	}
	if b := out("-replications", "6", "-hours", "4", "-agents", "2", "-preempt"); a != b {
		t.Errorf("two runs differ:\n%s\n%s", a, b)
	}
	var b strings.Builder
	if err := run(&b, []string{"-agents", "0"}); err == nil {
		t.Error("-agents 0 accepted")
	}
}
