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
