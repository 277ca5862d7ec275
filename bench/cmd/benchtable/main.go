// Command benchtable runs tock's benchmarks and their Go peers in one run and
// prints a table of ratios. Run it from the bench folder:
//
//	go run ./cmd/benchtable                 # every case, 3 rounds
//	go run ./cmd/benchtable -bench Lock -count 5
//
// The rounds are interleaved: each round runs every case once, so a row's
// samples are spread over the whole run, as its peers' are.
// Each benchmark is Benchmark<Case>/<implementation>; tock's row ("tock", or
// "tock-task" where a case has one row per kind of ctx: tock-bg, tock-task,
// tock-derived) is compared with every peer of the same case. A second table
// prints the ratios the project tracks as targets (see targets). The raw
// `go test` output is benchstat-compatible and is saved with -raw FILE.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type result struct {
	ns, allocs []float64
	extra      map[string][]float64 // memory metrics, by unit
}

var (
	// Benchmark<Case>/<implementation>: the implementation is the last
	// element, so SimSleep/1000tasks/floor is case SimSleep/1000tasks.
	line     = regexp.MustCompile(`^Benchmark(\S+)/([^/\s]+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op`)
	allocs   = regexp.MustCompile(`\s([\d.]+) allocs/op`)
	perEvent = regexp.MustCompile(`\s([\d.]+) ns/(event|task)`)
	memory   = regexp.MustCompile(`\s([\d.e+]+) (B/task|MiB-peak)`)
)

// The simulated cases are BenchmarkSim* and BenchmarkMM1; realCases are
// all the others. (Not -skip: it would also skip the synctest bubbles the
// simulated cases run with testing.RunTests.)
const (
	simCases  = `^Benchmark(Sim|MM1)`
	realCases = `^Benchmark([^SM]|S[^i]|Si[^m]|M[^M])`
)

