package sim

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal"
)

// ---- schedule exploration ----
//
// A simulation run is FIFO: the tasks runnable at an instant run in the order
// they became runnable. Explore runs a program under other orders too. The
// choice points of a run are: which of the tasks runnable at an instant runs
// next; the order of the timers due at the same instant; whether a
// checkpoint (tock.Yield, a Put on a Queue or Channel, a Semaphore's
// acquire, every AnyIO-style checkpoint) gives way to the other runnable
// tasks or goes on; and, with Jitter, how late each timer fires. Nothing else
// is a choice: the virtual clock, and each primitive's own contract (FIFO
// hand-off to its waiters, the wake-up wins), hold under every schedule.
//
// A schedule is the sequence of choices of one run; FIFO takes choice 0 at
// every point. Each schedule that Explore tries is drawn from its base seed
// (BaseSeed) and its number, with a PCG generator: the same options give the
// same schedules, byte for byte. A run is identified exactly by its
// deviations from FIFO (the choice points, numbered in the order the run
// reaches them, where it did not take choice 0). A ScheduleError's Seed
// encodes those deviations ("tock1:" and base64url of varints: the jitter,
// then each deviation's index delta and choice), so it replays the reported
// schedule without the strategy that found it.

// DefaultSchedules is how many schedules Explore tries unless Schedules is
// given.
const DefaultSchedules = 1000

// traceTail is how many of the failing schedule's last events a
// ScheduleError keeps in Trace.
const traceTail = 32

// shrinkBudget bounds the runs that shrinking a failing schedule may take.
const shrinkBudget = 5000

// exploreConfig holds the exploration options of a config.
type exploreConfig struct {
	strategy     internal.Strategy
	hasStrategy  bool
	depth        int
	schedules    int
	hasSchedules bool
	jitter       time.Duration
	hasReplay    bool
	replay       seedData
	base         uint64
	report       *ExploreStats

	run *internal.Schedule // the schedule Explore hands to one Run
}

func (c *config) ex() *exploreConfig {
	if c.x == nil {
		c.x = &exploreConfig{base: 1}
	}
	return c.x
}

// schedule is the schedule a Run with these options follows, or nil for
// FIFO.
func (x *exploreConfig) schedule() *internal.Schedule {
	switch {
	case x.run != nil:
		return x.run
	case x.hasReplay:
		return internal.NewSchedule(internal.ScheduleConfig{Replay: x.replay.devs, Jitter: x.replay.jitter, NoRecord: true})
	case x.hasStrategy:
		sc := x.scheduleConfig(0, 1000)
		sc.NoRecord = true
		return internal.NewSchedule(sc)
	case x.jitter > 0:
		return internal.NewSchedule(internal.ScheduleConfig{Seed: [2]uint64{x.base, 0}, Jitter: x.jitter, JitterRandom: true, NoRecord: true})
	}
	return nil
}

// scheduleConfig is schedule number i's, for a program of about length
// steps (PCT's estimate).
func (x *exploreConfig) scheduleConfig(i int, length uint64) internal.ScheduleConfig {
	strat := internal.Random
	if x.hasStrategy {
		strat = x.strategy
	}
	return internal.ScheduleConfig{
		Strategy: strat,
		Seed:     [2]uint64{x.base, uint64(i)},
		Depth:    x.depth,
		Length:   length,
		Jitter:   x.jitter,
	}
}

// Schedules sets how many schedules Explore tries (default
// DefaultSchedules), the first one being FIFO. It panics if n < 1. In
// Test, it turns exploration on.
func Schedules(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("tock/sim: Schedules: n must be at least 1, got %d", n))
	}
	return func(c *config) { x := c.ex(); x.schedules, x.hasSchedules = n, true }
}

// Random makes every choice uniformly among its options (Explore's default
// strategy). Given to Run, the run follows one random schedule drawn from
// the base seed (BaseSeed). In Test, it turns exploration on.
func Random() Option {
	return func(c *config) { x := c.ex(); x.strategy, x.hasStrategy = internal.Random, true }
}

