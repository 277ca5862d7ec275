package main

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tockgo/tock"
)

// Config is the service model's parameters. All durations are in model time:
// virtual under simulation, wall-clock divided by Speed under --real.
type Config struct {
	Duration time.Duration // how long requests keep arriving
	Rate     float64       // mean arrivals per second (a surge doubles it mid-run)
	Workers  int           // requests served at once (the CapacityLimiter's total)
	Buffer   int           // ingress queue size; a request finding it full is dropped
	Service  time.Duration // mean service time (exponentially distributed)
	Timeout  time.Duration // a request not served within this of arriving times out
	Seed     uint64
	Sample   time.Duration // how often the queue is sampled
	// Progress, if set, is called from the model about every Sample.
	Progress func(at time.Duration, r *Result)
}

// Sample is one point of the timeline.
type Sample struct {
	At       time.Duration // since the start
	Queue    int           // requests waiting in the ingress stream
	InFlight int           // requests being served
	P50, P95 time.Duration // latency of the requests served since the last sample
}

// Result is what the model measured.
type Result struct {
	Arrived, Served, Dropped, TimedOut int
	MaxQueue                           int
	Latencies                          []time.Duration // of served requests, in completion order
	Timeline                           []Sample
	Alerts                             int // samples where the queue was over 80% full
	Lag                                Lag // how late the model's timers fired
}

// Lag measures how late the model's timers fired: each arrival and each
// sample is planned at an absolute instant (computed from the model's start)
// and each service ends a fixed time after it began; the lag of one wake-up is
// how long after its planned instant it returned. In a simulation every lag
// is 0. On the wall clock it is the timers' overshoot plus any time the
// machine took to run the task: figures are only as good as the lag is small.
type Lag struct {
	N    int             // wake-ups measured
	Max  time.Duration   // the largest lag
	Sum  time.Duration   // the total, for the mean
	late []time.Duration // the non-zero lags (none in a simulation), for quantiles
}

func (l *Lag) add(d time.Duration) {
	l.N++
	if d <= 0 {
		return
	}
	l.Sum += d
	l.Max = max(l.Max, d)
	l.late = append(l.late, d)
}

// Mean is the mean lag over every measured wake-up.
func (l *Lag) Mean() time.Duration {
	if l.N == 0 {
		return 0
	}
	return l.Sum / time.Duration(l.N)
}

// Quantile is the q-quantile of the lags (nearest rank), counting the
// wake-ups that were on time as 0.
func (l *Lag) Quantile(q float64) time.Duration {
	if l.N == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(l.N))) - 1 // among all N, zeros first
	zeros := l.N - len(l.late)
	if rank < zeros {
		return 0
	}
	s := slices.Clone(l.late)
	slices.Sort(s)
	return s[min(rank-zeros, len(s)-1)]
}

// scale multiplies every lag by f (to turn wall-clock lags into model time).
func (l *Lag) scale(f float64) {
	m := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	l.Max, l.Sum = m(l.Max), m(l.Sum)
	for i, d := range l.late {
		l.late[i] = m(d)
	}
}

type request struct {
	id      int
	arrived time.Time
	service time.Duration
}

// status is the event the sampler broadcasts.
type status struct {
	sample Sample
}

// ledger is the shared state every task updates, guarded by a tock.Lock.
type ledger struct {
	mu     tock.Lock
	res    Result
	window []time.Duration
}

func (l *ledger) update(ctx context.Context, f func(r *Result)) {
	l.mu.Lock(context.WithoutCancel(ctx))
	defer l.mu.Unlock(context.WithoutCancel(ctx))
	f(&l.res)
}

// rateAt is the arrival rate at fraction x of the run: a surge of twice the
// base rate in the middle fifth.
func rateAt(base float64, x float64) float64 {
	if x >= 0.4 && x < 0.6 {
		return 2 * base
	}
	return base
}

func expDuration(rng *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(rng.ExpFloat64() * float64(mean))
}

