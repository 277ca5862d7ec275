package b

import (
	"context"
	"time"

	"example.com/vet/facts/a"
	"github.com/tockgo/tock"
)

// Serve passes ctx to a.Work, a context function of another package.
func Serve(ctx context.Context, l *tock.Lock) error { // want Serve:"tockCtxFunc"
	time.Sleep(1) // want `time.Sleep`
	return a.Work(ctx, l)
}

func Other(ctx context.Context) error {
	time.Sleep(1)
	return a.Plain(ctx)
}

func bg(g *tock.Group, l *tock.Lock) {
	g.Go(func(ctx context.Context) error {
		return a.Work(context.Background(), l) // want `context.Background\(\) passed to tock`
	})
}
