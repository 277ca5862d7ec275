// Package tockvet is a go/analysis analyzer that reports, in code that runs as
// a tock task, what the tock runtimes cannot see: wall-clock time, raw channel
// operations, sync waits, goroutines that carry a task's context, closures
// that use another task's context, wall-clock context deadlines and task-less
// contexts passed to tock. README.md lists each diagnostic with its fix.
//
// # Task code
//
// A function is task code when it is one of:
//
//   - a task function: a function literal, or a function or method of the
//     analysed package named as a value, passed to a function or method of
//     package github.com/tockgo/tock or github.com/tockgo/tock/sim in a
//     parameter whose type is a func whose first parameter is a
//     context.Context (Group.Go, Group.Start, tock.Run, sim.Run, ...). Its
//     first parameter is its task context.
//   - a context function: a function (declaration or literal) with a
//     context.Context parameter that it passes, directly or through a context
//     derived from it, to a tock call. A tock call is a call of a function or
//     method of package tock (not tock.Run, nor a function of package sim:
//     their context is the caller's, not a task's), or of another context
//     function: of this package, or of a package analysed before (an
//     exported fact). Its context.Context parameters are task contexts.
//   - a function of the analysed package that task code calls with a task
//     context for a context.Context parameter (a helper that selects on
//     ctx.Done(), say), though that context may never reach tock.
//
// A task context's derivations are task contexts too: a variable assigned
// from a call that returns a context and takes a task context
// (context.WithCancel(ctx), tock.WithTimeout(ctx, d), errgroup.WithContext,
// a helper).
//
// The body of task code is checked, including the function literals nested
// in it (deferred calls, callbacks), but not nested task code (checked on its
// own, with its own context) and not the functions that run on another
// goroutine: the body of a go statement, and the function given to
// sync.WaitGroup.Go, errgroup's Go and TryGo, or context.AfterFunc (those are
// checked as go statements: they must not carry the task's context).
//
// The implementation of tock itself (the non-test files of packages tock,
// tock/sim and tock/internal/..., which build the primitives from sync and
// channels, and of tock/dist/..., which builds them over the network) is not
// checked; its test files are.
//
// # Suppression
//
// A comment //tockvet:ignore followed by a reason suppresses every tockvet
// diagnostic on its own line (at the end of the line) or, standing on a line
// of its own, on the next line. In the doc comment of a function declaration
// it suppresses every diagnostic in that function; above the package clause,
// every diagnostic in the file. A //tockvet:ignore with no reason is itself
// reported.
package tockvet

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

const (
	tockPath = "github.com/tockgo/tock"
	simPath  = tockPath + "/sim"
)

// Analyzer reports blocking and clock operations in tock task code that the
// tock runtimes cannot see (see the package documentation).
var Analyzer = &analysis.Analyzer{
	Name:      "tockvet",
	Doc:       doc,
	URL:       "https://pkg.go.dev/github.com/tockgo/tock/tockvet",
	Run:       run,
	FactTypes: []analysis.Fact{new(ctxFunc)},
}

const doc = `report what tock's runtimes cannot see in task code

tockvet checks functions that run as tock tasks (literals passed to Group.Go,
Group.Start, tock.Run, sim.Run, ...) and functions that pass their
context.Context to tock, and reports wall-clock time (time.Sleep, Now, After,
...), blocking channel operations and select without default, sync.Mutex,
RWMutex, WaitGroup and Cond waits, go statements that use a task's context,
task closures that use an outer context instead of their own parameter,
context.WithTimeout/WithDeadline on a task context, and context.Background()
or TODO() passed to tock inside a task. Each diagnostic names the fix.

Suppress a deliberate case with a "//tockvet:ignore reason" comment at the end
of the line, on the line above, in the doc comment of the function, or above
the package clause (the whole file).`

// ctxFunc is the fact that a function is a context function: a context passed
// to it reaches a tock call.
type ctxFunc struct {
	Parks bool // a call of it may park the task (it may make a waiting tock call)
}

func (*ctxFunc) AFact() {}
func (f *ctxFunc) String() string {
	if f.Parks {
		return "tockCtxFunc parks"
	}
	return "tockCtxFunc"
}

// fn is one function of the package: a declaration or a literal.
type fn struct {
	node   ast.Node // *ast.FuncDecl or *ast.FuncLit
	typ    *ast.FuncType
	body   *ast.BlockStmt
	obj    *types.Func // declarations only
	file   *ast.File
	task   bool                // passed as a task to tock
	ctxFn  bool                // passes a task context to a tock call
	called bool                // task code passes a task context to it
	parks  bool                // it may make a tock call that waits
	params []*types.Var        // its context.Context parameters (named ones)
	first  *types.Var          // a task function's first parameter (nil if unnamed or _)
	ctxs   map[*types.Var]bool // params and the contexts derived from them
}

func (f *fn) isTaskCode() bool { return f.task || f.ctxFn || f.called }

// reaches reports whether a context passed to f reaches tock (it is a task
// function or a context function).
func (f *fn) reaches() bool { return (f.task || f.ctxFn) && len(f.params) > 0 }

type checker struct {
	pass    *analysis.Pass
	funcs   []*fn
	byNode  map[ast.Node]*fn
	byObj   map[types.Object]*fn // *types.Func of a declaration, or a *types.Var bound once to a literal
	taskCtx map[*types.Var]*fn   // every task context, with the task code it belongs to
	ignores map[*token.File]map[int]bool
	skip    map[*token.File]bool    // files with //tockvet:ignore above their package clause
	ranges  [][2]token.Pos          // functions whose doc comment says //tockvet:ignore
	litVar  map[ast.Node]*types.Var // a literal bound once to a variable (see bindLit)
	offTask map[*ast.Ident]bool     // a variable's use as `go v()` or a starter's function
	offOnly map[*types.Var]bool     // variables used only so (built at first need)
}

