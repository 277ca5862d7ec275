//go:build go1.25

package tock_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tockgo/tock"
)

// tock's real runtime inside a testing/synctest bubble: a goroutine parked
// in a tock wait counts as durably blocked, so the bubble's fake clock
// advances past a time.Sleep while another goroutine waits on an Event, a
// Lock or a stream (before, without the race detector, a park through the
// runtime's gopark counted as running and the bubble never went idle: the
// sleep never ended).
func TestRealRuntimeInSynctestBubble(t *testing.T) {
	err := within(t, "a synctest bubble with tock waits", func() error {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			var e tock.Event
			var l tock.Lock
			s, r := tock.NewStream[int](0)
			l.Lock(ctx)
			go func() {
				time.Sleep(time.Second)
				e.Set()
				l.Unlock(ctx)
				s.Send(ctx, 1)
			}()
			e.Wait(ctx)
			if err := l.Lock(ctx); err != nil {
				t.Errorf("Lock in the bubble: %v", err)
			}
			if v, err := r.Receive(ctx); v != 1 || err != nil {
				t.Errorf("Receive in the bubble = %v, %v; want 1, nil", v, err)
			}
			time.Sleep(time.Second) // only the fake clock: ends at once
			tock.Run(ctx, func(ctx context.Context) error {
				var e2 tock.Event
				g := tock.NewGroup(ctx)
				g.Go(func(ctx context.Context) error { return e2.Wait(ctx) })
				time.Sleep(time.Second) //tockvet:ignore the bubble's fake clock, which goes idle only if the task's wait is durable
				e2.Set()
				return g.Wait()
			})
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