// fail writes the output so far and err, and exits.
func fail(out []byte, err error) {
	os.Stdout.Write(out)
	fmt.Fprintln(os.Stderr, "benchtable:", err)
	os.Exit(1)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func main() {
	bench := flag.String("bench", ".", "benchmarks to run (go test -bench)")
	count := flag.Int("count", 3, "rounds, each over every case")
	benchtime := flag.String("benchtime", "300ms", "time per benchmark (go test -benchtime)")
	raw := flag.String("raw", "", "also write the raw go test output to this file")
	flag.Parse()

	// The real-runtime cases run in a process of their own, which makes no
	// simulation, as a service does: once a process has made one, a call
	// that needs only its runtime searches a derived ctx for a simulation's
	// task (see internal.DecodeRT). The simulated cases (Sim*, MM1) run in
	// a second process. A -bench of the caller's own runs as given, in one.
	patterns := []string{*bench}
	if *bench == "." {
		patterns = []string{realCases, simCases}
	}
	// The rounds are interleaved: the test binary is built once and run
	// count times over every case (-test.count 1), so that each row's
	// samples are spread over the whole run rather than taken back to
	// back. On a shared machine a slow stretch of a few seconds then moves
	// one sample of a row and of its peers, not a row's every sample.
	dir, err := os.MkdirTemp("", "benchtable")
	if err != nil {
		fail(nil, err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fail(nil, err)
	}
	var out []byte
	for round := 0; round < *count; round++ {
		for _, pat := range patterns {
			cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", pat, "-test.benchmem",
				"-test.count", "1", "-test.benchtime", *benchtime)
			cmd.Stderr = os.Stderr
			o, err := cmd.Output()
			out = append(out, o...)
			if err != nil {
				fail(out, err)
			}
		}
	}
	if *raw != "" {
		os.WriteFile(*raw, out, 0o644)
	}
	results := map[string]map[string]*result{}
	var cases []string
	impls := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		c, impl := m[1], m[2]
		if results[c] == nil {
			results[c] = map[string]*result{}
			cases = append(cases, c)
		}
		r := results[c][impl]
		if r == nil {
			r = &result{}
			results[c][impl] = r
			impls[c] = append(impls[c], impl)
		}
		ns, _ := strconv.ParseFloat(m[4], 64)
		if e := perEvent.FindStringSubmatch(sc.Text()); e != nil {
			ns, _ = strconv.ParseFloat(e[1], 64) // per simulated event, not per run
		}
		var al float64
		if a := allocs.FindStringSubmatch(sc.Text()); a != nil {
			al, _ = strconv.ParseFloat(a[1], 64)
		}
		r.ns = append(r.ns, ns)
		r.allocs = append(r.allocs, al)
		for _, x := range memory.FindAllStringSubmatch(sc.Text(), -1) {
			v, _ := strconv.ParseFloat(x[1], 64)
			if r.extra == nil {
				r.extra = map[string][]float64{}
			}
			r.extra[x[2]] = append(r.extra[x[2]], v)
		}
	}
	fmt.Printf("%-34s %-20s %14s %10s %12s  %s\n", "case", "implementation", "ns/op", "allocs/op", "tock / this", "memory")
	fmt.Println(strings.Repeat("-", 112))
	for _, c := range cases {
		base := results[c]["tock"]
		if base == nil {
			base = results[c]["tock-task"]
		}
		for _, impl := range impls[c] {
			r := results[c][impl]
			ratio := "-"
			if base != nil && !strings.HasPrefix(impl, "tock") && median(r.ns) > 0 {
				ratio = fmt.Sprintf("%.2fx", median(base.ns)/median(r.ns))
			}
			var mem []string
			for _, unit := range []string{"B/task", "MiB-peak"} {
				if xs := r.extra[unit]; xs != nil {
					mem = append(mem, fmt.Sprintf("%.0f %s", median(xs), unit))
				}
			}
			fmt.Printf("%-34s %-20s %14.1f %10.0f %12s  %s\n", c, impl, median(r.ns), median(r.allocs), ratio, strings.Join(mem, ", "))
		}
	}
	fmt.Printf("\nmedian of %d rounds; ns/op is per simulated event (or task) where a case reports ns/event (ns/task);\nratio < 1 means tock is faster than that peer.\n", *count)
	printTargets(results)
}

// target is one ratio the project tracks: case's num row over its den row
// (metric "ns", "allocs" or a memory unit), with the bound it should meet:
// at most max, or, for a speed-up (atLeast), at least that.
type target struct {
	label, c, num, den, metric string
	bound                      float64
	atLeast                    bool
}