func run(pass *analysis.Pass) (any, error) {
	if !reachesTock(pass.Pkg, map[*types.Package]bool{}) {
		return nil, nil // no task code, and no fact to export (most of the standard library)
	}
	c := &checker{
		pass:    pass,
		byNode:  map[ast.Node]*fn{},
		byObj:   map[types.Object]*fn{},
		taskCtx: map[*types.Var]*fn{},
		ignores: map[*token.File]map[int]bool{},
		skip:    map[*token.File]bool{},
		litVar:  map[ast.Node]*types.Var{},
		offTask: map[*ast.Ident]bool{},
	}
	for _, f := range pass.Files {
		c.index(f)
	}
	c.findTasks()
	c.findCtxFuncs()
	c.findParks()
	for _, f := range c.funcs {
		if f.isTaskCode() {
			for v := range f.ctxs {
				c.taskCtx[v] = f
			}
		}
	}
	for _, f := range c.funcs {
		if f.obj != nil && f.reaches() {
			pass.ExportObjectFact(f.obj, &ctxFunc{Parks: f.parks})
		}
	}
	if implementation(pass.Pkg.Path()) && allNonTest(pass) {
		return nil, nil
	}
	for _, f := range c.funcs {
		if !f.isTaskCode() || c.skipFile(f.file) {
			continue
		}
		c.checkBody(f)
		if f.task {
			if lit, ok := f.node.(*ast.FuncLit); ok {
				c.checkOuterCtx(f, lit)
			}
		}
	}
	return nil, nil
}

// reachesTock reports whether p is tock or sim or imports one of them,
// directly or not.
func reachesTock(p *types.Package, seen map[*types.Package]bool) bool {
	if p.Path() == tockPath || p.Path() == simPath {
		return true
	}
	seen[p] = true
	for _, q := range p.Imports() {
		if !seen[q] && reachesTock(q, seen) {
			return true
		}
	}
	return false
}

// implementation reports whether path is a package of tock's implementation:
// tock, tock/sim, tock/internal/... (the runtimes and primitives, built from
// sync and channels) and tock/dist/... (the primitives over the network, on
// the wall clock by design).
func implementation(path string) bool {
	if path == tockPath || path == simPath {
		return true
	}
	for _, dir := range []string{"/internal", "/dist"} {
		if path == tockPath+dir || strings.HasPrefix(path, tockPath+dir+"/") {
			return true
		}
	}
	return false
}

func allNonTest(pass *analysis.Pass) bool {
	for _, f := range pass.Files {
		if strings.HasSuffix(pass.Fset.File(f.Pos()).Name(), "_test.go") {
			return false
		}
	}
	return true
}

func (c *checker) skipFile(f *ast.File) bool {
	if ast.IsGenerated(f) {
		return true
	}
	name := c.pass.Fset.File(f.Pos()).Name()
	return implementation(c.pass.Pkg.Path()) && !strings.HasSuffix(name, "_test.go")
}

// index records every function of f, the functions bound once to a variable,
// and the //tockvet:ignore comments.
func (c *checker) index(file *ast.File) {
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Body == nil {
				return false
			}
			f := &fn{node: n, typ: n.Type, body: n.Body, file: file}
			f.obj, _ = c.pass.TypesInfo.Defs[n.Name].(*types.Func)
			c.add(f)
			if f.obj != nil {
				c.byObj[f.obj] = f
			}
			if n.Doc != nil && hasIgnore(n.Doc) {
				c.ranges = append(c.ranges, [2]token.Pos{n.Pos(), n.End()})
			}
		case *ast.FuncLit:
			c.add(&fn{node: n, typ: n.Type, body: n.Body, file: file})
		case *ast.GoStmt:
			if id, ok := ast.Unparen(n.Call.Fun).(*ast.Ident); ok {
				c.offTask[id] = true
			}
		case *ast.CallExpr:
			if i := c.starter(n); i >= 0 {
				if id, ok := ast.Unparen(n.Args[i]).(*ast.Ident); ok {
					c.offTask[id] = true
				}
			}
		case *ast.AssignStmt:
			// v := func(...) {...}: calls of v are calls of the literal.
			if len(n.Lhs) == len(n.Rhs) {
				for i, r := range n.Rhs {
					if _, ok := ast.Unparen(r).(*ast.FuncLit); ok {
						if id, ok := n.Lhs[i].(*ast.Ident); ok {
							if v, ok := c.pass.TypesInfo.ObjectOf(id).(*types.Var); ok {
								c.bindLit(v, r)
							}
						}
					}
				}
			}
		case *ast.ValueSpec:
			// var v = func(...) {...}, at package level or in a function
			if len(n.Names) == len(n.Values) {
				for i, r := range n.Values {
					if _, ok := ast.Unparen(r).(*ast.FuncLit); ok {
						if v, ok := c.pass.TypesInfo.Defs[n.Names[i]].(*types.Var); ok {
							c.bindLit(v, r)
						}
					}
				}
			}
		}
		return true
	})
	tf := c.pass.Fset.File(file.Pos())
	for _, g := range file.Comments {
		for _, cm := range g.List {
			text, ok := ignoreText(cm.Text)
			if !ok {
				continue
			}
			if reason, _, _ := strings.Cut(text, "//"); strings.TrimSpace(reason) == "" {
				c.pass.Report(analysis.Diagnostic{Pos: cm.Pos(), End: cm.End(), Category: "ignore",
					Message: "tockvet: //tockvet:ignore needs a reason: //tockvet:ignore <why this is safe>"})
			}
			if cm.Pos() < file.Package {
				c.skip[tf] = true
			}
			line := rawLine(tf, cm.Pos())
			if c.ignores[tf] == nil {
				c.ignores[tf] = map[int]bool{}
			}
			c.ignores[tf][line] = true
			if c.standalone(tf, cm.Pos()) {
				c.ignores[tf][line+1] = true
			}
		}
	}
}

// bindLit records that v names the literal lit, unless v is bound twice.
func (c *checker) bindLit(v *types.Var, lit ast.Expr) {
	if old, dup := c.byObj[v]; dup {
		if old != nil {
			delete(c.litVar, old.node)
		}
		c.byObj[v] = nil
		return
	}
	// The literal's fn is added when Inspect reaches it; resolve lazily.
	c.byObj[v] = &fn{node: ast.Unparen(lit)}
	c.litVar[ast.Unparen(lit)] = v
}

// onlyOffTask reports whether every use of v runs it on another goroutine
// (`go v()`, a starter's function: see starter), so that the literal bound
// to v is not the task's code where it is written.
func (c *checker) onlyOffTask(v *types.Var) bool {
	if c.offOnly == nil {
		c.offOnly = map[*types.Var]bool{}
		total, off := map[*types.Var]int{}, map[*types.Var]int{}
		for id, obj := range c.pass.TypesInfo.Uses {
			if u, ok := obj.(*types.Var); ok {
				total[u]++
				if c.offTask[id] {
					off[u]++
				}
			}
		}
		for u, n := range total {
			c.offOnly[u] = n == off[u]
		}
	}
	return c.offOnly[v]
}

