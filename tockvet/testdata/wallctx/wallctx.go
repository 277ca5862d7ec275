package wallctx

import (
	"context"
	"errors"
	"time"

	"github.com/tockgo/tock"
)

func task(g *tock.Group, d time.Duration, t time.Time) {
	g.Go(func(ctx context.Context) error {
		c1, cancel1 := context.WithTimeout(ctx, d) // want `context.WithTimeout on a task context sets a wall-clock deadline.*use tock.WithTimeout`
		defer cancel1()
		c2, cancel2 := context.WithDeadline(c1, t) // want `context.WithDeadline on a task context.*use tock.WithDeadline`
		defer cancel2()
		c3, cancel3 := context.WithTimeoutCause(ctx, d, errors.New("slow")) // want `context.WithTimeoutCause on a task context.*use tock.WithTimeout`
		defer cancel3()
		vctx := context.WithValue(c2, key{}, 1)
		c4, cancel4 := context.WithTimeout(vctx, d) // want `context.WithTimeout on a task context`
		defer cancel4()
		_ = tock.Sleep(c3, d)
		return tock.Sleep(c4, d)
	})
}

type key struct{}

// A context function (it passes ctx to tock) deriving a wall-clock deadline.
func call(ctx context.Context, l *tock.Lock) error { // want call:"tockCtxFunc"
	wctx, cancel := context.WithTimeout(ctx, time.Second) // want `context.WithTimeout`
	defer cancel()
	return l.Lock(wctx)
}

// Not reported: tock's deadlines, wall-clock deadlines on contexts that are
// not a task's, and code that is not a task's.
func fine(g *tock.Group, outside context.Context, d time.Duration) {
	g.Go(func(ctx context.Context) error {
		tctx, cancel := tock.WithTimeout(ctx, d)
		defer cancel()
		hctx, hcancel := context.WithTimeout(context.Background(), d)
		defer hcancel()
		_ = hctx
		return tock.Sleep(tctx, d)
	})
	wctx, cancel := context.WithTimeout(outside, d)
	defer cancel()
	_ = wctx
}
