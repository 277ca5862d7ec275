package a

import (
	"context"

	"github.com/tockgo/tock"
)

// Work is a context function; the fact travels to its importers.
func Work(ctx context.Context, l *tock.Lock) error { // want Work:"tockCtxFunc parks"
	if err := l.Lock(ctx); err != nil {
		return err
	}
	l.Unlock(ctx)
	return nil
}

// Stamp is one that never waits.
func Stamp(ctx context.Context) int64 { return tock.Now(ctx).UnixNano() } // want Stamp:"tockCtxFunc$"

// Plain is not.
func Plain(ctx context.Context) error { return ctx.Err() }