func (c *checker) lookup(obj types.Object) *fn {
	if f, ok := obj.(*types.Func); ok {
		obj = f.Origin()
	}
	f := c.byObj[obj]
	if f == nil {
		return nil
	}
	if _, ok := f.node.(*ast.FuncLit); ok && f.typ == nil {
		return c.byNode[f.node]
	}
	return f
}

func (c *checker) add(f *fn) {
	for _, field := range f.typ.Params.List {
		for _, name := range field.Names {
			if v, ok := c.pass.TypesInfo.Defs[name].(*types.Var); ok && isContext(v.Type()) && name.Name != "_" {
				f.params = append(f.params, v)
			}
		}
	}
	c.funcs = append(c.funcs, f)
	c.byNode[f.node] = f
}

func ignoreText(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, "//tockvet:ignore")
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	return rest, true
}

func hasIgnore(g *ast.CommentGroup) bool {
	for _, cm := range g.List {
		if _, ok := ignoreText(cm.Text); ok {
			return true
		}
	}
	return false
}

// rawLine is pos's line in tf itself, not the one a //line directive maps
// it to: suppressions are matched by the file's own lines (a generated
// file's directives may map them anywhere, or past its end).
func rawLine(tf *token.File, pos token.Pos) int { return tf.PositionFor(pos, false).Line }

// standalone reports whether the comment at pos is the first thing on its line.
func (c *checker) standalone(tf *token.File, pos token.Pos) bool {
	src, err := c.readFile(tf.Name())
	if err != nil {
		return false
	}
	off := tf.Offset(pos)
	start := tf.Offset(tf.LineStart(rawLine(tf, pos)))
	return off <= len(src) && len(bytes.TrimSpace(src[start:off])) == 0
}

func (c *checker) readFile(name string) ([]byte, error) {
	if c.pass.ReadFile != nil {
		return c.pass.ReadFile(name)
	}
	return os.ReadFile(name)
}

func (c *checker) report(d analysis.Diagnostic) {
	tf := c.pass.Fset.File(d.Pos)
	if c.skip[tf] || c.ignores[tf][rawLine(tf, d.Pos)] {
		return
	}
	for _, r := range c.ranges {
		if r[0] <= d.Pos && d.Pos < r[1] {
			return
		}
	}
	c.pass.Report(d)
}

// ---- which functions are task code ----

// isChan reports whether t is a channel type, or a type parameter whose
// every type is one (ranging over it ranges over a channel).
func isChan(t types.Type) bool {
	tp, ok := types.Unalias(t).(*types.TypeParam)
	if !ok {
		_, ok := t.Underlying().(*types.Chan)
		return ok
	}
	iface, ok := tp.Constraint().Underlying().(*types.Interface)
	if !ok {
		return false
	}
	found := false
	for i := 0; i < iface.NumEmbeddeds(); i++ {
		terms := []*types.Term{}
		switch e := iface.EmbeddedType(i).(type) {
		case *types.Union:
			for j := 0; j < e.Len(); j++ {
				terms = append(terms, e.Term(j))
			}
		default:
			terms = append(terms, types.NewTerm(false, e))
		}
		for _, term := range terms {
			if _, ok := term.Type().Underlying().(*types.Chan); !ok {
				return false
			}
			found = true
		}
	}
	return found
}

func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Name() == "Context" && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context"
}

func funcPkg(f *types.Func) string {
	if f == nil || f.Pkg() == nil {
		return ""
	}
	return f.Pkg().Path()
}

// calleeFunc returns the function or method a call calls, or nil.
func (c *checker) calleeFunc(call *ast.CallExpr) *types.Func {
	f, _ := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
	return f
}

// isTock reports whether f is a function or method of package tock or sim.
func isTock(f *types.Func) bool {
	p := funcPkg(f)
	return p == tockPath || p == simPath
}

// isEntry reports whether f takes a context that is not a task's: tock.Run
// and the functions of package sim start tasks from an outer context.
func isEntry(f *types.Func) bool {
	p := funcPkg(f)
	if p == simPath {
		return true
	}
	sig := f.Type().(*types.Signature)
	return p == tockPath && sig.Recv() == nil && f.Name() == "Run"
}

// findTasks marks the functions passed as tasks to tock.
func (c *checker) findTasks() {
	for _, file := range c.pass.Files {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			callee := c.calleeFunc(call)
			if !isTock(callee) {
				return true
			}
			sig, ok := c.pass.TypesInfo.TypeOf(call.Fun).Underlying().(*types.Signature)
			if !ok {
				return true
			}
			for i, arg := range call.Args {
				if !isTaskFuncType(paramType(sig, i)) {
					continue
				}
				var f *fn
				a := ast.Unparen(arg)
				switch x := a.(type) { // an instance of a generic function: the function
				case *ast.IndexExpr:
					a = x.X
				case *ast.IndexListExpr:
					a = x.X
				}
				switch a := a.(type) {
				case *ast.FuncLit:
					f = c.byNode[a]
				case *ast.Ident:
					f = c.lookup(c.pass.TypesInfo.Uses[a])
				case *ast.SelectorExpr:
					f = c.lookup(c.pass.TypesInfo.Uses[a.Sel])
				}
				if f == nil {
					continue
				}
				f.task = true
				if ps := f.typ.Params.List; len(ps) > 0 && len(ps[0].Names) > 0 {
					if v, ok := c.pass.TypesInfo.Defs[ps[0].Names[0]].(*types.Var); ok && v.Name() != "_" {
						f.first = v
					}
				}
			}
			return true
		})
	}
}

func paramType(sig *types.Signature, i int) types.Type {
	n := sig.Params().Len()
	if sig.Variadic() && i >= n-1 {
		return sig.Params().At(n - 1).Type().(*types.Slice).Elem()
	}
	if i >= n {
		return nil
	}
	return sig.Params().At(i).Type()
}

func isTaskFuncType(t types.Type) bool {
	if t == nil {
		return false
	}
	sig, ok := t.Underlying().(*types.Signature)
	return ok && sig.Params().Len() > 0 && isContext(sig.Params().At(0).Type())
}

