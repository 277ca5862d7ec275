package sim_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

func TestReplicateEstimates(t *testing.T) {
	// Each replication reports its seed and a constant: the mean of 1..10
	// is 5.5, its sample sd sqrt(55/6), and the half width t(9)*sd/sqrt(10).
	model := func(ctx context.Context, seed uint64) (sim.Metrics, error) {
		tock.Sleep(ctx, time.Duration(seed)*time.Second)
		return sim.Metrics{"seed": float64(seed), "one": 1, "at": tock.Now(ctx).Sub(sim.DefaultStart).Seconds()}, nil
	}
	est, err := sim.Replicate(context.Background(), model, sim.Seeds(10))
	if err != nil {
		t.Fatal(err)
	}
	s := est["seed"]
	sd := math.Sqrt(55.0 / 6)
	if s.N != 10 || s.Mean != 5.5 || math.Abs(s.StdDev-sd) > 1e-12 || math.Abs(s.HalfWidth-2.2622*sd/math.Sqrt(10)) > 1e-12 {
		t.Errorf("seed estimate %+v", s)
	}
	if s.Low != s.Mean-s.HalfWidth || s.High != s.Mean+s.HalfWidth {
		t.Errorf("interval %+v", s)
	}
	if o := est["one"]; o.Mean != 1 || o.HalfWidth != 0 {
		t.Errorf("constant %+v", o)
	}
	if a := est["at"]; a.Mean != 5.5 {
		t.Errorf("each replication has its own clock: %+v", a)
	}
	if !strings.Contains(sim.FormatEstimates(est), "seed: 5.5 ± ") {
		t.Errorf("format: %s", sim.FormatEstimates(est))
	}
}

// Same seeds, same estimates, however the replications were spread; and a
// random model's interval covers the true mean.
func TestReplicateDeterministic(t *testing.T) {
	model := func(ctx context.Context, seed uint64) (sim.Metrics, error) {
		r := rand.New(rand.NewPCG(seed, 1))
		var sum float64
		for range 200 {
			d := r.ExpFloat64()
			tock.Sleep(ctx, time.Duration(d*float64(time.Second)))
			sum += d
		}
		return sim.Metrics{"mean": sum / 200}, nil
	}
	a, err := sim.Replicate(context.Background(), model, sim.Seeds(20))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sim.Replicate(context.Background(), model, sim.Seeds(20))
	if a["mean"] != b["mean"] {
		t.Errorf("two runs differ: %v %v", a["mean"], b["mean"])
	}
	if e := a["mean"]; e.Low > 1 || e.High < 1 {
		t.Errorf("interval %v misses the true mean 1", e)
	}
}

func TestReplicateErrors(t *testing.T) {
	boom := errors.New("boom")
	model := func(ctx context.Context, seed uint64) (sim.Metrics, error) {
		if seed%3 == 0 {
			return nil, boom
		}
		return sim.Metrics{"x": 1}, nil
	}
	est, err := sim.Replicate(context.Background(), model, sim.Seeds(7))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "seed 3") {
		t.Errorf("error %v, want boom naming seed 3", err)
	}
	if est["x"].N != 5 {
		t.Errorf("the others' estimate: %+v", est["x"])
	}
	// A deadlock in a replication is its error.
	_, err = sim.Replicate(context.Background(), func(ctx context.Context, seed uint64) (sim.Metrics, error) {
		var never tock.Event
		return nil, never.Wait(ctx)
	}, sim.Seeds(2))
	var de *sim.DeadlockError
	if !errors.As(err, &de) {
		t.Errorf("deadlock: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sim.Replicate(ctx, model, sim.Seeds(3)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("a panicking model did not panic Replicate")
		}
	}()
	sim.Replicate(context.Background(), func(ctx context.Context, seed uint64) (sim.Metrics, error) { panic("model") }, sim.Seeds(2))
}
