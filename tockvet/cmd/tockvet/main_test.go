package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The one binary works both as go vet's tool (the unitchecker protocol) and
// as a plain command, on the testdata module of package tockvet.
func TestBothWaysOfRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs go vet")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(t.TempDir(), "tockvet")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=mod")
	runIn := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	const want = "wallclock.go:12:3: tockvet: time.Sleep in tock task code"
	for _, c := range []struct {
		name string
		cmd  string
		args []string
	}{
		{"go vet -vettool", gobin, []string{"vet", "-vettool=" + bin, "./wallclock"}},
		{"plain command", bin, []string{"./wallclock"}},
	} {
		out, err := runIn(c.cmd, c.args...)
		if err == nil {
			t.Errorf("%s: exit status 0 on a package with diagnostics\n%s", c.name, out)
		}
		if !strings.Contains(out, want) {
			t.Errorf("%s: output lacks %q:\n%s", c.name, want, out)
		}
		// A package with nothing to report: exit 0 and no diagnostic.
		args := append(c.args[:len(c.args)-1:len(c.args)-1], "./facts/a")
		if out, err := runIn(c.cmd, args...); err != nil || strings.Contains(out, "tockvet:") {
			t.Errorf("%s ./facts/a: %v\n%s", c.name, err, out)
		}
	}
}