// derive computes f.ctxs: its context parameters and the contexts derived
// from them in its body.
func (c *checker) derive(f *fn) {
	f.ctxs = map[*types.Var]bool{}
	for _, p := range f.params {
		f.ctxs[p] = true
	}
	if f.first != nil {
		f.ctxs[f.first] = true
	}
	if len(f.ctxs) == 0 {
		return
	}
	for changed := true; changed; {
		changed = false
		mark := func(lhs ast.Expr, rhs ast.Expr) {
			id, ok := lhs.(*ast.Ident)
			if !ok {
				return
			}
			v, ok := c.pass.TypesInfo.ObjectOf(id).(*types.Var)
			if !ok || f.ctxs[v] || !isContext(v.Type()) {
				return
			}
			if c.derivesFrom(f, rhs) {
				f.ctxs[v] = true
				changed = true
			}
		}
		ast.Inspect(f.body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if len(n.Lhs) == len(n.Rhs) {
					for i := range n.Lhs {
						mark(n.Lhs[i], n.Rhs[i])
					}
				} else if len(n.Rhs) == 1 {
					for _, l := range n.Lhs {
						mark(l, n.Rhs[0])
					}
				}
			case *ast.ValueSpec:
				if len(n.Names) == len(n.Values) {
					for i := range n.Names {
						mark(n.Names[i], n.Values[i])
					}
				} else if len(n.Values) == 1 {
					for _, l := range n.Names {
						mark(l, n.Values[0])
					}
				}
			}
			return true
		})
	}
}

// derivesFrom reports whether e is one of f's contexts, or a call that
// returns a context and takes one of them (context.WithCancel(ctx),
// tock.WithTimeout(ctx, d), errgroup.WithContext(ctx), a helper).
func (c *checker) derivesFrom(f *fn, e ast.Expr) bool {
	if c.isCtxOf(f, e) {
		return true
	}
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	returns := false
	switch t := c.pass.TypesInfo.TypeOf(call).(type) {
	case *types.Tuple:
		for i := range t.Len() {
			returns = returns || isContext(t.At(i).Type())
		}
	case nil:
	default:
		returns = isContext(t)
	}
	if !returns {
		return false
	}
	for _, a := range call.Args {
		if c.isCtxOf(f, a) {
			return true
		}
	}
	return false
}

func (c *checker) isCtxOf(f *fn, e ast.Expr) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return false
	}
	v, ok := c.pass.TypesInfo.Uses[id].(*types.Var)
	return ok && f.ctxs[v]
}

// isTockCall reports whether call is a tock call: it passes a task context
// on to tock.
func (c *checker) isTockCall(call *ast.CallExpr) bool {
	if f := c.calleeFunc(call); f != nil {
		if isTock(f) {
			return !isEntry(f)
		}
		if g := c.lookup(f); g != nil {
			return g.reaches()
		}
		return c.pass.ImportObjectFact(f.Origin(), new(ctxFunc))
	}
	// A call of a variable bound to a literal.
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		if g := c.lookup(c.pass.TypesInfo.Uses[id]); g != nil {
			return g.reaches()
		}
	}
	return false
}

// findCtxFuncs marks the context functions, to a fixed point (a context
// function may pass its context to another).
func (c *checker) findCtxFuncs() {
	for _, f := range c.funcs {
		c.derive(f)
	}
	for changed := true; changed; {
		changed = false
		for _, f := range c.funcs {
			if f.ctxFn || len(f.params) == 0 {
				continue
			}
			found := false
			ast.Inspect(f.body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || found {
					return !found
				}
				if c.isTockCall(call) {
					for _, a := range call.Args {
						if c.derivesFrom(f, a) {
							found = true
						}
					}
				}
				return !found
			})
			if found {
				f.ctxFn = true
				changed = true
			}
		}
	}
	// A function of this package that task code passes a task context to is
	// task code too (a helper with a select on ctx.Done(), say), though its
	// context may never reach tock.
	for changed := true; changed; {
		changed = false
		for _, f := range c.funcs {
			if !f.isTaskCode() {
				continue
			}
			ast.Inspect(f.body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				g := c.localCallee(call)
				if g == nil || g.isTaskCode() || len(g.params) == 0 {
					return true
				}
				sig, ok := c.pass.TypesInfo.TypeOf(call.Fun).Underlying().(*types.Signature)
				if !ok {
					return true
				}
				for i, a := range call.Args {
					if t := paramType(sig, i); t != nil && isContext(t) && c.derivesFrom(f, a) {
						g.called = true
						changed = true
						break
					}
				}
				return true
			})
		}
	}
}

// localCallee returns the function of this package that call calls, or nil.
func (c *checker) localCallee(call *ast.CallExpr) *fn {
	if f := c.calleeFunc(call); f != nil {
		return c.lookup(f)
	}
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		return c.lookup(c.pass.TypesInfo.Uses[id])
	}
	return nil
}

// ---- the checks ----

// checkBody walks the body of task code f.
func (c *checker) checkBody(f *fn) {
	short := c.shortLocks(f)
	var walk func(n ast.Node) bool
	walk = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			if g := c.byNode[n]; g != nil && g.isTaskCode() && g != f {
				return false // checked on its own
			}
			if v := c.litVar[n]; v != nil && c.onlyOffTask(v) {
				return false // it runs on another goroutine: `w := func...; go w()`
			}
		case *ast.GoStmt:
			// The call runs on the new goroutine, not in the task; only its
			// arguments are evaluated by the task.
			c.checkGo(f, n)
			for _, a := range n.Call.Args {
				ast.Inspect(a, walk)
			}
			return false
		case *ast.CallExpr:
			if short[n] {
				break
			}
			c.checkCall(f, n)
			if i := c.starter(n); i >= 0 {
				// The function runs on another goroutine: its body is not
				// the task's.
				c.checkStarter(n, n.Args[i])
				ast.Inspect(n.Fun, walk)
				for j, a := range n.Args {
					if _, lit := ast.Unparen(a).(*ast.FuncLit); j != i || !lit {
						ast.Inspect(a, walk)
					}
				}
				return false
			}
		case *ast.SendStmt:
			c.report(analysis.Diagnostic{Pos: n.Arrow, End: n.End(), Category: "chanop",
				Message: "tockvet: channel send in tock task code blocks outside tock (a simulation stalls on it and cannot cancel it): use a tock.Queue (Put), a stream (Send) or a Channel (Put), which take ctx"})
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				c.reportRecv(n)
			}
		case *ast.RangeStmt:
			if t := c.pass.TypesInfo.TypeOf(n.X); t != nil {
				if isChan(t) {
					c.report(analysis.Diagnostic{Pos: n.For, End: n.X.End(), Category: "chanop",
						Message: "tockvet: range over a channel in tock task code blocks outside tock (a simulation stalls on it): range over a tock.Queue's, stream's or Channel's All(ctx)"})
				}
			}
		case *ast.SelectStmt:
			hasDefault := false
			for _, cl := range n.Body.List {
				if cl.(*ast.CommClause).Comm == nil {
					hasDefault = true
				}
			}
			if !hasDefault {
				c.report(analysis.Diagnostic{Pos: n.Select, End: n.Body.Lbrace, Category: "chanop",
					Message: "tockvet: select without default in tock task code blocks outside tock (a simulation stalls on it): wait through tock (a Queue, stream or Event; tock.WithTimeout for a deadline; tock.Sleep to wait for ctx), or add a default case"})
			}
			for _, cl := range n.Body.List {
				cc := cl.(*ast.CommClause)
				c.walkComm(cc.Comm, walk)
				for _, s := range cc.Body {
					ast.Inspect(s, walk)
				}
			}
			return false
		}
		return true
	}
	ast.Inspect(f.body, walk)
}