var targets = []target{
	{"Lock+Unlock uncontended, task ctx / sync.Mutex", "LockUncontended", "tock-task", "sync.Mutex", "ns", 2.0, false},
	{"Lock uncontended, derived / task ctx", "LockUncontended", "tock-derived", "tock-task", "ns", 1.3, false},
	{"Lock uncontended, derived / floor-derived", "LockUncontended", "tock-derived", "floor-derived", "ns", 0, false},
	{"Lock uncontended, floor-derived / task ctx", "LockUncontended", "floor-derived", "tock-task", "ns", 0, false},
	{"Event.Wait (set), derived / task ctx", "EventWaitSet", "tock-derived", "tock-task", "ns", 1.3, false},
	{"Event.Wait (set), floor-derived / floor-task", "EventWaitSet", "floor-derived", "floor-task", "ns", 0, false},
	{"Semaphore uncontended, derived / task ctx", "SemaphoreUncontended", "tock-derived", "tock-task", "ns", 1.3, false},
	{"Stream uncontended, derived / task ctx", "StreamUncontended", "tock-derived", "tock-task", "ns", 1.3, false},
	{"Queue uncontended, derived / task ctx", "QueueUncontended", "tock-derived", "tock-task", "ns", 1.3, false},
	{"CapacityLimiter uncontended, task / Weighted", "CapacityLimiterUncontended", "tock-task", "semaphore.Weighted", "ns", 1.3, false},
	{"CapacityLimiter uncontended, allocs/op", "CapacityLimiterUncontended", "tock-task", "", "allocs", 0, false},
	{"CapacityLimiter(4) 64 tasks / Weighted(4) 64", "CapacityLimiter64on4", "tock-task", "semaphore.Weighted", "ns", 1.0, false},
	{"CapacityLimiter(4) 64 tasks / Weighted(4) 64 tasks, task ctx", "CapacityLimiter64on4", "tock-task", "Weighted-task", "ns", 0, false},
	{"Lock 8 goroutines / ctx-aware chan lock", "LockContended8", "tock-task", "chanlock-ctx", "ns", 1.0, false},
	{"Lock 64 goroutines / ctx-aware chan lock", "LockContended64", "tock-task", "chanlock-ctx", "ns", 1.0, false},
	{"Lock 8 goroutines / mutex+parker floor", "LockContended8", "tock-task", "mutex+parker", "ns", 0, false},
	{"Lock 64 goroutines / mutex+parker floor", "LockContended64", "tock-task", "mutex+parker", "ns", 0, false},
	{"Lock 8 goroutines, mutex+parker floor / ctx-aware chan lock", "LockContended8", "mutex+parker", "chanlock-ctx", "ns", 0, false},
	{"Lock 8 goroutines / mutex+signal floor", "LockContended8", "tock-task", "mutex+signal", "ns", 0, false},
	{"Lock 64 goroutines / mutex+signal floor", "LockContended64", "tock-task", "mutex+signal", "ns", 0, false},
	{"Lock 8 goroutines, mutex+signal / mutex+parker floor", "LockContended8", "mutex+signal", "mutex+parker", "ns", 0, false},
	{"Rendezvous ping-pong / ctx-aware chan", "StreamPingPong", "tock-task", "chan-ctx", "ns", 1.1, false},
	{"Rendezvous ping-pong / mutex+parker floor", "StreamPingPong", "tock-task", "mutex+parker", "ns", 1.15, false},
	{"Rendezvous ping-pong / mutex+signal floor", "StreamPingPong", "tock-task", "mutex+signal", "ns", 0, false},
	{"Rendezvous ping-pong, mutex+signal / mutex+parker floor", "StreamPingPong", "mutex+signal", "mutex+parker", "ns", 0, false},
	{"Sim sleep event, 100,000 tasks: synctest / tock", "SimSleep/100000tasks", "synctest", "tock", "ns", 2.0, true},
	{"Sim sleep event, 100,000 tasks: synctest / floor+coroutines", "SimSleep/100000tasks", "synctest", "floor+coroutines", "ns", 0, true},
	{"Sim sleep event, 100,000 tasks: tock / floor+coroutines", "SimSleep/100000tasks", "tock", "floor+coroutines", "ns", 0, false},
	{"Sim sleep event, 1,000 tasks: synctest / tock", "SimSleep/1000tasks", "synctest", "tock", "ns", 4.0, true},
	{"Sim sleep event, 1,000 tasks: synctest / floor+coroutines", "SimSleep/1000tasks", "synctest", "floor+coroutines", "ns", 0, true},
	{"Sim sleep event, 1,000 tasks: tock / floor+coroutines", "SimSleep/1000tasks", "tock", "floor+coroutines", "ns", 0, false},
	{"Sim memory per parked task / parked goroutine", "SimMemory/100000sleeping", "tock", "parked-goroutine", "B/task", 1.0, false},
	{"Sim memory per parked task / iter.Pull floor", "SimMemory/100000sleeping", "tock", "iter.Pull-floor", "B/task", 0, false},
	{"Sim memory, iter.Pull floor / parked goroutine", "SimMemory/100000sleeping", "iter.Pull-floor", "parked-goroutine", "B/task", 0, false},
	{"Sim explore, 1,000 sleeping: Random / FIFO", "SimExplore/sleep1000", "random", "fifo", "ns", 1.3, false},
	{"Sim explore, 8 yielding: Random / FIFO", "SimExplore/yield8", "random", "fifo", "ns", 1.3, false},
	{"Sim explore, 1,000 sleeping: PCT(3) / FIFO", "SimExplore/sleep1000", "pct3", "fifo", "ns", 0, false}, // no target: PCT is shown for comparison
	{"Sim explore, 8 yielding: PCT(3) / FIFO", "SimExplore/yield8", "pct3", "fifo", "ns", 0, false},
	{"Sim task set-up, 100,000 tasks / synctest", "SimSetup100k", "tock", "synctest", "ns", 1.0, false},
	{"Sim task set-up / iter.Pull floor", "SimSetup100k", "tock", "iter.Pull-floor", "ns", 0, false},
	{"Sim task set-up, iter.Pull floor / synctest", "SimSetup100k", "iter.Pull-floor", "synctest", "ns", 0, false},
}

