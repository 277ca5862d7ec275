//go:build go1.25

package tock_test

import (
	"context"
	"fmt"
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

// A primitive used first inside a synctest bubble and then outside it (a
// package-level Lock or stream that one synctest test and then a plain test
// use): the waiter a wait in the bubble left for reuse must not carry the
// bubble's channel out of it. Before, the next wait outside received on
// that channel and panicked ("receive on synctest channel from outside
// bubble") with its waiter still queued, and the grant that followed
// panicked with the primitive's mutex held.
//
// The stream's receives run with each kind of ctx users pass: none (an
// anonymous caller), a task's own (tock.Run's) and one derived from it
// (WithValue and WithCancel: its park selects on the ctx's Done).
func TestRealPrimitiveUsedInThenOutOfSynctestBubble(t *testing.T) {
	kinds := []struct {
		name string
		wrap func(ctx context.Context) (context.Context, context.CancelFunc)
	}{
		{"background", nil},
		{"task", func(ctx context.Context) (context.Context, context.CancelFunc) { return ctx, func() {} }},
		{"derived", func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithCancel(context.WithValue(ctx, bubbleKey{}, 1))
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { primitiveInThenOutOfBubble(t, k.wrap) })
	}
}

type bubbleKey struct{}

// receiveAs receives from rcv with a ctx of the kind wrap makes (nil: an
// anonymous caller's), as a task of its own when wrap is set.
func receiveAs(rcv *tock.ReceiveStream[int], wrap func(context.Context) (context.Context, context.CancelFunc)) error {
	if wrap == nil {
		_, err := rcv.Receive(context.Background())
		return err
	}
	return tock.Run(context.Background(), func(ctx context.Context) error {
		ctx, cancel := wrap(ctx)
		defer cancel()
		_, err := rcv.Receive(ctx)
		return err
	})
}

func primitiveInThenOutOfBubble(t *testing.T, wrap func(context.Context) (context.Context, context.CancelFunc)) {
	ctx := context.Background()
	var l tock.Lock
	snd, rcv := tock.NewStream[int](0)
	err := within(t, "waits in a synctest bubble", func() error {
		synctest.Test(t, func(t *testing.T) {
			l.Lock(ctx)
			go func() {
				time.Sleep(time.Second)
				l.Unlock(ctx) // an anonymous owner: any anonymous caller unlocks
				snd.Send(ctx, 1)
			}()
			if err := l.Lock(ctx); err != nil { // parks in the bubble
				t.Errorf("Lock in the bubble: %v", err)
			}
			l.Unlock(ctx)
			if err := receiveAs(rcv, wrap); err != nil { // parks in the bubble
				t.Errorf("Receive in the bubble: %v", err)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// outside the bubble: the same primitives' waits park again
	err = within(t, "the same primitives' waits outside the bubble", func() error {
		l.Lock(ctx)
		done := make(chan string, 2)
		waiter := func(f func() error) {
			go func() {
				msg := panicOf(func() {
					if err := f(); err != nil {
						panic(err)
					}
				})
				done <- msg
			}()
		}
		waiter(func() error {
			if err := l.Lock(ctx); err != nil {
				return err
			}
			l.Unlock(ctx)
			return nil
		})
		waiter(func() error { return receiveAs(rcv, wrap) })
		for l.Stats().Waiting != 1 || snd.Stats().WaitingReceive != 1 {
			time.Sleep(time.Millisecond) //tockvet:ignore polls a state that cannot lapse: the waiters stay queued until released
		}
		if msg := panicOf(func() { l.Unlock(ctx); snd.Send(ctx, 2) }); msg != "" {
			return fmt.Errorf("the grant outside the bubble panicked: %s", msg)
		}
		for range 2 {
			if msg := <-done; msg != "" {
				return fmt.Errorf("a wait outside the bubble panicked: %s", msg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