func (c *checker) reportRecv(n *ast.UnaryExpr) {
	msg := "tockvet: channel receive in tock task code blocks outside tock (a simulation stalls on it and cannot cancel it): use a tock.Queue (Get), a stream or Subscription (Receive) or an Event (Wait), which take ctx"
	if call, ok := ast.Unparen(n.X).(*ast.CallExpr); ok {
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Done" && len(call.Args) == 0 {
			if t := c.pass.TypesInfo.TypeOf(sel.X); t != nil && isContext(t) {
				msg = "tockvet: <-ctx.Done() in tock task code blocks outside tock (a simulation stalls on it): wait through tock, which returns ctx's error once ctx is done (e.g. tock.Sleep(ctx, d), or Wait on a tock.Event)"
			}
		}
	}
	c.report(analysis.Diagnostic{Pos: n.OpPos, End: n.End(), Category: "chanop", Message: msg})
}

// walkComm walks the parts of a select case other than its channel operation.
func (c *checker) walkComm(s ast.Stmt, walk func(ast.Node) bool) {
	inspectRecv := func(e ast.Expr) {
		if u, ok := ast.Unparen(e).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
			ast.Inspect(u.X, walk)
			return
		}
		ast.Inspect(e, walk)
	}
	switch s := s.(type) {
	case *ast.SendStmt:
		ast.Inspect(s.Chan, walk)
		ast.Inspect(s.Value, walk)
	case *ast.ExprStmt:
		inspectRecv(s.X)
	case *ast.AssignStmt:
		for _, l := range s.Lhs {
			ast.Inspect(l, walk)
		}
		for _, r := range s.Rhs {
			inspectRecv(r)
		}
	}
}

// lockCall returns the receiver of a sync Lock or RLock call, and the name of
// the matching unlock.
func (c *checker) lockCall(s ast.Stmt) (*ast.CallExpr, string, string) {
	es, ok := s.(*ast.ExprStmt)
	if !ok {
		return nil, "", ""
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return nil, "", ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	f := c.calleeFunc(call)
	if !ok || funcPkg(f) != "sync" {
		return nil, "", ""
	}
	switch f.Name() {
	case "Lock":
		return call, c.src(sel.X), "Unlock"
	case "RLock":
		return call, c.src(sel.X), "RUnlock"
	}
	return nil, "", ""
}

// isUnlock reports whether s calls x.name() (after defer, if deferred).
func (c *checker) isUnlock(s ast.Stmt, x, name string, deferred bool) bool {
	var call *ast.CallExpr
	switch s := s.(type) {
	case *ast.ExprStmt:
		if !deferred {
			call, _ = ast.Unparen(s.X).(*ast.CallExpr)
		}
	case *ast.DeferStmt:
		if deferred {
			call = s.Call
		}
	}
	if call == nil {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == name && funcPkg(c.calleeFunc(call)) == "sync" && c.src(sel.X) == x
}

// shortLocks returns the sync Lock and RLock calls of f's body whose critical
// section is visibly short: the mutex is unlocked later in the same statement
// list (or by a defer in the function body, which ends the function's
// section) and no call in between may park the task (see parksCall). Only one task runs at a
// time in a simulation, so such a mutex is never held across a tock wait and
// its Lock cannot stall the simulation.
func (c *checker) shortLocks(f *fn) map[*ast.CallExpr]bool {
	short := map[*ast.CallExpr]bool{}
	scan := func(list []ast.Stmt, isBody bool) {
		for i, s := range list {
			call, x, unlock := c.lockCall(s)
			if call == nil {
				continue
			}
			for j := i + 1; j < len(list); j++ {
				end := -1
				if c.isUnlock(list[j], x, unlock, false) {
					end = j
				} else if isBody && c.isUnlock(list[j], x, unlock, true) {
					end = len(list)
				}
				if end >= 0 {
					if !c.mayPark(list[i+1 : end]) {
						short[call] = true
					}
					break
				}
			}
		}
	}
	// a function's body, the task's or a literal's: a deferred unlock
	// there ends the critical section at the body's end
	bodies := map[*ast.BlockStmt]bool{f.body: true}
	ast.Inspect(f.body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			bodies[n.Body] = true
		case *ast.BlockStmt:
			scan(n.List, bodies[n])
		case *ast.CaseClause:
			scan(n.Body, false)
		case *ast.CommClause:
			scan(n.Body, false)
		}
		return true
	})
	return short
}

// nonParking lists the functions and methods of package tock that never wait.
var nonParking = map[string]bool{
	// functions
	"Now": true, "TaskID": true, "TaskName": true, "Simulated": true, "WithTimeout": true,
	"WithDeadline": true, "WithCancel": true, "NewGroup": true,
	// methods
	"TryLock": true, "TryAcquire": true, "TryAcquireFor": true, "Unlock": true, "Release": true,
	"ReleaseFor": true, "Available": true, "Locked": true, "Notify": true, "NotifyAll": true,
	"Set": true, "IsSet": true, "Close": true, "Closed": true, "Stats": true, "Len": true,
	"Value": true, "SetTotal": true, "Total": true, "Borrowed": true, "TrySend": true,
	"TryReceive": true, "Subscribe": true, "Clone": true, "Cancel": true, "Go": true,
}