func metric(r *result, m string) float64 { return median(samples(r, m)) }

// samples is r's samples of metric m, one per round, in round order.
func samples(r *result, m string) []float64 {
	switch m {
	case "ns":
		return r.ns
	case "allocs":
		return r.allocs
	}
	return r.extra[m]
}

// perRound is the ratio num/den of metric m in each round: the two rows of
// a round ran in one process, minutes apart at most, so a round's ratio
// sees the machine's state of that moment in both. It is nil unless both
// rows have a sample in every round.
func perRound(num, den *result, m string) []float64 {
	a, b := samples(num, m), samples(den, m)
	if len(a) == 0 || len(a) != len(b) {
		return nil
	}
	rs := make([]float64, len(a))
	for i := range a {
		if b[i] == 0 {
			return nil
		}
		rs[i] = a[i] / b[i]
	}
	return rs
}

// meets reports whether v meets t's bound.
func (t target) meets(v float64) bool {
	if t.atLeast {
		return v >= t.bound
	}
	return v <= t.bound
}

// spread describes rs, a target's ratios per round: their range, and in
// how many rounds the bound was met (for a target with a bound).
func (t target) spread(rs []float64) string {
	if len(rs) < 2 {
		return ""
	}
	lo, hi, met := rs[0], rs[0], 0
	for _, r := range rs {
		lo, hi = min(lo, r), max(hi, r)
		if t.meets(r) {
			met++
		}
	}
	s := fmt.Sprintf("rounds %.2f-%.2f", lo, hi)
	if t.bound != 0 {
		s += fmt.Sprintf(", met in %d of %d", met, len(rs))
	}
	return s
}

// printTargets prints each target's ratio (or, with no den, the value) and
// whether the run meets it; cases not run are left out.
func printTargets(results map[string]map[string]*result) {
	fmt.Printf("\n%-50s %10s %10s  %s\n", "target", "measured", "bound", "")
	fmt.Println(strings.Repeat("-", 80))
	for _, t := range targets {
		num := results[t.c][t.num]
		if num == nil {
			continue
		}
		v := metric(num, t.metric)
		if t.den != "" {
			den := results[t.c][t.den]
			if den == nil || metric(den, t.metric) == 0 {
				continue
			}
			v /= metric(den, t.metric)
		}
		bound, verdict, spread := "-", "", ""
		if t.den != "" {
			spread = t.spread(perRound(num, results[t.c][t.den], t.metric))
		}
		switch {
		case t.den != "" && t.bound == 0:
			// informational: how far above its floor
		case t.atLeast:
			bound = fmt.Sprintf(">= %.2f", t.bound)
		default:
			bound = fmt.Sprintf("<= %.2f", t.bound)
		}
		if bound != "-" {
			verdict = map[bool]string{true: "met", false: "NOT met"}[t.meets(v)]
		}
		fmt.Printf("%-50s %9.2f%s %10s  %-8s %s\n", t.label, v, map[bool]string{true: "x", false: " "}[t.den != ""], bound, verdict, spread)
	}
	fmt.Println("\nmeasured: the ratio of the two rows' medians; rounds: the range of the ratio taken in each\nround (both rows of a round ran in one process); met in k of n: rounds whose own ratio meets the bound.")
}
