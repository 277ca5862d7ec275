package tockvet_test

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/tockgo/tock/tockvet"
)

// Adversarial review of tockvet. Each TestVetHardening* failed before its
// fix: its testdata package states what should happen.

// Passing cases not covered elsewhere: dot/renamed imports of time and
// context, method expressions (starter and Mutex.Lock), an embedded
// *tock.Group, a generic method value as a task, a type-parameter Locker, a
// goroutine in a called helper, deferred waits, range-over-func, labeled
// loops, goto, type switches (also in a generic function), init/main that
// start goroutines, select {} and select with only a default, an outer ctx in
// a task with an unnamed parameter.
func TestVetAdversarial(t *testing.T) { run(t, "./src/adv") }

// Fixed, a false negative: `var pkgTask = func(ctx context.Context) error { time.Sleep(1) ... }`
// (package level, and `var local = func...` in a function), then
// g.Go(pkgTask): expected time.Sleep reported in both, before the fix nothing.
// Cause: index (tockvet.go:260-273) binds a literal to its variable only
// for *ast.AssignStmt, not *ast.ValueSpec, so findTasks' lookup of the
// ident (tockvet.go:447) finds nothing.
func TestVetHardeningPkgVar(t *testing.T) { run(t, "./src/advbugpkgvar") }

// Fixed, a false negative: g.Go(gen[int]) with a generic gen(ctx) that calls time.Sleep:
// expected time.Sleep (and the gen fact), before the fix nothing. Cause: findTasks'
// switch on the argument (tockvet.go:444-451) handles FuncLit, Ident and
// SelectorExpr, not *ast.IndexExpr/IndexListExpr.
func TestVetHardeningGeneric(t *testing.T) { run(t, "./src/advbuggeneric") }

// Fixed, a false negative: `func drain[C ~chan int](ctx, c C) { for range c {} ... }`: expected
// "range over a channel", before the fix nothing. Cause: checkBody's RangeStmt case
// (tockvet.go:730) tests t.Underlying().(*types.Chan); a type
// parameter's underlying type is its constraint (needs the core type).
func TestVetHardeningGenChan(t *testing.T) { run(t, "./src/advbuggenchan") }

// Fixed, a false negative: In a task, `h := func() { tock.Yield(ctx) }; go h()` and
// `ef := func() error { return tock.Yield(ctx) }; eg.Go(ef)`: expected
// gostmt for both, before the fix nothing. Cause: checkGo -> usesTaskCtx(g.Call)
// (tockvet.go:1231-1234, 1246ff) inspects only the go statement's own
// syntax, not a var-bound literal it calls (c.lookup); checkStarter
// (tockvet.go:1296-1300) returns unless the argument is a *ast.FuncLit.
func TestVetHardeningGoClosure(t *testing.T) { run(t, "./src/advbuggoclosure") }

// Fixed, a false positive: In a task, `w := func() { <-ch }; go w()` and
// `pause := func() { time.Sleep(1) }; wg.Go(pause)`: expected nothing (the
// bodies run on other goroutines), before the fix chanop and wallclock. Cause:
// checkBody (tockvet.go:692-695) walks every nested literal where it is
// written; only the go statement's call and a literal written as a
// starter's argument are skipped (tockvet.go:696-722).
func TestVetHardeningGoBodyVar(t *testing.T) { run(t, "./src/advbuggobodyvar") }

// Fixed, a false positive: In a task, `func() { mu.Lock(); defer mu.Unlock(); *n++ }()`:
// expected nothing, before the fix syncwait on mu.Lock. Cause: shortLocks
// (tockvet.go:875) accepts a deferred unlock only in f.body (`n == f.body`),
// not in the body of a nested func literal, which is a function body too.
func TestVetHardeningScopedLock(t *testing.T) { run(t, "./src/advbugscopedlock") }

// Fixed, a false positive: In a task, `mu.Lock(); g.Go(func(ctx) error { return tock.Sleep(ctx,
// 1) }); mu.Unlock()`, and the same storing such a literal in a map:
// expected nothing, before the fix syncwait on both Locks. Cause: parksIn
// (tockvet.go:944-960) descends into func literal bodies (it skips only go
// statements), so a literal that is only defined or passed in the section
// counts as a wait; Go itself is in nonParking (tockvet.go:896).
func TestVetHardeningLockClosure(t *testing.T) { run(t, "./src/advbuglockclosure") }

// Fixed, a crash: A file with `//line gen.y:1000` followed by a standalone
// `//tockvet:ignore reason`: expected no diagnostic, actual
// "panic: invalid line number 1002 (should be < 19)" in token.File.LineStart.
// Cause: standalone (tockvet.go:356-364) passes tf.Line(pos), which is the
// //line-adjusted line, to tf.LineStart, which wants the raw line. index
// runs on every file (generated ones too), so a goyacc-style file crashes the
// whole pass. Run in a child process: the panic is on a checker goroutine and
// would kill this test binary.
func TestVetHardeningLinePanic(t *testing.T) {
	if os.Getenv("TOCKVET_ADV_CHILD") == "1" {
		run(t, "./src/advbuglinepanic")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestVetHardeningLinePanic$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TOCKVET_ADV_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("analyzer failed on a //line file: %v\n%s", err, out)
	}
}

// Fixed, a false positive: Same with `//line gen.y:1`: expected the standalone ignore to cover
// `ch <- 1`, before the fix "channel send" reported. Cause: the same mix of
// adjusted and raw lines in standalone (tockvet.go:362): LineStart of the
// adjusted line is an earlier raw line, so the comment is not "standalone".
func TestVetHardeningLineSuppress(t *testing.T) { run(t, "./src/advbuglinesuppress") }

var _ = tockvet.Analyzer
var _ = analysistest.Run
