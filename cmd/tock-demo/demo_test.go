package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal/leaktest"
	"github.com/tockgo/tock/sim"
)

func simulate(t *testing.T, cfg Config) *Result {
	t.Helper()
	var res *Result
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		var err error
		res, err = Run(ctx, cfg)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func testConfig() Config {
	return Config{Duration: 20 * time.Minute, Rate: 25, Workers: 6, Buffer: 16,
		Service: 250 * time.Millisecond, Timeout: time.Second, Seed: 7, Sample: 10 * time.Second}
}

// checkInvariants checks a simulated run's result.
func checkInvariants(t *testing.T, cfg Config, r *Result) {
	t.Helper()
	if r.Served+r.Dropped+r.TimedOut != r.Arrived {
		t.Errorf("served %d + dropped %d + timed out %d != arrived %d", r.Served, r.Dropped, r.TimedOut, r.Arrived)
	}
	if r.MaxQueue > cfg.Buffer {
		t.Errorf("queue reached %d, above its bound %d", r.MaxQueue, cfg.Buffer)
	}
	for _, s := range r.Timeline {
		if s.Queue > cfg.Buffer || s.InFlight > cfg.Workers {
			t.Errorf("sample %+v exceeds the bounds", s)
		}
	}
	if len(r.Latencies) != r.Served {
		t.Errorf("%d latencies for %d served", len(r.Latencies), r.Served)
	}
	for _, l := range r.Latencies {
		if l > cfg.Timeout || l < 0 {
			t.Fatalf("a served request took %v, past the %v timeout", l, cfg.Timeout)
		}
	}
	if want := int(cfg.Duration / cfg.Sample); len(r.Timeline) != want {
		t.Errorf("%d samples, want %d", len(r.Timeline), want)
	}
	// In a simulation every timer fires at its planned instant: the lag of
	// every arrival, service and sample is measured, and is 0.
	if n := r.Arrived + r.Served + len(r.Timeline); r.Lag.N != n {
		t.Errorf("lag measured on %d wake-ups, want %d (every arrival, service and sample)", r.Lag.N, n)
	}
	if r.Lag.Max != 0 || r.Lag.Sum != 0 || len(r.Lag.late) != 0 || lagging(cfg, r) {
		t.Errorf("simulated timers lagged: %+v", r.Lag)
	}
}

func TestModelInvariants(t *testing.T) {
	leaktest.Check(t)
	cfg := testConfig()
	r := simulate(t, cfg)
	checkInvariants(t, cfg, r)
	// The configuration is loaded enough that every outcome happens.
	if r.Served == 0 || r.Dropped == 0 || r.TimedOut == 0 || r.Alerts == 0 {
		t.Errorf("expected every outcome: %+v", r.Arrived)
	}
	// Poisson arrivals at 25/s, doubled for a fifth of the run: about 36,000.
	if r.Arrived < 33000 || r.Arrived > 39000 {
		t.Errorf("arrived %d, expected about 36000", r.Arrived)
	}
}

func TestModelUnloaded(t *testing.T) {
	cfg := testConfig()
	cfg.Rate, cfg.Workers, cfg.Buffer = 2, 50, 1000
	r := simulate(t, cfg)
	checkInvariants(t, cfg, r)
	if r.Dropped != 0 {
		t.Errorf("an idle service dropped %d requests", r.Dropped)
	}
}

func TestReportDeterministic(t *testing.T) {
	leaktest.Check(t)
	var out [2]bytes.Buffer
	for i := range out {
		var stderr bytes.Buffer
		if code := run([]string{"--duration", "15m", "--seed", "3"}, &out[i], &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		// stderr is not a terminal here: no progress line, only the summary
		if msg := stderr.String(); strings.Count(msg, "\n") != 1 || strings.Contains(msg, "\r") || !strings.Contains(msg, "of wall time") {
			t.Errorf("stderr %q: want just the wall-time summary", msg)
		}
	}
	if out[0].String() != out[1].String() {
		t.Fatalf("same seed, different reports:\n%s\n---\n%s", out[0].String(), out[1].String())
	}
	for _, want := range []string{"arrived", "served", "dropped", "timed out", "p50", "p95", "p99", "queue length over time"} {
		if !strings.Contains(out[0].String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out[0].String())
		}
	}
	var other, stderr bytes.Buffer
	run([]string{"--duration", "15m", "--seed", "4"}, &other, &stderr)
	if other.String() == out[0].String() {
		t.Error("a different seed gave the same report")
	}
}

// The same model code runs on the real runtime (sped up) and keeps its
// invariants.
func TestModelOnRealRuntime(t *testing.T) {
	leaktest.Check(t)
	cfg := Config{Duration: 300 * time.Millisecond, Rate: 400, Workers: 4, Buffer: 8,
		Service: 10 * time.Millisecond, Timeout: 40 * time.Millisecond, Seed: 1, Sample: 50 * time.Millisecond}
	var res *Result
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		var err error
		res, err = Run(ctx, cfg)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Served+res.Dropped+res.TimedOut != res.Arrived || res.MaxQueue > cfg.Buffer || res.Arrived == 0 {
		t.Errorf("real run: %d arrived, %d served, %d dropped, %d timed out, max queue %d", res.Arrived, res.Served, res.Dropped, res.TimedOut, res.MaxQueue)
	}
}

func TestCLIErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--workers", "0"}, "-workers must be at least 1, not 0"},
		{[]string{"--workers", "-3"}, "-workers must be at least 1"},
		{[]string{"--duration", "soon"}, `invalid value "soon" for flag -duration`},
		{[]string{"--duration", "-1h"}, "-duration must be positive"},
		{[]string{"--rate", "0"}, "-rate must be positive"},
		{[]string{"--buffer", "-1"}, "-buffer must not be negative"},
		{[]string{"--timeout", "0s"}, "-timeout must be positive"},
		{[]string{"--speed", "-2"}, "-speed must be positive"},
		{[]string{"--sample", "2h"}, "-sample must be positive and at most -duration"},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, code, msg, tc.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "-workers") || !strings.Contains(stderr.String(), "requests served at once") {
		t.Errorf("--help: exit %d, %q", code, stderr.String())
	}
}

