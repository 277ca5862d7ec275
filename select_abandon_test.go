package tock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// TestSelectGrantedThenAbandoned: a run aborted (its outer ctx cancelled)
// abandons every task still runnable, and so a Select whose case was just
// granted is refused at its park after the grant won. The main task blocks
// outside tock after the cancellation, so that the run aborts (the stall
// watchdog gives up on it) before the Select's task runs again; it is let go
// once Run has returned, and the loop then abandons the Select's task. The grant wins: the
// Select returns that case with what it got, every other case leaves its
// queue, and the task's next blocking call unwinds it.
func TestSelectGrantedThenAbandoned(t *testing.T) {
	outer, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		q        = tock.NewQueue[int]()
		sem      = tock.NewSemaphore(0)
		pl       = tock.NewPriorityLimiter(1)
		cl       = tock.NewCapacityLimiter(0)
		c        = tock.NewContainer(5, 0)
		fl       tock.Flag
		ev       tock.Event
		won      = -2
		wonErr   error
		got      int
		unwound  bool
		returned bool
		block    = make(chan struct{})
		ended    = make(chan struct{})
	)
	err := sim.Run(outer, func(ctx context.Context) error {
		hold, _ := pl.TryAcquire(ctx, 0)
		defer hold.Release()
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			defer close(ended)
			defer func() { unwound = !returned }()
			won, wonErr = tock.Select(ctx,
				tock.OnGet(q, func(v int) { got = v }),
				tock.OnAcquire(sem, nil),
				tock.OnPermit(pl, 0, nil),
				tock.OnBorrow(cl, nil),
				tock.OnContainerGet(c, 1, nil),
				tock.OnFlag(&fl, nil),
				tock.OnEvent(&ev, nil))
			// abandoned: unwinds here (with ctx itself, cancelled by now,
			// Sleep would return at its cancellation check)
			tock.Sleep(context.WithoutCancel(ctx), time.Second)
			returned = true
			return nil
		})
		tock.Sleep(ctx, time.Second) // the Select is queued on every case
		ev.Set()                     // grants the Event's case (no yield): the Select's task is runnable
		cancel()                     // the run aborts before that task runs
		<-block                      //tockvet:ignore blocks outside tock on purpose, so that the run aborts
		return nil
	})
	close(block)
	select {
	case <-ended:
	case <-time.After(10 * time.Second): //tockvet:ignore a bound on the abandoned task's end, on the wall clock
		t.Fatal("the abandoned Select task did not end within 10 s")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want the outer cancellation", err)
	}
	if won != 6 || wonErr != nil || got != 0 {
		t.Errorf("Select = %d, %v, got %d; want case 6, the Event's (the grant wins)", won, wonErr, got)
	}
	if !unwound {
		t.Errorf("the abandoned task was not unwound at its next blocking call")
	}
	if q.Len() != 0 || q.Waiting() != 0 || sem.Stats().Waiting != 0 || pl.Stats().Waiting != 0 ||
		cl.Stats().Waiting != 0 || c.Stats().WaitingGets != 0 || fl.Stats().Waiting != 0 || ev.Stats().Waiting != 0 {
		t.Errorf("left: queue len %d waiting %d, semaphore %d, permit %d, borrow %d, container %d, flag %d, event %d",
			q.Len(), q.Waiting(), sem.Stats().Waiting, pl.Stats().Waiting, cl.Stats().Waiting, c.Stats().WaitingGets, fl.Stats().Waiting, ev.Stats().Waiting)
	}
}
