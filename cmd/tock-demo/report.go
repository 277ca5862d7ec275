package main

import (
	"fmt"
	"io"
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
	fmt.Fprintf(w, "  served     %7d  %s\n", r.Served, pct(r.Served))
	fmt.Fprintf(w, "  dropped    %7d  %s  (queue full)\n", r.Dropped, pct(r.Dropped))
	fmt.Fprintf(w, "  timed out  %7d  %s\n\n", r.TimedOut, pct(r.TimedOut))
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