// parksCall reports whether call may park the calling task: a tock call
// that can wait, a call of a function that may make one (of this package, or
// known by its fact), or a call through an interface or a func value that
// takes a context (it could be anything).
func (c *checker) parksCall(call *ast.CallExpr) bool {
	callee := c.calleeFunc(call)
	if isTock(callee) {
		return !nonParking[callee.Name()]
	}
	if g := c.localCallee(call); g != nil {
		return g.parks
	}
	if callee != nil {
		if sig := callee.Type().(*types.Signature); sig.Recv() == nil || !types.IsInterface(sig.Recv().Type()) {
			var fact ctxFunc
			return c.pass.ImportObjectFact(callee.Origin(), &fact) && fact.Parks
		}
	}
	if _, ok := c.pass.TypesInfo.Types[call.Fun]; !ok || c.pass.TypesInfo.Types[call.Fun].IsType() {
		return false // a conversion
	}
	for _, a := range call.Args {
		if t := c.pass.TypesInfo.TypeOf(a); t != nil && isContext(t) {
			return true
		}
	}
	return false
}

// findParks marks the functions that may make a tock call that waits, to a
// fixed point. A go statement's body does not count: it runs on its own.
func (c *checker) findParks() {
	for changed := true; changed; {
		changed = false
		for _, f := range c.funcs {
			if !f.parks && c.parksIn(f.body) {
				f.parks = true
				changed = true
			}
		}
	}
}

// parksIn reports whether n makes a call that may park (see parksCall),
// outside the bodies of go statements. A function literal parks where it is
// called: one called at once, or passed to a call that may call it (not to
// a tock Group's Go or a starter, which run it on another task or
// goroutine); one only defined or stored does not park here.
func (c *checker) parksIn(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if found {
			return false
		}
		switch m := m.(type) {
		case *ast.GoStmt:
			for _, a := range m.Call.Args {
				found = found || c.parksIn(a)
			}
			return false
		case *ast.FuncLit:
			return false // not called here (calls are handled below)
		case *ast.CallExpr:
			if found = c.parksCall(m); found {
				return false
			}
			if lit, ok := ast.Unparen(m.Fun).(*ast.FuncLit); ok {
				found = c.parksIn(lit.Body)
			} else {
				found = c.parksIn(m.Fun)
			}
			elsewhere := c.runsElsewhere(m)
			for _, a := range m.Args {
				if lit, ok := ast.Unparen(a).(*ast.FuncLit); ok {
					if !elsewhere {
						found = found || c.parksIn(lit.Body)
					}
					continue
				}
				found = found || c.parksIn(a)
			}
			return false
		}
		return !found
	})
	return found
}

// runsElsewhere reports whether call runs a function it is given on another
// task or goroutine: a tock Group's Go, or a starter (see starter).
func (c *checker) runsElsewhere(call *ast.CallExpr) bool {
	if f := c.calleeFunc(call); isTock(f) && f.Name() == "Go" {
		return true
	}
	return c.starter(call) >= 0
}

// mayPark reports whether a call in stmts may park the task.
func (c *checker) mayPark(stmts []ast.Stmt) bool {
	for _, s := range stmts {
		if c.parksIn(s) {
			return true
		}
	}
	return false
}

// ctxAt returns the name of f's task context if it is in scope at pos.
func (c *checker) ctxAt(f *fn, pos token.Pos) string {
	v := f.first
	if v == nil && len(f.params) > 0 {
		v = f.params[0]
	}
	if v == nil {
		return ""
	}
	if c.resolves(v, pos) {
		return v.Name()
	}
	return ""
}

// resolves reports whether v's name denotes v at pos.
func (c *checker) resolves(v *types.Var, pos token.Pos) bool {
	s := c.pass.Pkg.Scope().Innermost(pos)
	if s == nil {
		return false
	}
	_, obj := s.LookupParent(v.Name(), pos)
	return obj == v
}

// tockName returns how file refers to package tock at pos, and the edit that
// imports it if it does not.
func (c *checker) tockName(file *ast.File, pos token.Pos) (string, []analysis.TextEdit, bool) {
	for _, imp := range file.Imports {
		if imp.Path.Value == `"`+tockPath+`"` {
			switch {
			case imp.Name == nil:
			case imp.Name.Name == ".":
				return "", nil, true
			case imp.Name.Name == "_":
				continue
			default:
				return imp.Name.Name + ".", nil, true
			}
			if obj := c.pass.TypesInfo.Implicits[imp]; obj != nil {
				return obj.Name() + ".", nil, true
			}
			return "tock.", nil, true
		}
	}
	// Not imported: add the import, unless "tock" means something else here.
	if s := c.pass.Pkg.Scope().Innermost(pos); s != nil {
		if _, obj := s.LookupParent("tock", pos); obj != nil {
			return "", nil, false
		}
	}
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		if g.Lparen.IsValid() {
			return "tock.", []analysis.TextEdit{{Pos: g.Rparen, End: g.Rparen, NewText: []byte("\t\"" + tockPath + "\"\n")}}, true
		}
		return "tock.", []analysis.TextEdit{{Pos: g.End(), End: g.End(), NewText: []byte("\nimport \"" + tockPath + "\"")}}, true
	}
	return "tock.", []analysis.TextEdit{{Pos: file.Name.End(), End: file.Name.End(), NewText: []byte("\n\nimport \"" + tockPath + "\"")}}, true
}

func (c *checker) src(n ast.Node) string {
	tf := c.pass.Fset.File(n.Pos())
	b, err := c.readFile(tf.Name())
	if err != nil {
		return ""
	}
	return string(b[tf.Offset(n.Pos()):tf.Offset(n.End())])
}

// operand returns e's source, in parentheses unless it is a primary expression.
func (c *checker) operand(e ast.Expr) string {
	switch e.(type) {
	case *ast.Ident, *ast.SelectorExpr, *ast.CallExpr, *ast.IndexExpr, *ast.ParenExpr:
		return c.src(e)
	}
	return "(" + c.src(e) + ")"
}

var timeFuncs = map[string]string{
	"Sleep":     "sleeps on the wall clock, which a simulation does not see (it stalls): use tock.Sleep(ctx, d)",
	"Now":       "reads the wall clock, not the simulation's: use tock.Now(ctx)",
	"Since":     "reads the wall clock, not the simulation's: use tock.Now(ctx).Sub(t)",
	"Until":     "reads the wall clock, not the simulation's: use t.Sub(tock.Now(ctx))",
	"After":     "waits on the wall clock, which a simulation does not see: use tock.Sleep(ctx, d), or tock.WithTimeout(ctx, d) for a deadline on a wait",
	"Tick":      "ticks on the wall clock, which a simulation does not see: use a loop that calls tock.Sleep(ctx, d)",
	"NewTicker": "ticks on the wall clock, which a simulation does not see: use a loop that calls tock.Sleep(ctx, d)",
	"NewTimer":  "waits on the wall clock, which a simulation does not see: use tock.WithTimeout(ctx, d) for a deadline, or a task (Group.Go) that calls tock.Sleep(ctx, d)",
	"AfterFunc": "runs f on the wall clock, on its own goroutine: use a task (Group.Go) that calls tock.Sleep(ctx, d), then f",
}