// Run runs the model on ctx's runtime and returns what it measured. It is the
// same code under sim.Run and tock.Run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := tock.Now(ctx)
	end := start.Add(cfg.Duration)
	send, recv := tock.NewStream[request](cfg.Buffer)
	workers := tock.NewCapacityLimiter(cfg.Workers)
	statusCh := tock.NewChannel[status]()
	led := &ledger{}

	g := tock.NewGroup(ctx)

	// The recorder and the alerter each subscribe to the status broadcast.
	recorder, alerts := statusCh.Subscribe(), statusCh.Subscribe()
	g.Go(func(ctx context.Context) error {
		defer recorder.Close()
		for st := range recorder.All(ctx) {
			led.update(ctx, func(r *Result) { r.Timeline = append(r.Timeline, st.sample) })
			if cfg.Progress != nil {
				cfg.Progress(st.sample.At, &led.res)
			}
		}
		return nil
	})
	g.Go(func(ctx context.Context) error {
		defer alerts.Close()
		for st := range alerts.All(ctx) {
			if st.sample.Queue*5 > cfg.Buffer*4 {
				led.update(ctx, func(r *Result) { r.Alerts++ })
			}
		}
		return nil
	})

	// Arrivals: a Poisson process; a full ingress stream drops the request.
	// Each arrival is planned at an absolute instant, the previous one plus a
	// random gap, and slept until with SleepUntil: a timer that fires late
	// delays that one arrival, not every later one (a relative Sleep of the
	// gap would add each timer's overshoot to all the arrivals after it).
	g.Go(func(ctx context.Context) error {
		defer send.Close()
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x7065))
		at := start // the planned instant of the next arrival
		for id := 0; ; id++ {
			x := float64(at.Sub(start)) / float64(cfg.Duration)
			at = at.Add(time.Duration(rng.ExpFloat64() / rateAt(cfg.Rate, x) * float64(time.Second)))
			if !at.Before(end) {
				return nil
			}
			if err := tock.SleepUntil(ctx, at); err != nil {
				return err
			}
			now := tock.Now(ctx)
			req := request{id: id, arrived: now, service: expDuration(rng, cfg.Service)}
			err := send.TrySend(req)
			used := send.Stats().BufferUsed
			led.update(ctx, func(r *Result) {
				r.Lag.add(now.Sub(at))
				r.Arrived++
				if errors.Is(err, tock.ErrWouldBlock) {
					r.Dropped++
				}
				r.MaxQueue = max(r.MaxQueue, used)
			})
			if err != nil && !errors.Is(err, tock.ErrWouldBlock) {
				return err
			}
		}
	})

	// Dispatch: take the oldest request, wait for a free worker, serve it.
	g.Go(func(ctx context.Context) error {
		handlers := tock.NewGroup(ctx)
		for req := range recv.All(ctx) {
			if err := workers.AcquireFor(ctx, req.id); err != nil {
				handlers.Cancel()
				handlers.Wait()
				return err
			}
			handlers.Go(func(ctx context.Context) error {
				defer workers.ReleaseFor(req.id)
				return serve(ctx, cfg, led, req)
			})
		}
		return handlers.Wait()
	})

	// Sampling: broadcast the queue's state every cfg.Sample until the end,
	// at absolute instants too.
	g.Go(func(ctx context.Context) error {
		defer statusCh.Close()
		for at := cfg.Sample; at <= cfg.Duration; at += cfg.Sample {
			planned := start.Add(at)
			if err := tock.SleepUntil(ctx, planned); err != nil {
				return err
			}
			lag := tock.Now(ctx).Sub(planned)
			s := Sample{At: at, Queue: send.Stats().BufferUsed, InFlight: workers.Borrowed()}
			led.update(ctx, func(r *Result) {
				r.Lag.add(lag)
				s.P50, s.P95 = percentile(led.window, 0.50), percentile(led.window, 0.95)
				led.window = led.window[:0]
			})
			if err := statusCh.Put(ctx, status{s}); err != nil {
				return err
			}
		}
		return nil
	})

	err := g.Wait()
	return &led.res, err
}

// serve works on req until done or until its deadline.
func serve(ctx context.Context, cfg Config, led *ledger, req request) error {
	dctx, cancel := tock.WithDeadline(ctx, req.arrived.Add(cfg.Timeout))
	defer cancel()
	done := tock.Now(ctx).Add(req.service)
	err := tock.SleepUntil(dctx, done)
	if err != nil && ctx.Err() != nil {
		return err // the whole model is being cancelled
	}
	now := tock.Now(ctx)
	latency := now.Sub(req.arrived)
	led.update(ctx, func(r *Result) {
		if err != nil {
			r.TimedOut++
			return
		}
		r.Lag.add(now.Sub(done))
		r.Served++
		r.Latencies = append(r.Latencies, latency)
		led.window = append(led.window, latency)
	})
	return nil
}

// percentile returns the q-quantile of ds (nearest rank), 0 if empty.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}
