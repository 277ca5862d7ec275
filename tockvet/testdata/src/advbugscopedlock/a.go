// The scoped-lock idiom: a func literal called at once, whose own body locks
// and defers the unlock. The section is visibly short: not reported.
package advbugscopedlock

import (
	"context"
	"sync"

	"github.com/tockgo/tock"
)

func tasks(g *tock.Group, mu *sync.Mutex, n *int) {
	g.Go(func(ctx context.Context) error {
		func() {
			mu.Lock()
			defer mu.Unlock()
			*n++
		}()
		return tock.Sleep(ctx, 1)
	})
}