// PCT makes the choices by probabilistic concurrency testing (Burckhardt et
// al., ASPLOS 2010): each task gets a random priority when it is first
// runnable, the highest-priority runnable task runs, and at depth-1 random
// steps of the run the task that ran last drops below every other. It finds
// a bug that needs depth ordering constraints with a probability that does
// not shrink with the length of the run as fast as Random's does. Explore
// sizes the change points on the length of its first (FIFO) schedule; a
// plain Run assumes 1,000 steps. Checkpoints always give way under PCT (the
// priorities decide who runs) and same-instant timers keep their order. It
// panics if depth < 1. In Test, it turns exploration on.
func PCT(depth int) Option {
	if depth < 1 {
		panic(fmt.Sprintf("tock/sim: PCT: depth must be at least 1, got %d", depth))
	}
	return func(c *config) {
		x := c.ex()
		x.strategy, x.hasStrategy, x.depth = internal.PCT, true, depth
	}
}

// Jitter makes every timer (a sleep, a deadline) fire up to d late, the
// delay drawn from the schedule (0 under FIFO, so Explore's first schedule
// has none). Sleeps of zero or less stay checkpoints. Given alone to Run,
// the delays are drawn from the base seed. It panics if d < 0.
func Jitter(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("tock/sim: Jitter: negative duration %v", d))
	}
	return func(c *config) { c.ex().jitter = d }
}

// BaseSeed sets the seed that Explore draws its schedules from (default 1):
// schedule i uses the PCG generator seeded with (seed, i). A Run given
// Random or PCT uses (seed, 0).
func BaseSeed(seed uint64) Option { return func(c *config) { c.ex().base = seed } }

// Replay makes Run or Explore run exactly the schedule that seed, a
// ScheduleError's Seed, encodes (its jitter setting included, whatever
// Jitter says). Explore then runs that one schedule and does not shrink it.
// It panics if seed is malformed.
func Replay(seed string) Option {
	d, err := decodeSeed(seed)
	if err != nil {
		panic("tock/sim: Replay: " + err.Error())
	}
	return func(c *config) { x := c.ex(); x.replay, x.hasReplay = d, true }
}

// Report makes Explore (and Test) fill *st with figures of the exploration
// when it returns.
func Report(st *ExploreStats) Option { return func(c *config) { c.ex().report = st } }

// ExploreStats describes one Explore call.
type ExploreStats struct {
	Schedules  int           // schedules run while searching (FIFO's included)
	ShrinkRuns int           // runs spent shrinking the failing schedule (and replaying it)
	Workers    int           // schedules run in parallel (GOMAXPROCS)
	Elapsed    time.Duration // wall time of the whole call
	Failed     int           // the failing schedule's number, 0 if every one passed
	Deviations int           // deviations from FIFO of the reported schedule: before shrinking, and after
	Shrunk     int
}

// PerSecond is how many runs (searching and shrinking) Explore made per
// second of wall time.
func (s ExploreStats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Schedules+s.ShrinkRuns) / s.Elapsed.Seconds()
}

// ScheduleError is what Explore returns when a schedule fails: main returned
// an error, panicked (Err is the *tock.PanicError), deadlocked (a
// *DeadlockError), or stalled.
type ScheduleError struct {
	Seed     string   // replays exactly this (shrunk) schedule: sim.Replay(Seed) or TOCK_SEED=Seed in Test
	Schedule int      // how many schedules ran, this one included (its number; the first is FIFO)
	Err      error    // what main returned (or the *DeadlockError, *StallError, *tock.PanicError)
	Trace    []string // the last events of the failing schedule: instant, task, how its step ended
	Events   uint64   // how many events the failing schedule had

	deviations int              // of the reported schedule
	found      int              // of the schedule as found, before shrinking
	unstable   bool             // the schedule did not fail the same way again
	full       []internal.Event // every event of the reported run (Test's replay check)
	sig        string
}

