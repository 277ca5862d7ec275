// A //line directive (as generators emit) mapping to a line beyond the
// file's end, then a standalone //tockvet:ignore: the analyzer must not
// panic, and the ignore covers the next line.
package advbuglinepanic

import (
	"context"

	"github.com/tockgo/tock"
)

//line gen.y:1000
func lined(g *tock.Group, ch chan int) {
	g.Go(func(ctx context.Context) error {
		//tockvet:ignore the channel is buffered
		ch <- 1
		return nil
	})
}