const heldAcross = "the mutex may be held across a tock wait, and then another task's Lock blocks the whole simulation: use a tock.Lock (Lock(ctx) is seen by the simulation and can be cancelled), or unlock in the same block before any call that may wait in tock"

var syncWaits = map[string]string{
	"sync.Mutex.Lock":     heldAcross,
	"sync.RWMutex.Lock":   heldAcross,
	"sync.RWMutex.RLock":  heldAcross,
	"sync.Locker.Lock":    heldAcross,
	"sync.WaitGroup.Wait": "it blocks outside tock (a simulation stalls on it, and it cannot be cancelled): start the work as tasks of a tock.Group and call Group.Wait",
	"errgroup.Group.Wait": "it blocks outside tock (a simulation stalls on it, and it cannot be cancelled): start the work as tasks of a tock.Group and call Group.Wait",
	"sync.Cond.Wait":      "it blocks outside tock (a simulation stalls on it, and it cannot be cancelled): use a tock.Condition (Wait(ctx))",
}

func (c *checker) checkCall(f *fn, call *ast.CallExpr) {
	callee := c.calleeFunc(call)
	switch funcPkg(callee) {
	case "time":
		sig := callee.Type().(*types.Signature)
		why, ok := timeFuncs[callee.Name()]
		if !ok || sig.Recv() != nil {
			return
		}
		d := analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Category: "wallclock",
			Message: fmt.Sprintf("tockvet: time.%s in tock task code %s", callee.Name(), why)}
		if ctx := c.ctxAt(f, call.Pos()); ctx != "" {
			if tk, imp, ok := c.tockName(f.file, call.Pos()); ok {
				var text, msg string
				switch callee.Name() {
				case "Sleep":
					if len(call.Args) == 1 {
						text = fmt.Sprintf("%sSleep(%s, %s)", tk, ctx, c.src(call.Args[0]))
						msg = "Replace time.Sleep with tock.Sleep"
					}
				case "Now":
					text = fmt.Sprintf("%sNow(%s)", tk, ctx)
					msg = "Replace time.Now with tock.Now"
				case "Since":
					if len(call.Args) == 1 {
						text = fmt.Sprintf("%sNow(%s).Sub(%s)", tk, ctx, c.src(call.Args[0]))
						msg = "Replace time.Since with tock.Now(ctx).Sub"
					}
				case "Until":
					if len(call.Args) == 1 {
						text = fmt.Sprintf("%s.Sub(%sNow(%s))", c.operand(call.Args[0]), tk, ctx)
						msg = "Replace time.Until with t.Sub(tock.Now(ctx))"
					}
				}
				if text != "" {
					d.SuggestedFixes = []analysis.SuggestedFix{{Message: msg,
						TextEdits: append([]analysis.TextEdit{{Pos: call.Pos(), End: call.End(), NewText: []byte(text)}}, imp...)}}
				}
			}
		}
		c.report(d)
	case "sync", "golang.org/x/sync/errgroup":
		sig := callee.Type().(*types.Signature)
		if sig.Recv() == nil {
			return
		}
		rt := sig.Recv().Type()
		if p, ok := rt.(*types.Pointer); ok {
			rt = p.Elem()
		}
		n, ok := types.Unalias(rt).(*types.Named)
		if !ok {
			return
		}
		key := callee.Pkg().Name() + "." + n.Obj().Name() + "." + callee.Name()
		fix, ok := syncWaits[key]
		if !ok {
			return
		}
		c.report(analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Category: "syncwait",
			Message: fmt.Sprintf("tockvet: %s in tock task code: %s", key, fix)})
	case "context":
		switch name := callee.Name(); name {
		case "WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause":
			if len(call.Args) == 0 {
				return
			}
			v := c.ctxVar(call.Args[0])
			if v == nil {
				return
			}
			tname := strings.TrimSuffix(name, "Cause")
			d := analysis.Diagnostic{Pos: call.Pos(), End: call.End(), Category: "wallctx",
				Message: fmt.Sprintf("tockvet: context.%s on a task context sets a wall-clock deadline (a simulated wait reports sim.ErrWallClockDeadline): use tock.%s, which follows the ctx's clock", name, tname)}
			if name == tname {
				if tk, imp, ok := c.tockName(f.file, call.Pos()); ok {
					d.SuggestedFixes = []analysis.SuggestedFix{{Message: "Replace context." + name + " with tock." + name,
						TextEdits: append([]analysis.TextEdit{{Pos: call.Fun.Pos(), End: call.Fun.End(), NewText: []byte(tk + name)}}, imp...)}}
				}
			}
			c.report(d)
		}
	}
	if c.isTockCall(call) && !isQuery(callee) {
		for _, a := range call.Args {
			ac, ok := ast.Unparen(a).(*ast.CallExpr)
			if !ok {
				continue
			}
			bg := c.calleeFunc(ac)
			if funcPkg(bg) != "context" || (bg.Name() != "Background" && bg.Name() != "TODO") {
				continue
			}
			d := analysis.Diagnostic{Pos: a.Pos(), End: a.End(), Category: "bgctx",
				Message: fmt.Sprintf("tockvet: context.%s() passed to tock inside a task carries no task (a simulation cannot schedule the call; a Lock cannot tell its owner): pass the task's ctx", bg.Name())}
			if ctx := c.ctxAt(f, a.Pos()); ctx != "" {
				d.SuggestedFixes = []analysis.SuggestedFix{{Message: "Pass the task's " + ctx,
					TextEdits: []analysis.TextEdit{{Pos: a.Pos(), End: a.End(), NewText: []byte(ctx)}}}}
			}
			c.report(d)
		}
	}
}

// isQuery reports whether f only asks what a context is (tock.TaskID,
// TaskName, Simulated): a task-less context is a fair question to it.
func isQuery(f *types.Func) bool {
	if funcPkg(f) != tockPath || f.Type().(*types.Signature).Recv() != nil {
		return false
	}
	switch f.Name() {
	case "TaskID", "TaskName", "Simulated":
		return true
	}
	return false
}

