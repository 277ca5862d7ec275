package tock_test

import (
	"context"
	"fmt"

	"github.com/tockgo/tock"
)

func ExamplePanicError() {
	// A task panics two Groups down; the caller of Run gets one *PanicError
	// with the original value (and the panicking task's stack).
	defer func() {
		pe := recover().(*tock.PanicError)
		fmt.Println("recovered:", pe.Value)
	}()
	tock.Run(context.Background(), func(ctx context.Context) error {
		outer := tock.NewGroup(ctx)
		outer.Go(func(ctx context.Context) error {
			inner := tock.NewGroup(ctx)
			inner.Go(func(ctx context.Context) error { panic("out of widgets") })
			return inner.Wait()
		})
		return outer.Wait()
	})
	// Output: recovered: out of widgets
}
