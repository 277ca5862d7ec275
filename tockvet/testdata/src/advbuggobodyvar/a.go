// A closure bound to a variable and run on a goroutine (go, WaitGroup.Go):
// its body is the goroutine's, not the task's, as for a literal written in
// the go statement (chanop's fine case). Nothing should be reported.
package advbuggobodyvar

import (
	"context"
	"sync"
	"time"

	"github.com/tockgo/tock"
)

func tasks(g *tock.Group, ch chan int) {
	g.Go(func(ctx context.Context) error {
		w := func() { <-ch }
		go w()
		var wg sync.WaitGroup
		pause := func() { time.Sleep(1) }
		wg.Go(pause)
		return tock.Yield(ctx)
	})
}