// Error is the error, the tail of the trace, and the line that replays it.
func (e *ScheduleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tock/sim: schedule %d failed (%d deviation(s) from FIFO", e.Schedule, e.deviations)
	if e.found != e.deviations {
		fmt.Fprintf(&b, ", shrunk from %d", e.found)
	}
	fmt.Fprintf(&b, "): %v", e.Err)
	if e.unstable {
		b.WriteString("\nthe schedule did not fail the same way again when replayed: the program is not deterministic (it depends on state shared between runs, map order, the wall clock or goroutines outside the simulation)")
	}
	if len(e.Trace) > 0 {
		fmt.Fprintf(&b, "\nlast %d of %d events:", len(e.Trace), e.Events)
		for _, l := range e.Trace {
			b.WriteString("\n\t")
			b.WriteString(l)
		}
	}
	fmt.Fprintf(&b, "\nreplay: sim.Replay(%q), or TOCK_SEED=%s go test", e.Seed, e.Seed)
	return b.String()
}

// Unwrap returns Err.
func (e *ScheduleError) Unwrap() error { return e.Err }

// Explore runs main under many schedules and returns nil if every one
// passed, or a *ScheduleError for the first that failed (main returned an
// error, panicked, deadlocked or stalled), after shrinking it.
//
// Schedule 1 is FIFO (a plain Run); the others follow the strategy (Random
// unless PCT is given), Schedules of them in all. The schedules run in
// parallel on GOMAXPROCS goroutines, each simulation single-threaded, so main
// is called concurrently and must not share mutable state between calls
// (make the state inside main). Whatever the parallelism, Explore reports the
// lowest-numbered failing schedule. It then shrinks it: delta debugging over
// its deviations from FIFO finds a schedule with as few of them as it can
// (1-minimal: dropping any one makes it pass, or fail another way) that still
// fails the same way: the same kind of failure (error, panic, deadlock,
// stall) with
// the same text, modulo hexadecimal addresses, goroutine numbers and
// durations (such as "1.5s"), where a
// panic compares its value (not its stack) and a deadlock its blocked tasks
// and what they wait on (not its instant), a stall its task. The shrunk
// schedule is run once more to record its trace.
//
// Every run has the misuse checks of Checked on. A schedule that stalls
// costs the stall timeout (StallTimeout) of wall time each time it is run,
// shrinking included: give a short one to explore a program that may
// stall.
//
// With Replay, Explore runs exactly that schedule, once. The other options
// (Start, Until, For, ...) apply to every run. If ctx is cancelled, Explore
// stops and returns ctx's error. Explore panics, before running anything,
// on the programming errors Run panics on (a nil ctx, main or Option, an
// Until before the start).
func Explore(ctx context.Context, main func(ctx context.Context) error, opts ...Option) error {
	c := checkRun("Explore", ctx, main, opts) // as Run would panic, before running anything
	x := c.ex()
	began := time.Now()
	st := ExploreStats{Workers: 1}
	defer func() {
		if x.report != nil {
			st.Elapsed = time.Since(began)
			*x.report = st
		}
	}()

	if x.hasReplay {
		o := runSchedule(ctx, main, opts, internal.ScheduleConfig{Replay: x.replay.devs, Jitter: x.replay.jitter, Trace: -1})
		st.Schedules = 1
		if o.err == nil {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		st.Failed, st.Deviations, st.Shrunk = 1, len(o.devs), len(o.devs)
		return o.scheduleError(1, len(o.devs), x.replay.jitter)
	}

	n := DefaultSchedules
	if x.hasSchedules {
		n = x.schedules
	}
	fifo := runSchedule(ctx, main, opts, internal.ScheduleConfig{Jitter: x.jitter})
	st.Schedules = 1
	if err := ctx.Err(); err != nil {
		return err
	}
	failed, fail := 0, fifo
	if fifo.err != nil {
		failed = 1
	} else if n > 1 {
		w := runtime.GOMAXPROCS(0)
		st.Workers = w
		var (
			next   atomic.Int64
			best   atomic.Int64
			ran    atomic.Int64
			mu     sync.Mutex
			wg     sync.WaitGroup
			result = map[int]outcome{}
		)
		next.Store(2)
		best.Store(int64(n) + 1)
		for range w {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					i := next.Add(1) - 1
					if i > int64(n) || i >= best.Load() {
						return
					}
					o := runSchedule(ctx, main, opts, x.scheduleConfig(int(i), fifo.steps))
					ran.Add(1)
					if o.err == nil {
						continue
					}
					mu.Lock()
					result[int(i)] = o
					mu.Unlock()
					for b := best.Load(); i < b && !best.CompareAndSwap(b, i); b = best.Load() {
					}
				}
			}()
		}
		wg.Wait()
		st.Schedules += int(ran.Load())
		if err := ctx.Err(); err != nil {
			return err
		}
		if b := int(best.Load()); b <= n {
			failed, fail = b, result[b]
		}
	}
	if failed == 0 {
		return nil
	}
	st.Failed = failed
	st.Deviations = len(fail.devs)

	// shrink
	budget := shrinkBudget
	replay := func(devs []internal.Deviation, trace int) outcome {
		st.ShrinkRuns++
		budget--
		return runSchedule(ctx, main, opts, internal.ScheduleConfig{Replay: devs, Jitter: x.jitter, Trace: trace})
	}
	devs := fail.devs
	unstable := false
	if o := replay(devs, 0); o.err == nil || o.sig != fail.sig {
		unstable = true // it does not fail again: nothing to shrink against
	} else {
		devs = ddmin(devs, func(cand []internal.Deviation) ([]internal.Deviation, bool) {
			if budget <= 0 || ctx.Err() != nil {
				return nil, false
			}
			o := replay(cand, 0)
			return o.devs, o.err != nil && o.sig == fail.sig
		})
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	final := replay(devs, -1)
	if final.err == nil || final.sig != fail.sig {
		unstable = true
		final.err, final.sig = fail.err, fail.sig
	}
	st.Shrunk = len(final.devs)
	e := final.scheduleError(failed, len(fail.devs), x.jitter)
	e.unstable = unstable
	return e
}

// Test runs main as a test: one FIFO run, or Explore when Schedules, Random
// or PCT is given, and fails t (t.Fatal, from the goroutine that called
// Test) with the error's text and the command that replays it. The runs
// take t.Context(). If the environment variable TOCK_SEED is set, Test runs
// exactly the schedule it encodes (as Replay does), whatever the other
// options say, and logs it if it passes; a malformed TOCK_SEED fails t.
//
// A failing schedule is run once more to confirm it replays. If it does not
// (it fails another way, or passes, or takes other steps), Test reports that
// the program is not deterministic, with the first event at which the two
// runs diverge. When it explored, Test logs how many schedules it ran, and
// how many per second. Test panics on the programming errors Run panics
// on.
func Test(t testing.TB, main func(ctx context.Context) error, opts ...Option) {
	t.Helper()
	seed := os.Getenv("TOCK_SEED")
	if seed != "" {
		if _, err := decodeSeed(seed); err != nil {
			t.Fatalf("tock/sim: TOCK_SEED: %v", err)
			return
		}
		opts = append(opts[:len(opts):len(opts)], Replay(seed))
	}
	c := checkRun("Test", t.Context(), main, opts)
	explores := c.x != nil && (c.x.hasSchedules || c.x.hasStrategy || c.x.hasReplay)
	if !explores {
		opts = append(opts[:len(opts):len(opts)], Schedules(1))
	}
	var st ExploreStats
	opts = append(opts[:len(opts):len(opts)], Report(&st))
	ctx := t.Context()
	err := Explore(ctx, main, opts...)
	if explores && st.Schedules > 1 {
		t.Logf("tock/sim: explored %d schedules (%d runs shrinking) in %v: %.0f runs/s on %d workers",
			st.Schedules, st.ShrinkRuns, st.Elapsed.Round(time.Millisecond), st.PerSecond(), st.Workers)
	}
	if err == nil {
		if seed != "" {
			t.Logf("tock/sim: TOCK_SEED=%s replayed: the schedule passes", seed)
		}
		return
	}
	var se *ScheduleError
	if !errors.As(err, &se) {
		t.Fatal(err)
		return
	}
	msg := err.Error() + fmt.Sprintf("\nrerun: TOCK_SEED=%s go test -run '%s'", se.Seed, runPattern(t.Name()))
	if !se.unstable {
		d, _ := decodeSeed(se.Seed)
		again := runSchedule(ctx, main, opts, internal.ScheduleConfig{Replay: d.devs, Jitter: d.jitter, Trace: -1})
		if d := diverge(se, again); d != "" {
			msg += "\n" + d
		}
	}
	t.Fatal(msg)
}

// runPattern is the -run pattern that selects exactly the test named name
// (subtests included).
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// diverge compares a reported failing run with its replay: "" if the replay
// is the same run, else where they differ.
func diverge(e *ScheduleError, o outcome) string {
	const head = "tock/sim: the failing schedule does not replay: the program is not deterministic (it depends on state shared between runs, map order, the wall clock or goroutines outside the simulation)"
	n := min(len(e.full), len(o.trace))
	for i := 0; i < n; i++ {
		if e.full[i] != o.trace[i] {
			return fmt.Sprintf("%s; first diverging event, #%d:\n\tfirst run: %s\n\treplay:    %s", head, i+1, e.full[i], o.trace[i])
		}
	}
	switch {
	case len(e.full) != len(o.trace):
		ev := func(t []internal.Event) string {
			if n < len(t) {
				return t[n].String()
			}
			return "(the run ended)"
		}
		return fmt.Sprintf("%s; first diverging event, #%d:\n\tfirst run: %s\n\treplay:    %s", head, n+1, ev(e.full), ev(o.trace))
	case o.err == nil:
		return head + "; the replay took the same steps and passed"
	case o.sig != e.sig:
		return fmt.Sprintf("%s; the replay took the same steps and failed another way: %v", head, o.err)
	}
	return ""
}

// ---- one run ----

// outcome is how one run under a schedule ended.
type outcome struct {
	err   error
	sig   string // the failure's identity for shrinking
	devs  []internal.Deviation
	steps uint64
	trace []internal.Event
	total uint64
}

// runSchedule runs main once under the schedule sc describes, with opts.
func runSchedule(ctx context.Context, main func(ctx context.Context) error, opts []Option, sc internal.ScheduleConfig) outcome {
	x := internal.NewSchedule(sc)
	o := append(opts[:len(opts):len(opts)], Checked(), func(c *config) { c.ex().run = x })
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				if pe, ok := r.(*tock.PanicError); ok {
					err = pe
				} else {
					err = &tock.PanicError{Value: r, Stack: debug.Stack()}
				}
			}
		}()
		return Run(ctx, main, o...)
	}()
	out := outcome{err: err, devs: x.Deviations()}
	var stall *StallError
	if !errors.As(err, &stall) && ctx.Err() == nil {
		out.steps = x.Steps() // the run has ended (a stalled one may go on)
	}
	if err != nil {
		out.sig = signature(err)
	}
	if sc.Trace != 0 {
		out.trace, out.total = x.Trace()
	}
	return out
}

