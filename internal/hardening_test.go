package internal

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// The key the context package finds its cancelCtx by is learnt once, and is
// the one context.Cause asks for.
func TestCancelCtxKeyProbe(t *testing.T) {
	if _, ok := cancelCtxKey.(*int); !ok {
		t.Fatalf("cancelCtxKey is %T, want *int", cancelCtxKey)
	}
	c, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("why")
	cancel(cause)
	if c.Value(cancelCtxKey) != c {
		t.Fatal("the probed key does not find the context package's cancelCtx")
	}
}

// Prepare never panics, though the caller may not park (it is called with a
// primitive's mutex held); Park then refuses, with the rule or the unwinding.
func TestPrepareNeverPanics(t *testing.T) {
	s := NewSched(time.Time{}, time.Time{}, false)
	var p Parker
	s.Prepare(&p, "Lock.Lock") // no current task
	if p.task != nil || p.sig == nil {
		t.Fatalf("Prepare outside a task: task %v, signal %v; want no task and a signal", p.task, p.sig)
	}
	p.wake() // a grant meanwhile neither blocks nor wakes a task
	err := s.Park(context.Background(), &p, "Lock.Lock")
	r, ok := err.(*refusal)
	if !ok || r == errAbort {
		t.Fatalf("Park outside a task = %v, want the outside refusal", err)
	}
	s.cur = &simTask{s: s, aborting: true}
	s.Prepare(&p, "Lock.Lock")
	if err := s.Park(context.Background(), &p, "Lock.Lock"); err != errAbort {
		t.Fatalf("Park by an unwinding task = %v, want errAbort", err)
	}
	s.cur = nil
}

// context.Cause of a simulated context, and of stdlib contexts below it, is
// the cause it was cancelled with.
func TestSimCause(t *testing.T) {
	s := NewSched(time.Time{}, time.Time{}, false)
	why := errors.New("why")
	res := s.Run(context.Background(), func(ctx context.Context) error {
		c, cancel := s.WithCancel(ctx)
		type key struct{}
		before, beforeCancel := context.WithCancel(context.WithValue(c, key{}, 1))
		defer beforeCancel()
		cancel(why)
		after, afterCancel := context.WithCancel(c)
		defer afterCancel()
		for name, x := range map[string]context.Context{"node": c, "child made before": before, "child made after": after} {
			if got := context.Cause(x); got != why {
				t.Errorf("%s: Cause = %v, want %v", name, got, why)
			}
			if x.Err() != context.Canceled {
				t.Errorf("%s: Err = %v", name, x.Err())
			}
		}
		return nil
	})
	if res.Err != nil || res.Panic != nil {
		t.Fatal(res.Err, res.Panic)
	}
}

// A waiter granted before the run abandons it keeps what it was handed (the
// grant wins: nothing is lost); its next blocking call unwinds it.
func TestGrantWinsOverAbandonment(t *testing.T) {
	s := NewSched(time.Time{}, time.Time{}, false)
	var mu sync.Mutex
	var q Queue[int]
	got, gotErr, slept, unwound := -1, error(nil), false, false
	s.Run(context.Background(), func(ctx context.Context) error {
		spawnFn(s, ctx, "", func(ctx context.Context) {
			defer func() { unwound = IsAbort(recover()) }()
			mu.Lock()
			got, gotErr = Block(ctx, Decode(ctx), &mu, &q, 0, "test")
			s.Sleep(ctx, time.Second)
			slept = true
		})
		s.Yield() // the waiter parks
		mu.Lock()
		w := q.PopLive()
		w.Val = 42
		w.Grant()
		mu.Unlock()
		s.aborted.Store(true) // as the outer context's cancellation does
		s.Sleep(ctx, time.Second)
		return nil
	})
	if got != 42 || gotErr != nil {
		t.Errorf("the granted waiter got %d, %v; want 42, nil", got, gotErr)
	}
	if slept || !unwound {
		t.Errorf("after the grant: slept %v, unwound %v; want false, true", slept, unwound)
	}
	if q.Len() != 0 {
		t.Errorf("%d waiters left queued", q.Len())
	}
}

// A simulated task's ctx (over its node) is safe: a granter reads its Err
// with no guard.
func TestSimTaskCtxSafe(t *testing.T) {
	s := NewSched(time.Time{}, time.Time{}, false)
	ran := false
	s.Run(context.Background(), func(ctx context.Context) error {
		ran = true
		if c, ok := ctx.(*taskCtx); !ok || !c.safe {
			t.Errorf("the main task's ctx %T is not a safe task ctx", ctx)
		}
		return nil
	})
	if !ran {
		t.Fatal("the simulation did not run its main task")
	}
}

// ParkUntil, on both runtimes: a park that a grant ends before the deadline
// returns nil (the simulation tells a grant from its timer: a grant leaves
// the timer armed), and one that nothing wakes returns the deadline's
// error at the deadline.
func TestParkUntil(t *testing.T) {
	t.Run("sim", func(t *testing.T) {
		s := NewSched(time.Time{}, time.Time{}, false)
		var granted, timedOut error
		var at time.Duration
		s.Run(context.Background(), func(ctx context.Context) error {
			var p Parker
			spawnFn(s, ctx, "", func(ctx context.Context) {
				s.Prepare(&p, "test")
				granted = s.ParkUntil(ctx, &p, "test", s.Now().Add(10*time.Second))
			})
			s.Sleep(ctx, time.Second)
			p.wake()
			var q Parker
			s.Prepare(&q, "test")
			start := s.Now()
			timedOut = s.ParkUntil(ctx, &q, "test", start.Add(3*time.Second))
			at = s.Now().Sub(start)
			return nil
		})
		if granted != nil {
			t.Errorf("granted park: %v, want nil", granted)
		}
		if !ParkTimedOut(timedOut) || at != 3*time.Second {
			t.Errorf("park nobody woke: %v after %v, want the deadline's error after 3s", timedOut, at)
		}
	})
	t.Run("real", func(t *testing.T) {
		ctx := context.Background()
		var p Parker
		Real.Prepare(&p, "test")
		done := make(chan error, 1)
		go func() { done <- Real.ParkUntil(ctx, &p, "test", time.Now().Add(time.Hour)) }()
		p.wake()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("granted park: %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a granted ParkUntil did not return")
		}
		var q Parker
		Real.Prepare(&q, "test")
		go func() { done <- Real.ParkUntil(ctx, &q, "test", time.Now().Add(time.Millisecond)) }()
		select {
		case err := <-done:
			if !ParkTimedOut(err) {
				t.Errorf("park nobody woke: %v, want the deadline's error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a ParkUntil nobody woke did not return at its deadline")
		}
	})
}