// ctxVar returns the task context e names, or nil.
func (c *checker) ctxVar(e ast.Expr) *types.Var {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	v, ok := c.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok || c.taskCtx[v] == nil {
		return nil
	}
	return v
}

// receivers returns the identifiers in n used as the receiver of a method
// call (ctx.Err(), ctx.Value(k)): calling a context's own methods does not
// pass it on, so it does not act as its task.
func (c *checker) receivers(n ast.Node) map[*ast.Ident]bool {
	r := map[*ast.Ident]bool{}
	ast.Inspect(n, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
				if id, ok := ast.Unparen(sel.X).(*ast.Ident); ok {
					if s := c.pass.TypesInfo.Selections[sel]; s != nil && s.Kind() == types.MethodVal {
						r[id] = true
					}
				}
			}
		}
		return true
	})
	return r
}

// checkGo reports a go statement that uses a task context declared outside it.
func (c *checker) checkGo(f *fn, g *ast.GoStmt) {
	used := c.usesTaskCtx(g.Call)
	if lit := c.boundLit(g.Call.Fun); used == nil && lit != nil {
		used = c.usesTaskCtx(lit) // h := func() {...}; go h()
	}
	if used == nil {
		return
	}
	c.report(analysis.Diagnostic{Pos: g.Go, End: g.Call.Lparen, Category: "gostmt",
		Message: fmt.Sprintf("tockvet: go statement uses the task context %s: the goroutine is not a task, yet tock takes it for the task (a false deadlock or a race in a simulation, a shared Lock on the real runtime): %s", used.Name, useGroup(used.Name))})
}

func useGroup(ctx string) string {
	return fmt.Sprintf("start it with Group.Go (g := tock.NewGroup(%s); g.Go(func(ctx context.Context) error {...}); g.Wait())", ctx)
}

// usesTaskCtx returns an identifier in n that passes on a task context
// declared outside n, or nil.
func (c *checker) usesTaskCtx(n ast.Node) *ast.Ident {
	var used *ast.Ident
	recv := c.receivers(n)
	ast.Inspect(n, func(m ast.Node) bool {
		id, ok := m.(*ast.Ident)
		if !ok || used != nil || recv[id] {
			return used == nil
		}
		if v, ok := c.pass.TypesInfo.Uses[id].(*types.Var); ok && c.taskCtx[v] != nil && !(n.Pos() <= v.Pos() && v.Pos() < n.End()) {
			used = id
		}
		return true
	})
	return used
}

// boundLit returns the literal a variable e names was bound to once (v :=
// func...), or nil.
func (c *checker) boundLit(e ast.Expr) *ast.FuncLit {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	v, ok := c.pass.TypesInfo.Uses[id].(*types.Var)
	if !ok {
		return nil
	}
	if f := c.byObj[v]; f != nil {
		lit, _ := f.node.(*ast.FuncLit)
		return lit
	}
	return nil
}

// starter returns the index of the argument of call that is a function run
// on another goroutine (sync.WaitGroup.Go, errgroup.Group.Go and TryGo,
// context.AfterFunc), or -1.
func (c *checker) starter(call *ast.CallExpr) int {
	f := c.calleeFunc(call)
	if f == nil {
		return -1
	}
	sig := f.Type().(*types.Signature)
	recv := ""
	if sig.Recv() != nil {
		t := sig.Recv().Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := types.Unalias(t).(*types.Named); ok {
			recv = n.Obj().Name()
		}
	}
	switch key := funcPkg(f) + "." + recv + "." + f.Name(); key {
	case "sync.WaitGroup.Go", "golang.org/x/sync/errgroup.Group.Go", "golang.org/x/sync/errgroup.Group.TryGo":
		if len(call.Args) == 1 {
			return 0
		}
	case "context..AfterFunc":
		if len(call.Args) == 2 {
			return 1
		}
	}
	return -1
}

// checkStarter reports a function started on another goroutine that uses a
// task context (see checkGo).
func (c *checker) checkStarter(call *ast.CallExpr, arg ast.Expr) {
	lit, ok := ast.Unparen(arg).(*ast.FuncLit)
	pos, end := arg.Pos(), arg.End()
	if ok {
		end = lit.Type.End()
	} else if lit = c.boundLit(arg); lit == nil {
		return
	}
	used := c.usesTaskCtx(lit)
	if used == nil {
		return
	}
	name := c.src(call.Fun)
	c.report(analysis.Diagnostic{Pos: pos, End: end, Category: "gostmt",
		Message: fmt.Sprintf("tockvet: the function passed to %s runs on another goroutine and uses the task context %s: the goroutine is not a task, yet tock takes it for the task (a false deadlock or a race in a simulation, a shared Lock on the real runtime): %s", name, used.Name, useGroup(used.Name))})
}

// checkOuterCtx reports a task literal's uses of a context declared outside
// it: the task must use its own parameter, which carries its identity.
func (c *checker) checkOuterCtx(f *fn, lit *ast.FuncLit) {
	written := c.receivers(lit.Body) // and leaked = ctx assigns an outer variable; it does not use it
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok {
			for _, l := range as.Lhs {
				if id, ok := ast.Unparen(l).(*ast.Ident); ok {
					written[id] = true
				}
			}
		}
		return true
	})
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if l, ok := n.(*ast.FuncLit); ok {
			if g := c.byNode[l]; g != nil && g.task {
				return false // checked on its own
			}
		}
		id, ok := n.(*ast.Ident)
		if !ok || written[id] {
			return true
		}
		v, ok := c.pass.TypesInfo.Uses[id].(*types.Var)
		if !ok || v.IsField() || !isContext(v.Type()) || (lit.Pos() <= v.Pos() && v.Pos() < lit.End()) {
			return true
		}
		own := "its own ctx parameter"
		d := analysis.Diagnostic{Pos: id.Pos(), End: id.End(), Category: "outerctx"}
		if f.first != nil {
			own = "its own parameter " + f.first.Name()
			if c.resolves(f.first, id.Pos()) {
				d.SuggestedFixes = []analysis.SuggestedFix{{Message: "Use the task's own " + f.first.Name(),
					TextEdits: []analysis.TextEdit{{Pos: id.Pos(), End: id.End(), NewText: []byte(f.first.Name())}}}}
			}
		}
		d.Message = fmt.Sprintf("tockvet: task function uses %s, a context from outside it: it acts as another task (Lock ownership, simulation scheduling, cancellation); use %s", id.Name, own)
		c.report(d)
		return true
	})
}
