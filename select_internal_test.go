package tock

import (
	"context"
	"testing"
	"time"
)

// claimThenPanic is a case whose arm claims the Select for itself and then
// panics: no arm of this package does (each does what can panic first), but
// Select must not wait for a signal nobody sends if one did.
type claimThenPanic struct{}

func (claimThenPanic) check(*selector) {}
func (claimThenPanic) arm(s *selector, i int) armResult {
	s.claim.TryClaim(i)
	panic("after the claim")
}
func (claimThenPanic) disarm()       {}
func (claimThenPanic) giveBack()     {}
func (claimThenPanic) finish() error { return nil }

// A case that claimed itself and then panicked while arming is not drained
// for: on the real runtime, the drain would wait forever for a grant's
// signal. The cases armed before it leave their queues.
func TestSelectSelfClaimedArmPanicNotDrained(t *testing.T) {
	done := make(chan any, 1)
	q := NewQueue[int]()
	go func() {
		Run(context.Background(), func(ctx context.Context) error {
			defer func() { done <- recover() }() //tockvet:ignore real runtime only: a buffered channel the test reads
			Select(ctx, OnGet(q, nil), claimThenPanic{})
			return nil
		})
	}()
	//tockvet:ignore real runtime only: bounds a Select that should panic, on the wall clock
	select {
	case r := <-done:
		if r != "after the claim" {
			t.Errorf("recovered %v", r)
		}
	case <-time.After(10 * time.Second): //tockvet:ignore real runtime only, as above
		t.Fatal("Select still blocked after 10s: it drained for a signal nobody sent")
	}
	if n := q.Waiting(); n != 0 {
		t.Errorf("the Get case stayed queued")
	}
}
