package tockvet_test

import (
	"os"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/tockgo/tock/tockvet"
)

// The project's own code has no diagnostic: the library (its implementation
// is exempt; its tests are checked, with //tockvet:ignore on the deliberate
// cases), its examples, package sim and the demo. .ci/tockvet.sh checks the
// same through go vet over every module.
func TestOwnCode(t *testing.T) {
	cfg := &packages.Config{
		Mode:  packages.LoadAllSyntax,
		Tests: true,
		Dir:   analysistest.TestData(),
		Env:   append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=-mod=mod"),
	}
	pkgs, err := packages.Load(cfg, "github.com/tockgo/tock/...")
	if err != nil {
		t.Fatal(err)
	}
	if packages.PrintErrors(pkgs) > 0 {
		t.Fatal("packages did not load")
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.PkgPath] = true
	}
	for _, want := range []string{"github.com/tockgo/tock", "github.com/tockgo/tock_test", "github.com/tockgo/tock/sim", "github.com/tockgo/tock/cmd/tock-demo"} {
		if !seen[want] {
			t.Errorf("package %s not loaded (loaded: %v)", want, seen)
		}
	}
	g, err := checker.Analyze([]*analysis.Analyzer{tockvet.Analyzer}, pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range g.Roots {
		if act.Err != nil {
			t.Errorf("%s: %v", act.Package.ID, act.Err)
		}
		for _, d := range act.Diagnostics {
			t.Errorf("%s: %s", act.Package.Fset.Position(d.Pos), d.Message)
		}
	}
}