func TestSVG(t *testing.T) {
	path := t.TempDir() + "/t.svg"
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--duration", "10m", "--svg", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "<polyline", "queue length", "latency", "</svg>"} {
		if !strings.Contains(data, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// demoConfig is the demo's default model (the flags' defaults), shortened.
func demoConfig(d time.Duration) Config {
	return Config{Duration: d, Rate: 20, Workers: 8, Buffer: 32, Service: 300 * time.Millisecond,
		Timeout: 2 * time.Second, Seed: 1, Sample: 10 * time.Second}
}

// On the wall clock, sped up, the model's arrivals are the simulation's: each
// one is planned at an absolute instant, so timer overshoot does not pile up
// (with a relative sleep per gap, it took away about half the arrivals at
// --speed 60). Counts only: the timings depend on the machine.
func TestRealArrivalsMatchSimulation(t *testing.T) {
	leaktest.Check(t)
	cfg := demoConfig(3 * time.Minute)
	want := simulate(t, cfg)
	o := &options{cfg: cfg, real: true, speed: 150} // 1.2s of wall time
	got, err := runReal(o, func(time.Duration, *Result) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("simulated %d arrivals, wall clock %d (timer lag mean %v, max %v, model time)", want.Arrived, got.Arrived, got.Lag.Mean(), got.Lag.Max)
	if diff := got.Arrived - want.Arrived; diff*20 > want.Arrived || -diff*20 > want.Arrived {
		t.Errorf("wall clock x%g: %d arrivals, simulation: %d; want within 5%%", o.speed, got.Arrived, want.Arrived)
	}
	if len(got.Timeline) != len(want.Timeline) {
		t.Errorf("wall clock: %d samples, simulation: %d", len(got.Timeline), len(want.Timeline))
	}
	if got.Served+got.Dropped+got.TimedOut != got.Arrived {
		t.Errorf("wall clock: served %d + dropped %d + timed out %d != arrived %d", got.Served, got.Dropped, got.TimedOut, got.Arrived)
	}
	if n := got.Arrived + got.Served + len(got.Timeline); got.Lag.N != n {
		t.Errorf("lag measured on %d wake-ups, want %d (every arrival, service and sample)", got.Lag.N, n)
	}
}

// A speed no machine can hold (10 minutes of traffic in 0.6 ms) gives a
// report that says so, with the measured lag, instead of the figures.
func TestRealTooFastWarns(t *testing.T) {
	leaktest.Check(t)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--real", "--duration", "10m", "--speed", "1e6"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"arrived", "timer lag  mean", "WARNING: this machine did not keep up with --speed 1e+06", "Try a lower --speed"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{"served  ", "latency  ", "p50", "queue length over time"} {
		if strings.Contains(out, not) {
			t.Errorf("report shows %q although the timers lagged:\n%s", not, out)
		}
	}
}

// The report's lag line and warning, on made-up lags: the threshold is a mean
// lag of 5% of the mean service time.
func TestReportLag(t *testing.T) {
	cfg := demoConfig(10 * time.Minute) // service 300ms: the bound is 15ms
	result := func(lags ...time.Duration) *Result {
		r := &Result{Arrived: 10, Served: 10, Latencies: make([]time.Duration, 10)}
		for _, l := range lags {
			r.Lag.add(l)
		}
		return r
	}
	for _, tc := range []struct {
		name  string
		real  bool
		r     *Result
		warn  bool
		shown []string
	}{
		{"on time", true, result(0, 0, 0), false, []string{"timer lag  mean 0s   p99 0s   max 0s   (3 wake-ups, model time; within tolerance)"}},
		{"at the bound", true, result(10*time.Millisecond, 20*time.Millisecond), false, []string{"timer lag  mean 15ms   p99 20ms   max 20ms"}},
		{"past the bound", true, result(10*time.Millisecond, 20*time.Millisecond+2), true, []string{
			"timer lag  mean 15ms   p99 20ms   max 20ms   (2 wake-ups, model time)",
			"fired 15ms late on average (model time), more than 5% of the 300ms mean",
			"Try a lower --speed (20 or less might hold)."}},
		{"far past", true, result(0, 200*time.Millisecond), true, []string{"mean 100ms   p99 200ms   max 200ms", "(4 or less might hold)"}},
		{"hopeless", true, result(time.Hour), true, []string{"mean 1h0m0s", "Try a lower --speed.\n"}},
		{"simulated", false, result(time.Hour), false, nil}, // never in a simulation; and no lag line
	} {
		var b bytes.Buffer
		o := &options{cfg: cfg, real: tc.real, speed: 60}
		report(&b, o, tc.r)
		out := b.String()
		if got := strings.Contains(out, "WARNING"); got != tc.warn {
			t.Errorf("%s: warning shown %v, want %v:\n%s", tc.name, got, tc.warn, out)
		}
		if got := strings.Contains(out, "latency    p50"); got == tc.warn {
			t.Errorf("%s: latency shown %v with warning %v:\n%s", tc.name, got, tc.warn, out)
		}
		if got := strings.Contains(out, "timer lag"); got != tc.real {
			t.Errorf("%s: lag line shown %v, want %v:\n%s", tc.name, got, tc.real, out)
		}
		for _, want := range tc.shown {
			if !strings.Contains(out, want) {
				t.Errorf("%s: report lacks %q:\n%s", tc.name, want, out)
			}
		}
		if got := strings.Contains(chart(o, tc.r), "not the model&#39;s figures: timers fired"); got != tc.warn {
			t.Errorf("%s: chart warning %v, want %v", tc.name, got, tc.warn)
		}
	}
}

func TestLagQuantile(t *testing.T) {
	var l Lag
	if l.Mean() != 0 || l.Quantile(0.99) != 0 {
		t.Error("an empty Lag is not 0")
	}
	for range 90 {
		l.add(0)
	}
	for i := range 10 {
		l.add(time.Duration(10-i) * time.Millisecond) // 10ms down to 1ms
	}
	l.add(-time.Millisecond) // early (cannot happen): counts as on time
	if l.N != 101 || l.Max != 10*time.Millisecond || l.Sum != 55*time.Millisecond {
		t.Errorf("N %d, Max %v, Sum %v", l.N, l.Max, l.Sum)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 0}, {0.5, 0}, {0.91, 1 * time.Millisecond}, {0.95, 5 * time.Millisecond}, {0.99, 9 * time.Millisecond}, {1, 10 * time.Millisecond}} {
		if got := l.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	l.scale(2)
	if l.Max != 20*time.Millisecond || l.Sum != 110*time.Millisecond || l.Quantile(1) != 20*time.Millisecond {
		t.Errorf("scaled: %+v", l)
	}
}

// A wall-clock run's measurements are reported in model time: every duration
// (latencies, the timeline, the timer lag) is multiplied by the speed.
func TestToModelTime(t *testing.T) {
	ms := time.Millisecond
	r := &Result{Arrived: 3, Latencies: []time.Duration{ms, 2 * ms},
		Timeline: []Sample{{At: 10 * ms, Queue: 4, InFlight: 2, P50: ms, P95: 3 * ms}}}
	r.Lag.add(0)
	r.Lag.add(ms)
	toModelTime(r, 60)
	if r.Arrived != 3 || r.Latencies[0] != 60*ms || r.Latencies[1] != 120*ms {
		t.Errorf("latencies %v", r.Latencies)
	}
	if s := r.Timeline[0]; s != (Sample{At: 600 * ms, Queue: 4, InFlight: 2, P50: 60 * ms, P95: 180 * ms}) {
		t.Errorf("sample %+v", s)
	}
	if r.Lag.N != 2 || r.Lag.Max != 60*ms || r.Lag.Sum != 60*ms || r.Lag.Quantile(1) != 60*ms {
		t.Errorf("lag %+v", r.Lag)
	}
}
