// Command tock-demo runs a model of a small service, written once against
// tock, as a deterministic simulation (the default: an hour of traffic in
// about a second) or on the wall clock (--real, sped up by --speed).
//
//	go run ./cmd/tock-demo
//	go run ./cmd/tock-demo --svg timeline.svg
//	go run ./cmd/tock-demo --real --duration 10m --speed 60
//
// Requests arrive at random (seeded) into a bounded stream and are dropped if
// it is full; a dispatcher admits them through a CapacityLimiter (the worker
// pool); each is served under a deadline and recorded in a Lock-protected
// ledger; a sampler broadcasts the queue's state on a Channel. The report on
// stdout depends only on the flags: the same seed gives the same report.
//
// On the wall clock, arrivals and samples are planned at absolute instants
// from the model's start, so a timer that fires late delays one event and
// the arrivals are the simulation's. The report then adds the measured timer
// lag, and if the machine could not keep up with --speed (a mean lag above
// 5% of the mean service time) it prints a warning in place of the figures
// that the lag would have distorted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type options struct {
	cfg   Config
	real  bool
	speed float64
	svg   string
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("tock-demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.DurationVar(&o.cfg.Duration, "duration", time.Hour, "how long requests arrive (model time)")
	fs.Float64Var(&o.cfg.Rate, "rate", 20, "mean arrivals per second; doubled during a surge in the middle fifth of the run")
	fs.IntVar(&o.cfg.Workers, "workers", 8, "requests served at once (a CapacityLimiter)")
	fs.IntVar(&o.cfg.Buffer, "buffer", 32, "ingress queue size; requests arriving when it is full are dropped")
	fs.DurationVar(&o.cfg.Service, "service", 300*time.Millisecond, "mean service time (exponential)")
	fs.DurationVar(&o.cfg.Timeout, "timeout", 2*time.Second, "a request not served this long after arriving times out")
	fs.DurationVar(&o.cfg.Sample, "sample", 10*time.Second, "how often the queue is sampled for the timeline")
	fs.Uint64Var(&o.cfg.Seed, "seed", 1, "random seed: the same seed gives the same report")
	fs.BoolVar(&o.real, "real", false, "run on the wall clock instead of simulating")
	fs.Float64Var(&o.speed, "speed", 60, "with --real: model seconds per wall-clock second")
	fs.StringVar(&o.svg, "svg", "", "write a chart of queue length and latency over time to this file")
	fs.Usage = func() {} // errors are reported in one line by run; --help prints usage below
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "usage: tock-demo [flags]\n\nRuns a model of a service as a simulation (default) or on the wall clock.\n\nFlags:\n")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c := &o.cfg
	switch {
	case c.Duration <= 0:
		return nil, fmt.Errorf("-duration must be positive, not %v", c.Duration)
	case !(c.Rate > 0):
		return nil, fmt.Errorf("-rate must be positive, not %v", c.Rate)
	case c.Workers <= 0:
		return nil, fmt.Errorf("-workers must be at least 1, not %d", c.Workers)
	case c.Buffer < 0:
		return nil, fmt.Errorf("-buffer must not be negative, not %d", c.Buffer)
	case c.Service <= 0:
		return nil, fmt.Errorf("-service must be positive, not %v", c.Service)
	case c.Timeout <= 0:
		return nil, fmt.Errorf("-timeout must be positive, not %v", c.Timeout)
	case c.Sample <= 0 || c.Sample > c.Duration:
		return nil, fmt.Errorf("-sample must be positive and at most -duration, not %v", c.Sample)
	case !(o.speed > 0):
		return nil, fmt.Errorf("-speed must be positive, not %v", o.speed)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "tock-demo: %v (see --help)\n", err)
		return 2
	}
	wallStart := time.Now()
	progress := newProgress(stderr, o.cfg.Duration, wallStart)
	var res *Result
	if o.real {
		res, err = runReal(o, progress)
	} else {
		cfg := o.cfg
		cfg.Progress = progress
		err = sim.Run(context.Background(), func(ctx context.Context) error {
			var err error
			res, err = Run(ctx, cfg)
			return err
		})
	}
	wall := time.Since(wallStart)
	progress.done()
	if err != nil {
		fmt.Fprintf(stderr, "tock-demo: %v\n", err)
		return 1
	}
	report(stdout, o, res)
	mode := "simulated"
	if o.real {
		mode = "ran on the wall clock (x" + trimFloat(o.speed) + ")"
	}
	fmt.Fprintf(stderr, "%s %v of traffic in %v of wall time (%.0fx real time)\n",
		mode, o.cfg.Duration, wall.Round(time.Millisecond), float64(o.cfg.Duration)/float64(wall))
	if o.svg != "" {
		if err := os.WriteFile(o.svg, []byte(chart(o, res)), 0o644); err != nil {
			fmt.Fprintf(stderr, "tock-demo: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s\n", o.svg)
	}
	return 0
}

// runReal runs the model on the wall clock, every duration divided by speed,
// and scales the measurements back to model time.
func runReal(o *options, progress progressFunc) (*Result, error) {
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) / o.speed) }
	cfg := o.cfg
	cfg.Duration, cfg.Service, cfg.Timeout, cfg.Sample = scale(cfg.Duration), scale(cfg.Service), scale(cfg.Timeout), scale(cfg.Sample)
	cfg.Rate *= o.speed
	unscale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * o.speed) }
	cfg.Progress = func(at time.Duration, r *Result) { progress(unscale(at), r) }
	var res *Result
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		var err error
		res, err = Run(ctx, cfg)
		return err
	})
	if res != nil {
		toModelTime(res, o.speed)
	}
	return res, err
}

// toModelTime turns the wall-clock measurements of a run at speed into model
// time: every duration in r is multiplied by speed.
func toModelTime(r *Result, speed float64) {
	unscale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * speed) }
	r.Lag.scale(speed)
	for i, l := range r.Latencies {
		r.Latencies[i] = unscale(l)
	}
	for i := range r.Timeline {
		s := &r.Timeline[i]
		s.At, s.P50, s.P95 = unscale(s.At), unscale(s.P50), unscale(s.P95)
	}
}

type progressFunc func(at time.Duration, r *Result)

// newProgress returns a progress callback that keeps one line on stderr up to
// date once the run has taken more than a second, if stderr is a terminal.
func newProgress(w io.Writer, total time.Duration, wallStart time.Time) progressFunc {
	f, ok := w.(*os.File)
	if !ok {
		return func(time.Duration, *Result) {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func(time.Duration, *Result) {}
	}
	shown, last := false, time.Now()
	p := func(at time.Duration, r *Result) {
		if time.Since(wallStart) < time.Second || time.Since(last) < 100*time.Millisecond {
			return
		}
		last, shown = time.Now(), true
		secs := time.Since(wallStart).Seconds()
		fmt.Fprintf(f, "\r  %v of %v reached, %d requests, %.0f requests/s of wall time   ", at, total, r.Arrived, float64(r.Arrived)/secs)
	}
	return func(at time.Duration, r *Result) {
		if at < 0 {
			if shown {
				fmt.Fprint(f, "\r"+strings.Repeat(" ", 78)+"\r")
			}
			return
		}
		p(at, r)
	}
}

func (p progressFunc) done() { p(-1, nil) }

func trimFloat(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%g", f), ".0") }