func (o outcome) scheduleError(schedule, found int, jitter time.Duration) *ScheduleError {
	e := &ScheduleError{
		Seed:       encodeSeed(seedData{jitter: jitter, devs: o.devs}),
		Schedule:   schedule,
		Err:        o.err,
		Events:     o.total,
		deviations: len(o.devs),
		found:      found,
		full:       o.trace,
		sig:        o.sig,
	}
	tail := o.trace[max(0, len(o.trace)-traceTail):]
	for _, ev := range tail {
		e.Trace = append(e.Trace, ev.String())
	}
	return e
}

var (
	hexAddr   = regexp.MustCompile(`0x[0-9a-fA-F]+`)
	goroutine = regexp.MustCompile(`goroutine [0-9]+`)
	wallTime  = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?(ns|µs|us|ms|s|m|h)\b`)
)

// normalize drops what differs between two runs of one failure: addresses,
// goroutine numbers, and durations (a stall reports how long it waited).
func normalize(s string) string {
	s = hexAddr.ReplaceAllString(s, "0x?")
	s = goroutine.ReplaceAllString(s, "goroutine ?")
	return wallTime.ReplaceAllString(s, "<duration>")
}

// signature is what "fails the same way" compares: the kind of failure (its
// error type) and its text, modulo addresses, goroutine numbers and
// durations; a panic's value, not its stack; a deadlock's blocked tasks and
// what they wait on, not its instant; a stall's task.
func signature(err error) string {
	var pe *tock.PanicError
	if errors.As(err, &pe) {
		for {
			q, ok := pe.Value.(*tock.PanicError)
			if !ok {
				break
			}
			pe = q
		}
		return "panic: " + normalize(fmt.Sprint(pe.Value))
	}
	var se *StallError
	if errors.As(err, &se) {
		return "stall: " + se.Task
	}
	var de *DeadlockError
	if errors.As(err, &de) {
		var b strings.Builder
		b.WriteString("deadlock:")
		for _, t := range de.Blocked {
			fmt.Fprintf(&b, " %s on %s;", t.Task, t.WaitsOn)
		}
		return b.String()
	}
	return fmt.Sprintf("%T: %s", err, normalize(err.Error()))
}

// ddmin is delta debugging (Zeller and Hildebrandt's ddmin) over a failing
// schedule's deviations: test reports whether a candidate list still fails
// the same way and, if so, the deviations that run actually took (a subset
// of the candidate), which become the new list. The result is 1-minimal
// unless test gave up (its budget).
func ddmin(devs []internal.Deviation, test func([]internal.Deviation) ([]internal.Deviation, bool)) []internal.Deviation {
	n := 2
	for len(devs) >= 2 {
		n = min(n, len(devs))
		chunks := split(devs, n)
		reduced := false
		for _, ch := range chunks {
			if rec, ok := test(ch); ok {
				devs, n, reduced = rec, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				var cand []internal.Deviation
				for j, ch := range chunks {
					if j != i {
						cand = append(cand, ch...)
					}
				}
				if rec, ok := test(cand); ok {
					devs, n, reduced = rec, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(devs) {
				break
			}
			n = min(2*n, len(devs))
		}
	}
	return devs
}

// split cuts devs into n (<= len(devs)) runs of nearly equal length.
func split(devs []internal.Deviation, n int) [][]internal.Deviation {
	out := make([][]internal.Deviation, 0, n)
	for i := 0; i < n; i++ {
		lo, hi := i*len(devs)/n, (i+1)*len(devs)/n
		out = append(out, devs[lo:hi:hi])
	}
	return out
}

// ---- seeds ----

const seedPrefix = "tock1:"

// seedData is what a seed encodes: the jitter setting (which decides where
// the jitter choice points are) and the deviations from FIFO.
type seedData struct {
	jitter time.Duration
	devs   []internal.Deviation
}

// encodeSeed is "tock1:" and the base64url (no padding) of uvarints: the
// jitter in nanoseconds, the number of deviations, then for each its index
// less the previous one's index plus one, and its choice.
func encodeSeed(d seedData) string {
	b := binary.AppendUvarint(nil, uint64(d.jitter))
	b = binary.AppendUvarint(b, uint64(len(d.devs)))
	var next uint64
	for _, v := range d.devs {
		b = binary.AppendUvarint(b, v.Index-next)
		b = binary.AppendUvarint(b, v.Choice)
		next = v.Index + 1
	}
	return seedPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func decodeSeed(s string) (seedData, error) {
	var d seedData
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), seedPrefix)
	if !ok {
		return d, fmt.Errorf("malformed seed %q: it does not start with %q (a seed comes from a ScheduleError)", s, seedPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return d, fmt.Errorf("malformed seed %q: %v", s, err)
	}
	read := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	j, ok1 := read()
	cnt, ok2 := read()
	if !ok1 || !ok2 || j > 1<<62 || cnt > uint64(len(b)) {
		return d, fmt.Errorf("malformed seed %q: truncated or out of range", s)
	}
	d.jitter = time.Duration(j)
	var next uint64
	for i := uint64(0); i < cnt; i++ {
		delta, ok1 := read()
		choice, ok2 := read()
		if !ok1 || !ok2 || choice == 0 || delta > 1<<62 || next > 1<<62 {
			return d, fmt.Errorf("malformed seed %q: deviation %d is truncated or out of range", s, i+1)
		}
		d.devs = append(d.devs, internal.Deviation{Index: next + delta, Choice: choice})
		next += delta + 1
	}
	if len(b) != 0 {
		return d, fmt.Errorf("malformed seed %q: %d trailing byte(s)", s, len(b))
	}
	return d, nil
}
