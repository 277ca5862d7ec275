package sim

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Metrics is what one replication of a model reports: a value per metric
// name (a mean wait, a utilisation, a count).
type Metrics map[string]float64

// Estimate is one metric over independent replications: the mean of its
// per-replication values and a 95% confidence interval for it (Student's t
// with N-1 degrees of freedom).
type Estimate struct {
	N         int     // replications that reported the metric
	Mean      float64 // mean of the per-replication values
	StdDev    float64 // their sample standard deviation (0 if N < 2)
	HalfWidth float64 // half width of the 95% confidence interval (+Inf if N < 2)
	Low, High float64 // Mean ∓ HalfWidth
}

// String shows the estimate as "mean ± half-width (n=N)".
func (e Estimate) String() string {
	return fmt.Sprintf("%.6g ± %.3g (n=%d)", e.Mean, e.HalfWidth, e.N)
}

// Seeds returns the seeds 1..n, for Replicate.
func Seeds(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

// Replicate runs model once per seed, each in a simulation of its own (Run
// with opts), several at a time on all cores (runtime.GOMAXPROCS), and
// returns, per metric, the mean over the replications and its 95%
// confidence interval. model gets the seed for its random numbers (e.g.
// rand.New(rand.NewPCG(seed, 0))); it must not share mutable state with the
// other replications, which run in parallel. The result does not depend on
// how the replications were spread over cores: it is computed in seed order.
//
// If a replication fails (its Run returns an error), Replicate returns the
// failure of the first failing seed in seed order, naming the seed, with
// the estimates of the others. If ctx is cancelled, the replications not yet
// started are skipped and Replicate returns ctx's error. A panic in a model
// is re-raised by Replicate (as Run does), once every replication running
// has ended.
func Replicate(ctx context.Context, model func(ctx context.Context, seed uint64) (Metrics, error), seeds []uint64, opts ...Option) (map[string]Estimate, error) {
	type result struct {
		m     Metrics
		err   error
		panic any
	}
	res := make([]result, len(seeds))
	workers := min(runtime.GOMAXPROCS(0), len(seeds))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				func() {
					defer func() {
						if r := recover(); r != nil {
							res[i].panic = r
						}
					}()
					var m Metrics
					err := Run(ctx, func(ctx context.Context) error {
						var err error
						m, err = model(ctx, seeds[i])
						return err
					}, opts...)
					res[i] = result{m: m, err: err}
				}()
			}
		}()
	}
	var ctxErr error
	for i := range seeds {
		if ctxErr = ctx.Err(); ctxErr != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	var firstErr error
	vals := map[string][]float64{}
	for i, r := range res {
		if r.panic != nil {
			panic(r.panic)
		}
		if r.err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("sim.Replicate: seed %d: %w", seeds[i], r.err)
			}
			continue
		}
		for k, v := range r.m {
			vals[k] = append(vals[k], v)
		}
	}
	out := make(map[string]Estimate, len(vals))
	for k, v := range vals {
		out[k] = estimate(v)
	}
	if ctxErr != nil {
		return out, ctxErr
	}
	return out, firstErr
}

// FormatEstimates lists estimates one per line, sorted by name.
func FormatEstimates(est map[string]Estimate) string {
	names := make([]string, 0, len(est))
	for k := range est {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s: %v\n", k, est[k])
	}
	return b.String()
}

func estimate(v []float64) Estimate {
	e := Estimate{N: len(v), HalfWidth: math.Inf(1)}
	if e.N == 0 {
		return e
	}
	var sum float64
	for _, x := range v {
		sum += x
	}
	e.Mean = sum / float64(e.N)
	if e.N > 1 {
		var ss float64
		for _, x := range v {
			ss += (x - e.Mean) * (x - e.Mean)
		}
		e.StdDev = math.Sqrt(ss / float64(e.N-1))
		e.HalfWidth = tQuantile975(e.N-1) * e.StdDev / math.Sqrt(float64(e.N))
	}
	e.Low, e.High = e.Mean-e.HalfWidth, e.Mean+e.HalfWidth
	return e
}

// t975 is the 0.975 quantile of Student's t with 1..30 degrees of freedom.
var t975 = [...]float64{
	12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
	2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
	2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
}

// tQuantile975 is the 0.975 quantile of Student's t with df degrees of
// freedom: from the table up to 30, then interpolated in 1/df between 30,
// 40, 60, 120 and infinity (1.95996), which is exact to 3 decimals.
func tQuantile975(df int) float64 {
	if df <= len(t975) {
		return t975[df-1]
	}
	pts := []struct{ df, t float64 }{{30, 2.0423}, {40, 2.0211}, {60, 2.0003}, {120, 1.9799}, {math.Inf(1), 1.95996}}
	x := 1 / float64(df)
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		if float64(df) <= b.df {
			xa, xb := 1/a.df, 1/b.df
			return a.t + (b.t-a.t)*(x-xa)/(xb-xa)
		}
	}
	return 1.95996
}
