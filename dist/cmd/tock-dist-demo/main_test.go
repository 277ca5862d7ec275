package main

import "testing"

func TestDemoEmbedded(t *testing.T) {
	if err := run("", 3, 40, 2, false); err != nil {
		t.Fatal(err)
	}
}

func TestDemoInProcess(t *testing.T) {
	if err := run("", 3, 40, 2, true); err != nil {
		t.Fatal(err)
	}
}
