package ignore

import (
	"context"
	"time"

	"github.com/tockgo/tock"
)

func task(g *tock.Group, ch chan int) {
	g.Go(func(ctx context.Context) error {
		ch <- 1 // tockvet:ignore only a //tockvet: directive counts // want `channel send`
		ch <- 1 //tockvet:ignore the channel is buffered and drained by this task
		//tockvet:ignore a deliberate wall-clock pause, on the line below
		time.Sleep(1)
		time.Sleep(1) // want `time.Sleep`
		x := 0        //tockvet:ignore an end-of-line comment covers only its own line
		time.Sleep(1) // want `time.Sleep`
		_ = x
		<-ch //tockvet:ignore // want `//tockvet:ignore needs a reason`
		//tockvet:ignorethis is not the directive
		<-ch // want `channel receive`
		return nil
	})
}

// whole is real-runtime code that blocks on a channel by design.
//
//tockvet:ignore runs only on the real runtime, fed by a goroutine
func whole(ctx context.Context, ch chan int, q *tock.Queue[int]) error { // want whole:"tockCtxFunc"
	q.Put(ctx, <-ch)
	time.Sleep(1)
	return nil
}
