// range over a channel whose type is a type parameter (core type chan).
package advbuggenchan

import (
	"context"

	"github.com/tockgo/tock"
)

func drain[C ~chan int](ctx context.Context, c C) error { // want drain:"tockCtxFunc parks"
	for range c { // want `range over a channel`
	}
	return tock.Yield(ctx)
}
