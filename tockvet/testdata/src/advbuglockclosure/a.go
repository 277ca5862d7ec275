// A critical section that only starts a task or stores a callback: the
// literals are not run in the section (Go is listed as never waiting), so it
// never waits in tock. Not reported.
package advbuglockclosure

import (
	"context"
	"sync"

	"github.com/tockgo/tock"
)

var handlers = map[string]func(context.Context) error{}

func tasks(g *tock.Group, mu *sync.Mutex) {
	g.Go(func(ctx context.Context) error {
		mu.Lock()
		g.Go(func(ctx context.Context) error { return tock.Sleep(ctx, 1) })
		mu.Unlock()
		mu.Lock()
		handlers["x"] = func(ctx context.Context) error { return tock.Sleep(ctx, 1) }
		mu.Unlock()
		return nil
	})
}
