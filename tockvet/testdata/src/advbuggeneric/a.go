// A generic function of the package, instantiated and passed as a task.
package advbuggeneric

import (
	"context"
	"time"

	"github.com/tockgo/tock"
)

func gen[T any](ctx context.Context) error { // want gen:"tockCtxFunc"
	time.Sleep(1) // want `time.Sleep`
	return nil
}

func tasks(g *tock.Group) {
	g.Go(gen[int])
}
