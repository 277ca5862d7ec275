package b

import (
	"context"
	"sync"
	"time"

	"example.com/vet/facts/a"
	"github.com/tockgo/tock"
)

// Serve passes ctx to a.Work, a context function of another package.
func Serve(ctx context.Context, l *tock.Lock) error { // want Serve:"tockCtxFunc parks"
	time.Sleep(1) // want `time.Sleep`
	return a.Work(ctx, l)
}

// Whether a section may wait, across packages.
func Sections(ctx context.Context, mu *sync.Mutex, l *tock.Lock) error { // want Sections:"tockCtxFunc parks"
	mu.Lock()
	_ = a.Stamp(ctx)
	mu.Unlock()
	mu.Lock() // want `sync.Mutex.Lock`
	err := a.Work(ctx, l)
	mu.Unlock()
	return err
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
