package wallclock

import (
	"context"
	"time"

	"github.com/tockgo/tock"
)

func task(g *tock.Group, d time.Duration, t time.Time) {
	g.Go(func(ctx context.Context) error {
		time.Sleep(d)     // want `time.Sleep in tock task code sleeps on the wall clock.*use tock.Sleep\(ctx, d\)`
		_ = time.Now()    // want `time.Now in tock task code reads the wall clock.*use tock.Now\(ctx\)`
		_ = time.Since(t) // want `time.Since .*use tock.Now\(ctx\).Sub\(t\)`
		_ = time.Until(t) // want `time.Until .*use t.Sub\(tock.Now\(ctx\)\)`
		tp := &t
		_ = time.Until(*tp)              // want `time.Until`
		<-time.After(d)                  // want `time.After .*tock.WithTimeout` `channel receive`
		_ = time.Tick(d)                 // want `time.Tick .*tock.Sleep`
		_ = time.NewTicker(d)            // want `time.NewTicker`
		_ = time.NewTimer(d)             // want `time.NewTimer .*tock.WithTimeout`
		_ = time.AfterFunc(d, func() {}) // want `time.AfterFunc .*Group.Go`
		defer func() {
			// A nested literal is the task's code.
			time.Sleep(d) // want `time.Sleep`
		}()
		return nil
	})
}

// A task function whose parameter is not named ctx, and one whose name is
// shadowed where the call is: the fix uses the name, or is not offered.
func names(g *tock.Group, d time.Duration) {
	g.Go(func(taskCtx context.Context) error {
		time.Sleep(d) // want `time.Sleep`
		{
			taskCtx := 1
			_ = taskCtx
			// No fix: taskCtx is not the context here.
			time.Sleep(d) // want `time.Sleep`
		}
		return nil
	})
	g.Go(func(_ context.Context) error {
		// No fix: no named context in scope.
		time.Sleep(d) // want `time.Sleep`
		return nil
	})
}

// A task nested in a task is checked once, with its own context.
func nested(g *tock.Group, d time.Duration) {
	g.Go(func(ctx context.Context) error {
		inner := tock.NewGroup(ctx)
		inner.Go(func(c context.Context) error {
			time.Sleep(d) // want `time.Sleep`
			return nil
		})
		return inner.Wait()
	})
}

// A context function: it passes its ctx to tock.
func worker(ctx context.Context, q *tock.Queue[int]) error { // want worker:"tockCtxFunc"
	start := time.Now() // want `time.Now`
	_, err := q.Get(ctx)
	_ = start
	return err
}

// Not task code: these run on the wall clock, as they should.
func notTasks(ctx context.Context, d time.Duration) {
	time.Sleep(d) // no tock call takes ctx
	_ = time.Now()
	_ = tock.Run(ctx, func(ctx context.Context) error { return nil }) // tock.Run's ctx is not a task's
}

func plain(d time.Duration) time.Time {
	time.Sleep(d)
	return time.Now()
}

func goroutines(g *tock.Group, d time.Duration) {
	g.Go(func(ctx context.Context) error {
		go func() {
			time.Sleep(d) // a raw goroutine, not the task
		}()
		go time.Sleep(d) // the call runs on the new goroutine
		stop := context.AfterFunc(ctx, func() {
			time.Sleep(d) // runs on its own goroutine
		})
		defer stop()
		var t time.Time
		_ = t.Add(d).Sub(t) // methods of time.Time do not read the clock
		return tock.Sleep(ctx, d)
	})
}
