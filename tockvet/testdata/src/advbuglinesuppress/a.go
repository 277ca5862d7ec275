// A //line directive mapping to a small line: a standalone //tockvet:ignore
// must still cover the next line.
package advbuglinesuppress

import (
	"context"

	"github.com/tockgo/tock"
)

//line gen.y:1
func lined(g *tock.Group, ch chan int) {
	g.Go(func(ctx context.Context) error {
		//tockvet:ignore the channel is buffered
		ch <- 1
		return nil
	})
}
