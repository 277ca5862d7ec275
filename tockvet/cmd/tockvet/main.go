// Command tockvet runs the tockvet analyzer (package
// github.com/tockgo/tock/tockvet): it reports, in code that runs as a tock
// task, what tock's runtimes cannot see (time.Sleep, raw channel operations,
// sync waits, go statements and closures that carry a task's context,
// wall-clock context deadlines, task-less contexts).
//
// One binary serves both ways of running it:
//
//	tockvet ./...                              # a plain command over packages
//	go vet -vettool=$(which tockvet) ./...     # as go vet's analysis tool
//
// Invoked by go vet (with -V=full, -flags, or a single *.cfg argument), it
// speaks the vet tool protocol; otherwise it loads the named packages itself
// (test files included; -test=false leaves them out) and exits non-zero if it
// reports anything. -fix applies the suggested fixes.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/tockgo/tock/tockvet"
)

func main() { singlechecker.Main(tockvet.Analyzer) }
