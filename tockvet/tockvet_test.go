package tockvet_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/tockgo/tock/tockvet"
)

// The testdata directory is a module that requires the real tock (replaced
// by the repository root), so the tests check the analyzer against tock's
// real API. Each package holds the positive cases (// want) and the negative
// ones (no want) of one diagnostic; a .golden file beside a source file is
// that file with every suggested fix applied.

func TestWallClock(t *testing.T) { fixes(t, "./wallclock") }
func TestChanOp(t *testing.T)    { run(t, "./chanop") }
func TestSyncWait(t *testing.T)  { run(t, "./syncwait") }
func TestGoStmt(t *testing.T)    { run(t, "./gostmt") }
func TestOuterCtx(t *testing.T)  { fixes(t, "./outerctx") }
func TestWallCtx(t *testing.T)   { fixes(t, "./wallctx") }
func TestBgCtx(t *testing.T)     { fixes(t, "./bgctx") }
func TestTaskCode(t *testing.T)  { run(t, "./taskcode") }
func TestFacts(t *testing.T)     { run(t, "./facts/a", "./facts/b") }
func TestIgnore(t *testing.T)    { run(t, "./ignore") }

func run(t *testing.T, pkgs ...string) {
	analysistest.Run(t, analysistest.TestData(), tockvet.Analyzer, pkgs...)
}

func fixes(t *testing.T, pkgs ...string) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), tockvet.Analyzer, pkgs...)
}
