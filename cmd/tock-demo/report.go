package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// report writes the run's report. It depends only on the options and the
// result, so the same seed prints the same report, byte for byte.
func report(w io.Writer, o *options, r *Result) {
	c := o.cfg
	pct := func(n int) string {
		if r.Arrived == 0 {
			return "  -  "
		}
		return fmt.Sprintf("%5.1f%%", 100*float64(n)/float64(r.Arrived))
	}
	fmt.Fprintf(w, "tock-demo: a service model, %v of traffic (seed %d)\n", c.Duration, c.Seed)
	fmt.Fprintf(w, "  %g req/s (x2 during the surge from %v to %v), %d workers, queue of %d, service ~%v, timeout %v\n\n",
		c.Rate, time.Duration(0.4*float64(c.Duration)), time.Duration(0.6*float64(c.Duration)), c.Workers, c.Buffer, c.Service, c.Timeout)
	fmt.Fprintf(w, "  arrived    %7d\n", r.Arrived)
	if o.real && lagging(c, r) {
		// The arrivals follow the plan whatever the lag; what the service
		// made of them does not.
		fmt.Fprintf(w, "\n  timer lag  mean %v   p99 %v   max %v   (%d wake-ups, model time)\n\n", round(r.Lag.Mean()), round(r.Lag.Quantile(0.99)), round(r.Lag.Max), r.Lag.N)
		fmt.Fprint(w, lagWarning(o, r))
		return
	}
	fmt.Fprintf(w, "  served     %7d  %s\n", r.Served, pct(r.Served))
	fmt.Fprintf(w, "  dropped    %7d  %s  (queue full)\n", r.Dropped, pct(r.Dropped))
	fmt.Fprintf(w, "  timed out  %7d  %s\n\n", r.TimedOut, pct(r.TimedOut))
	if o.real {
		fmt.Fprintf(w, "  timer lag  mean %v   p99 %v   max %v   (%d wake-ups, model time; within tolerance)\n", round(r.Lag.Mean()), round(r.Lag.Quantile(0.99)), round(r.Lag.Max), r.Lag.N)
	}
	fmt.Fprintf(w, "  latency    p50 %v   p95 %v   p99 %v   max %v\n",
		round(percentile(r.Latencies, 0.50)), round(percentile(r.Latencies, 0.95)),
		round(percentile(r.Latencies, 0.99)), round(percentile(r.Latencies, 1)))
	sum, peak := 0, 0
	for _, s := range r.Timeline {
		sum += s.Queue
		peak = max(peak, s.Queue)
	}
	mean := 0.0
	if len(r.Timeline) > 0 {
		mean = float64(sum) / float64(len(r.Timeline))
	}
	fmt.Fprintf(w, "  queue      mean %.1f   max %d of %d   (sampled every %v; %d samples over 80%% full)\n\n", mean, r.MaxQueue, c.Buffer, c.Sample, r.Alerts)
	fmt.Fprintf(w, "  queue length over time (each column is %v):\n", bucketWidth(c, r))
	fmt.Fprintf(w, "  %s\n", sparkline(r, c.Buffer))
}

// lagTolerance is the largest mean timer lag, as a fraction of the mean
// service time, at which a wall-clock run's figures are still shown. Every
// service's end is a timer, so a mean lag of 5% of the service time makes the
// workers about 5% slower than the model says; near saturation, queueing
// magnifies that into the latencies, so the bound is not generous.
const lagTolerance = 0.05

// lagging reports whether r's timers fired too late for its figures to be
// those of the model (never true in a simulation, where every lag is 0).
func lagging(c Config, r *Result) bool {
	return r.Lag.Mean() > time.Duration(lagTolerance*float64(c.Service))
}

// lagWarning explains, in the report, why a wall-clock run's figures are not
// shown, and suggests a speed that might hold (a timer's lag in wall time is
// about the same at any speed, so in model time it grows with the speed).
func lagWarning(o *options, r *Result) string {
	c := o.cfg
	hint := "Try a lower --speed."
	if m := r.Lag.Mean(); m > 0 {
		// half the speed at which the same wall-clock lag would just
		// reach the bound: a margin for a lag that is not quite constant
		if s := o.speed * lagTolerance * float64(c.Service) / float64(m) / 2; s >= 1 {
			hint = fmt.Sprintf("Try a lower --speed (%s or less might hold).", trimFloat(roundDown(s)))
		}
	}
	return fmt.Sprintf(`  WARNING: this machine did not keep up with --speed %s: the model's timers
  fired %v late on average (model time), more than %g%% of the %v mean
  service time, so the served, dropped, timed-out, latency and queue figures
  would not be the model's and are not shown.
  %s
`, trimFloat(o.speed), round(r.Lag.Mean()), 100*lagTolerance, c.Service, hint)
}

// roundDown rounds f down to one significant digit (f >= 1).
func roundDown(f float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(f)))
	return math.Floor(f/p) * p
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

const sparkWidth = 60

func bucketWidth(c Config, r *Result) time.Duration {
	n := len(r.Timeline)
	per := (n + sparkWidth - 1) / sparkWidth
	return time.Duration(max(per, 1)) * c.Sample
}

// sparkline draws the queue length, max per bucket, scaled to the buffer.
func sparkline(r *Result, bound int) string {
	bars := []rune(" ▁▂▃▄▅▆▇█")
	n := len(r.Timeline)
	per := max((n+sparkWidth-1)/sparkWidth, 1)
	var b strings.Builder
	b.WriteRune('|')
	for i := 0; i < n; i += per {
		m := 0
		for _, s := range r.Timeline[i:min(i+per, n)] {
			m = max(m, s.Queue)
		}
		k := 0
		if bound > 0 {
			k = (m*(len(bars)-1) + bound - 1) / bound
		}
		b.WriteRune(bars[min(k, len(bars)-1)])
	}
	b.WriteRune('|')
	return b.String()
}
