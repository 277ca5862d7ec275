package bench

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// mm1 runs an M/M/1 queue for n customers: arrivals at rate lambda, one
// server at rate mu (a Semaphore of 1, FIFO), each customer a task of its
// own, as SimPy models it (bench/simpy/mm1.py is the same model). It
// returns the mean wait in queue, in time units (one unit is one virtual
// second).
func mm1(n int, lambda, mu float64, seed uint64) (meanWait float64, err error) {
	r := rand.New(rand.NewPCG(seed, 0))
	unit := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	var waits tock.Tally
	err = sim.Run(context.Background(), func(ctx context.Context) error {
		server := tock.NewSemaphore(1, tock.FastAcquire())
		g := tock.NewGroup(ctx)
		for range n {
			service := unit(r.ExpFloat64() / mu)
			g.Go(func(ctx context.Context) error {
				if err := waits.Time(ctx, server.Acquire); err != nil {
					return err
				}
				defer server.Release()
				return tock.Sleep(ctx, service)
			})
			if err := tock.Sleep(ctx, unit(r.ExpFloat64()/lambda)); err != nil {
				return err
			}
		}
		return g.Wait()
	})
	return waits.Stats().Mean, err
}

// BenchmarkMM1 reports simulated events per second of wall time: two per
// customer (its arrival and its departure), the count SimPy's own M/M/1
// examples use. At rho = 0.9 the theoretical mean wait in queue is
// rho/(mu-lambda) = 9 units; the benchmark reports the measured one.
func BenchmarkMM1(b *testing.B) {
	const n = 100_000
	var wait float64
	for i := range b.N {
		w, err := mm1(n, 0.9, 1, uint64(i+1))
		if err != nil {
			b.Fatal(err)
		}
		wait = w
	}
	b.ReportMetric(float64(2*n*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(wait, "mean-wait")
}

// The model is right: over 200,000 customers the mean wait is within 10%
// of the theoretical 9.
func TestMM1MeanWait(t *testing.T) {
	w, err := mm1(200_000, 0.9, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	if w < 8.1 || w > 9.9 {
		t.Errorf("mean wait %.3f, want about 9 (rho/(mu-lambda))", w)
	}
}
