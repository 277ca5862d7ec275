//tockvet:ignore this file tests raw channels under the real runtime only

package ignore

import (
	"context"

	"github.com/tockgo/tock"
)

func fileWide(g *tock.Group, ch chan int) {
	g.Go(func(ctx context.Context) error {
		ch <- 1
		return nil
	})
}
