// Command tock-shop is a modelling demo of tock's toolkit: a help desk with
// a pool of agents (a PriorityLimiter: urgent calls first, and optionally
// preempting routine ones), callers who hang up when they have waited too
// long (PriorityLimiter.AcquireTimeout), and an upload of each
// call's recording over a shared link (a bandwidth Pipe). Each replication
// is a deterministic simulation; sim.Replicate runs them in parallel on all
// cores and the demo prints every metric's mean with its 95% confidence
// interval:
//
//	go run ./cmd/tock-shop -agents 3 -hours 8 -replications 20
//
// Metrics: agent utilisation and queue length (time-weighted Monitors),
// mean and 90th-percentile wait (Tally), the share of callers who hung up,
// and the mean upload time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// config is one model's parameters.
type config struct {
	agents       int
	hours        float64
	callsPerHour float64
	meanCall     time.Duration // mean service time
	patience     time.Duration // mean patience before hanging up
	urgentShare  float64       // share of urgent calls (priority 0; routine is 1)
	preempt      bool          // urgent calls preempt routine ones
	linkMBps     float64       // upload link throughput, MB/s
	recordingMB  float64       // mean recording size
}

// model is one replication: it returns the metrics of the run.
func model(cfg config) func(ctx context.Context, seed uint64) (sim.Metrics, error) {
	return func(ctx context.Context, seed uint64) (sim.Metrics, error) {
		r := rand.New(rand.NewPCG(seed, 17))
		exp := func(mean time.Duration) time.Duration { return time.Duration(r.ExpFloat64() * float64(mean)) }
		var opts []tock.PriorityLimiterOption
		if cfg.preempt {
			opts = append(opts, tock.Preemptive())
		}
		agents := tock.NewPriorityLimiter(cfg.agents, opts...)
		// The agents' statistics: busy agents and queue length over time,
		// and the wait of every caller who got an agent.
		busy, queue := tock.NewMonitor(ctx, 0), tock.NewMonitor(ctx, 0)
		var waits, uploads tock.Tally
		agents.Watch(&tock.Monitors{Use: busy, Queue: queue, Wait: &waits})
		link := tock.NewPipe(cfg.linkMBps)
		var calls, hungUp, preempted int

		call := func(ctx context.Context, prio int, service, patience time.Duration, sizeMB float64) error {
			calls++
			// Wait for an agent, or hang up when patience runs out.
			p, err := agents.AcquireTimeout(ctx, prio, patience)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				hungUp++
				return nil
			}
			tock.Sleep(p.Context(), service) // cut short by a preemption
			if p.Preempted() {
				preempted++ // the routine call is cut short
			}
			p.Release()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return uploads.Time(ctx, func(ctx context.Context) error { return link.Transfer(ctx, sizeMB) })
		}

		g := tock.NewGroup(ctx)
		end := tock.Now(ctx).Add(time.Duration(cfg.hours * float64(time.Hour)))
		interval := time.Duration(float64(time.Hour) / cfg.callsPerHour)
		for {
			if err := tock.Sleep(ctx, exp(interval)); err != nil {
				return nil, err
			}
			if !tock.Now(ctx).Before(end) {
				break
			}
			prio := 1
			if r.Float64() < cfg.urgentShare {
				prio = 0
			}
			service, patience, size := exp(cfg.meanCall), exp(cfg.patience), r.ExpFloat64()*cfg.recordingMB
			g.Go(func(ctx context.Context) error { return call(ctx, prio, service, patience, size) })
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		b, q, w, u := busy.Stats(), queue.Stats(), waits.Stats(), uploads.Stats()
		m := sim.Metrics{
			"calls":                   float64(calls),
			"agent utilisation":       b.Mean / float64(cfg.agents),
			"queue length (mean)":     q.Mean,
			"queue length (max)":      q.Max,
			"wait, mean (min)":        w.Mean / 60,
			"wait, 90th pct (min)":    waits.Quantile(0.9) / 60,
			"hung up (share)":         float64(hungUp) / float64(max(calls, 1)),
			"upload time, mean (s)":   u.Mean,
			"preempted calls (share)": float64(preempted) / float64(max(calls, 1)),
		}
		return m, nil
	}
}

func run(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("tock-shop", flag.ContinueOnError)
	fs.SetOutput(w)
	cfg := config{meanCall: 4 * time.Minute, patience: 6 * time.Minute, linkMBps: 2, recordingMB: 30}
	fs.IntVar(&cfg.agents, "agents", 3, "agents answering calls")
	fs.Float64Var(&cfg.hours, "hours", 8, "simulated hours per replication")
	fs.Float64Var(&cfg.callsPerHour, "calls", 40, "calls per hour (Poisson arrivals)")
	fs.Float64Var(&cfg.urgentShare, "urgent", 0.2, "share of urgent calls")
	fs.BoolVar(&cfg.preempt, "preempt", false, "urgent calls preempt routine ones")
	reps := fs.Int("replications", 20, "independent replications (seeds 1..n)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.agents < 1 || cfg.hours <= 0 || cfg.callsPerHour <= 0 || *reps < 1 {
		return fmt.Errorf("tock-shop: -agents, -hours, -calls and -replications must be positive")
	}
	start := time.Now()
	est, err := sim.Replicate(context.Background(), model(cfg), sim.Seeds(*reps))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "help desk: %d agents, %.0f calls/h, %.0f h, %d replications (preempt %v)\n",
		cfg.agents, cfg.callsPerHour, cfg.hours, *reps, cfg.preempt)
	fmt.Fprint(w, sim.FormatEstimates(est))
	fmt.Fprintf(w, "(%.2fs of wall time)\n", time.Since(start).Seconds())
	return nil
}

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(2)
	}
}
