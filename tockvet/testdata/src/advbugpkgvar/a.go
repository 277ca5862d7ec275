// A literal bound by a var declaration (package level or local) and passed
// as a task: the same as `w := func...; g.Go(w)`, which is checked.
package advbugpkgvar

import (
	"context"
	"time"

	"github.com/tockgo/tock"
)

var pkgTask = func(ctx context.Context) error {
	time.Sleep(1) // want `time.Sleep`
	return nil
}

func tasks(g *tock.Group) {
	g.Go(pkgTask)
	var local = func(ctx context.Context) error {
		time.Sleep(1) // want `time.Sleep`
		return nil
	}
	g.Go(local)
}
