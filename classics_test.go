package tock_test

// The SimPy classics, written for tock, with the figures SimPy's own
// documentation prints for them (SimPy 3's docs/examples/code/*.out, from
// random.seed(42) on Python 3). To compare figure for figure, pyRandom
// reproduces Python's random module: the MT19937 generator seeded as
// random.seed(int) seeds it, and random(), uniform, expovariate,
// normalvariate and randint computed as CPython computes them. The models
// draw their numbers in the order the SimPy models do.

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

// pyRandom is CPython's random.Random (Mersenne Twister MT19937).
type pyRandom struct {
	mt  [624]uint32
	idx int
}

// newPyRandom is random.Random(seed) for a non-negative int seed below 2³².
func newPyRandom(seed uint32) *pyRandom {
	r := &pyRandom{}
	r.initGenrand(19650218)
	key := []uint32{seed}
	i, j := 1, 0
	for k := max(624, len(key)); k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i, j = i+1, j+1
		if i >= 624 {
			r.mt[0], i = r.mt[623], 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0], i = r.mt[623], 1
		}
	}
	r.mt[0] = 0x80000000
	return r
}

func (r *pyRandom) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

func (r *pyRandom) uint32() uint32 {
	if r.idx >= 624 {
		for k := 0; k < 624; k++ {
			y := (r.mt[k] & 0x80000000) | (r.mt[(k+1)%624] & 0x7fffffff)
			v := r.mt[(k+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			r.mt[k] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// random is random.random(): 53 random bits in [0, 1).
func (r *pyRandom) random() float64 {
	a, b := r.uint32()>>5, r.uint32()>>6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

func (r *pyRandom) uniform(a, b float64) float64 { return a + (b-a)*r.random() }

func (r *pyRandom) expovariate(lambd float64) float64 { return -math.Log(1.0-r.random()) / lambd }

func (r *pyRandom) normalvariate(mu, sigma float64) float64 {
	magic := 4 * math.Exp(-0.5) / math.Sqrt(2.0)
	for {
		u1 := r.random()
		u2 := 1.0 - r.random()
		z := magic * (u1 - 0.5) / u2
		if z*z/4.0 <= -math.Log(u2) {
			return mu + z*sigma
		}
	}
}

// randint is random.randint(a, b) of Python 3 (rejection sampling on
// getrandbits).
func (r *pyRandom) randint(a, b int) int {
	n := uint32(b - a + 1)
	k := bits.Len32(n)
	for {
		if v := r.uint32() >> (32 - k); v < n {
			return a + int(v)
		}
	}
}

func TestPyRandom(t *testing.T) {
	// Python 3: random.seed(42); random.random() -> 0.6394267984578837,
	// 0.025010755222666936; random.seed(42); random.randint(1, 10) -> 2.
	r := newPyRandom(42)
	if a, b := r.random(), r.random(); a != 0.6394267984578837 || b != 0.025010755222666936 {
		t.Errorf("random() = %v, %v", a, b)
	}
	if v := newPyRandom(42).randint(1, 10); v != 2 {
		t.Errorf("randint(1, 10) = %d", v)
	}
}

// secs converts model time (seconds or minutes: one unit is one virtual
// second) to a Duration, rounded to the nanosecond.
func secs(x float64) time.Duration { return time.Duration(math.Round(x * 1e9)) }

func since(ctx context.Context) float64 { return tock.Now(ctx).Sub(sim.DefaultStart).Seconds() }

// out collects a model's printed lines.
type out struct{ strings.Builder }

func (o *out) printf(format string, args ...any) { fmt.Fprintf(&o.Builder, format+"\n", args...) }

func checkOutput(t *testing.T, got, want string) {
	t.Helper()
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("output:\n%s\nwant (SimPy's published output):\n%s", got, want)
	}
}

// Bank renege (SimPy example bank_renege.py): one counter; customers
// arrive about every 10 time units, wait at most uniform(1, 3) for the
// counter (reneging with a tock.WithTimeout), and are served for
// expovariate(1/12).
func TestSimPyBankRenege(t *testing.T) {
	checkLeaks(t)
	var o out
	o.printf("Bank renege")
	rnd := newPyRandom(42)
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		counter := tock.NewSemaphore(1)
		customer := func(ctx context.Context, name string) error {
			arrive := since(ctx)
			o.printf("%7.4f %s: Here I am", arrive, name)
			patience := rnd.uniform(1, 3)
			tctx, cancel := tock.WithTimeout(ctx, secs(patience))
			err := counter.Acquire(tctx)
			cancel()
			wait := since(ctx) - arrive
			if err != nil {
				o.printf("%7.4f %s: RENEGED after %6.3f", since(ctx), name, wait)
				return nil
			}
			defer counter.Release()
			o.printf("%7.4f %s: Waited %6.3f", since(ctx), name, wait)
			tock.Sleep(ctx, secs(rnd.expovariate(1.0/12.0)))
			o.printf("%7.4f %s: Finished", since(ctx), name)
			return nil
		}
		g := tock.NewGroup(ctx)
		for i := range 5 {
			g.Go(func(ctx context.Context) error { return customer(ctx, fmt.Sprintf("Customer%02d", i)) })
			tock.Sleep(ctx, secs(rnd.expovariate(1.0/10.0)))
		}
		return g.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, o.String(), `Bank renege
 0.0000 Customer00: Here I am
 0.0000 Customer00: Waited  0.000
 3.8595 Customer00: Finished
10.2006 Customer01: Here I am
10.2006 Customer01: Waited  0.000
12.7265 Customer02: Here I am
13.9003 Customer02: RENEGED after  1.174
23.7507 Customer01: Finished
34.9993 Customer03: Here I am
34.9993 Customer03: Waited  0.000
37.9599 Customer03: Finished
40.4798 Customer04: Here I am
40.4798 Customer04: Waited  0.000
43.1401 Customer04: Finished`)
}

// Car wash (SimPy example carwash.py): 2 machines, a wash takes 5 minutes,
// 4 cars at the start and then one every randint(5, 9) minutes, for 20
// minutes (sim.For). Each wash runs as a task of its own that the car waits
// for, as in SimPy.
func TestSimPyCarWash(t *testing.T) {
	checkLeaks(t)
	var o out
	rnd := newPyRandom(42)
	sim.Run(context.Background(), func(ctx context.Context) error {
		machines := tock.NewSemaphore(2)
		wash := func(ctx context.Context, car string) error {
			if err := tock.Sleep(ctx, secs(5)); err != nil {
				return err
			}
			o.printf("Carwashed removed %d%% of %s's dirt.", rnd.randint(50, 99), car)
			return nil
		}
		car := func(ctx context.Context, name string) error {
			if err := machines.Acquire(ctx); err != nil {
				return err
			}
			defer machines.Release()
			o.printf("%s enters the carwash at %.2f.", name, since(ctx))
			w := tock.NewGroup(ctx)
			w.Go(func(ctx context.Context) error { return wash(ctx, name) })
			if err := w.Wait(); err != nil {
				return err
			}
			o.printf("%s leaves the carwash at %.2f.", name, since(ctx))
			return nil
		}
		g := tock.NewGroup(ctx)
		// SimPy starts a process ahead of the events already due at its
		// instant, so a car arrives (and says so) when it is created.
		arrive := func(i int) {
			name := fmt.Sprintf("Car %d", i)
			o.printf("%s arrives at the carwash at %.2f.", name, since(ctx))
			g.Go(func(ctx context.Context) error { return car(ctx, name) })
		}
		i := 0
		for ; i < 4; i++ {
			arrive(i)
		}
		for ; ; i++ {
			if err := tock.Sleep(ctx, secs(float64(rnd.randint(5, 9)))); err != nil {
				break
			}
			arrive(i)
		}
		return g.Wait()
	}, sim.For(20*time.Second))
	checkOutput(t, o.String(), `Car 0 arrives at the carwash at 0.00.
Car 1 arrives at the carwash at 0.00.
Car 2 arrives at the carwash at 0.00.
Car 3 arrives at the carwash at 0.00.
Car 0 enters the carwash at 0.00.
Car 1 enters the carwash at 0.00.
Car 4 arrives at the carwash at 5.00.
Carwashed removed 97% of Car 0's dirt.
Carwashed removed 67% of Car 1's dirt.
Car 0 leaves the carwash at 5.00.
Car 1 leaves the carwash at 5.00.
Car 2 enters the carwash at 5.00.
Car 3 enters the carwash at 5.00.
Car 5 arrives at the carwash at 10.00.
Carwashed removed 64% of Car 2's dirt.
Carwashed removed 58% of Car 3's dirt.
Car 2 leaves the carwash at 10.00.
Car 3 leaves the carwash at 10.00.
Car 4 enters the carwash at 10.00.
Car 5 enters the carwash at 10.00.
Carwashed removed 97% of Car 4's dirt.
Carwashed removed 56% of Car 5's dirt.
Car 4 leaves the carwash at 15.00.
Car 5 leaves the carwash at 15.00.
Car 6 arrives at the carwash at 16.00.
Car 6 enters the carwash at 16.00.`)
}

// Gas station refuelling (SimPy example gas_station_refuel.py): 2 pumps
// share a 200 l reservoir (a tock.Container); a control task checks the
// level every 10 s and calls a tank truck (300 s away) below 10%; cars
// arrive every randint(30, 300) s needing 50 - randint(5, 25) l at 2 l/s;
// 1000 s.
func TestSimPyGasStation(t *testing.T) {
	checkLeaks(t)
	var o out
	o.printf("Gas Station refuelling")
	rnd := newPyRandom(42)
	sim.Run(context.Background(), func(ctx context.Context) error {
		pumps := tock.NewSemaphore(2)
		reservoir := tock.NewContainer(200, 200)
		car := func(ctx context.Context, name string) error {
			tankLevel := rnd.randint(5, 25)
			o.printf("%s arriving at gas station at %.1f", name, since(ctx))
			start := since(ctx)
			if err := pumps.Acquire(ctx); err != nil {
				return err
			}
			defer pumps.Release()
			need := float64(50 - tankLevel)
			if err := reservoir.Get(ctx, need); err != nil {
				return err
			}
			if err := tock.Sleep(ctx, secs(need/2)); err != nil {
				return err
			}
			o.printf("%s finished refueling in %.1f seconds.", name, since(ctx)-start)
			return nil
		}
		truck := func(ctx context.Context) error {
			if err := tock.Sleep(ctx, secs(300)); err != nil {
				return err
			}
			o.printf("Tank truck arriving at time %d", int(since(ctx)))
			amount := reservoir.Capacity() - reservoir.Level()
			o.printf("Tank truck refuelling %.1f liters.", amount)
			return reservoir.Put(ctx, amount)
		}
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error { // the control
			for {
				if reservoir.Level()/reservoir.Capacity()*100 < 10 {
					o.printf("Calling tank truck at %d", int(since(ctx)))
					tg := tock.NewGroup(ctx)
					tg.Go(truck)
					if err := tg.Wait(); err != nil {
						return err
					}
				}
				if err := tock.Sleep(ctx, secs(10)); err != nil {
					return err
				}
			}
		})
		g.Go(func(ctx context.Context) error { // the car generator
			for i := 0; ; i++ {
				if err := tock.Sleep(ctx, secs(float64(rnd.randint(30, 300)))); err != nil {
					return err
				}
				g.Go(func(ctx context.Context) error { return car(ctx, fmt.Sprintf("Car %d", i)) })
			}
		})
		return g.Wait()
	}, sim.For(1000*time.Second))
	checkOutput(t, o.String(), `Gas Station refuelling
Car 0 arriving at gas station at 87.0
Car 0 finished refueling in 18.5 seconds.
Car 1 arriving at gas station at 129.0
Car 1 finished refueling in 19.0 seconds.
Car 2 arriving at gas station at 284.0
Car 2 finished refueling in 21.0 seconds.
Car 3 arriving at gas station at 385.0
Car 3 finished refueling in 13.5 seconds.
Car 4 arriving at gas station at 459.0
Calling tank truck at 460
Car 4 finished refueling in 22.0 seconds.
Car 5 arriving at gas station at 705.0
Car 6 arriving at gas station at 750.0
Tank truck arriving at time 760
Tank truck refuelling 188.0 liters.
Car 6 finished refueling in 29.0 seconds.
Car 5 finished refueling in 76.5 seconds.
Car 7 arriving at gas station at 891.0
Car 7 finished refueling in 13.0 seconds.`)
}

// Machine shop (SimPy example machine_shop.py): 10 machines make parts
// (normalvariate(10, 2) minutes each) and break down (expovariate(1/300));
// one repairman (a Preemptive PriorityLimiter) repairs them in 30 minutes
// at priority 1, preempting his other jobs (30 minutes, priority 2), which
// resume afterwards; 4 weeks. A breakdown interrupts the part in progress
// by cancelling the context it is made with.
func TestSimPyMachineShop(t *testing.T) {
	checkLeaks(t)
	rnd := newPyRandom(42)
	type machine struct {
		parts     int
		broken    bool
		interrupt context.CancelFunc
	}
	machines := make([]*machine, 10)
	sim.Run(context.Background(), func(ctx context.Context) error {
		repairman := tock.NewPriorityLimiter(1, tock.Preemptive())
		g := tock.NewGroup(ctx)
		working := func(ctx context.Context, m *machine) error {
			for {
				doneIn := rnd.normalvariate(10, 2)
				for doneIn != 0 {
					wctx, cancel := tock.WithCancel(ctx)
					m.interrupt = cancel
					start := since(ctx)
					err := tock.Sleep(wctx, secs(doneIn))
					cancel()
					if ctx.Err() != nil {
						return ctx.Err()
					}
					if err == nil {
						doneIn = 0
						continue
					}
					m.broken = true
					doneIn -= since(ctx) - start
					p, err := repairman.Acquire(ctx, 1)
					if err != nil {
						return err
					}
					err = tock.Sleep(ctx, secs(30))
					p.Release()
					if err != nil {
						return err
					}
					m.broken = false
				}
				m.parts++
			}
		}
		breaking := func(ctx context.Context, m *machine) error {
			for {
				if err := tock.Sleep(ctx, secs(rnd.expovariate(1/300.0))); err != nil {
					return err
				}
				if !m.broken {
					m.interrupt()
				}
			}
		}
		for i := range machines {
			m := &machine{}
			machines[i] = m
			g.Go(func(ctx context.Context) error { return working(ctx, m) })
			g.Go(func(ctx context.Context) error { return breaking(ctx, m) })
		}
		g.Go(func(ctx context.Context) error { // the repairman's other jobs
			for {
				doneIn := 30.0
				for doneIn != 0 {
					p, err := repairman.Acquire(ctx, 2)
					if err != nil {
						return err
					}
					start := since(ctx)
					err = tock.Sleep(p.Context(), secs(doneIn))
					p.Release()
					if ctx.Err() != nil {
						return ctx.Err()
					}
					if err == nil {
						doneIn = 0
					} else {
						doneIn -= since(ctx) - start
					}
				}
			}
		})
		return g.Wait()
	}, sim.For(4*7*24*60*time.Second))
	var o out
	o.printf("Machine shop results after 4 weeks")
	for i, m := range machines {
		o.printf("Machine %d made %d parts.", i, m.parts)
	}
	checkOutput(t, o.String(), `Machine shop results after 4 weeks
Machine 0 made 3251 parts.
Machine 1 made 3273 parts.
Machine 2 made 3242 parts.
Machine 3 made 3343 parts.
Machine 4 made 3387 parts.
Machine 5 made 3244 parts.
Machine 6 made 3269 parts.
Machine 7 made 3185 parts.
Machine 8 made 3302 parts.
Machine 9 made 3279 parts.`)
}
