// Command benchtable runs tock's benchmarks and their Go peers in one run and
// prints a table of ratios. Run it from the bench folder:
//
//	go run ./cmd/benchtable                 # every case, 3 rounds
//	go run ./cmd/benchtable -bench Lock -count 5
//
// Each benchmark is Benchmark<Case>/<implementation>; "tock" is compared with
// every other implementation of the same case. The raw `go test` output is
// benchstat-compatible and is saved with -raw FILE.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
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
	perEvent = regexp.MustCompile(`\s([\d.]+) ns/event`)
	memory   = regexp.MustCompile(`\s([\d.e+]+) (B/task|MiB-peak)`)
)

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
	count := flag.Int("count", 3, "rounds (go test -count)")
	benchtime := flag.String("benchtime", "300ms", "time per benchmark (go test -benchtime)")
	raw := flag.String("raw", "", "also write the raw go test output to this file")
	flag.Parse()

	cmd := exec.Command("go", "test", "-run", "^$", "-bench", *bench, "-benchmem",
		"-count", strconv.Itoa(*count), "-benchtime", *benchtime, ".")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if *raw != "" {
		os.WriteFile(*raw, out, 0o644)
	}
	if err != nil {
		os.Stdout.Write(out)
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
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
	fmt.Printf("%-26s %-20s %14s %10s %12s  %s\n", "case", "implementation", "ns/op", "allocs/op", "tock / this", "memory")
	fmt.Println(strings.Repeat("-", 104))
	for _, c := range cases {
		base := results[c]["tock"]
		for _, impl := range impls[c] {
			r := results[c][impl]
			ratio := "-"
			if base != nil && impl != "tock" && median(r.ns) > 0 {
				ratio = fmt.Sprintf("%.2fx", median(base.ns)/median(r.ns))
			}
			var mem []string
			for _, unit := range []string{"B/task", "MiB-peak"} {
				if xs := r.extra[unit]; xs != nil {
					mem = append(mem, fmt.Sprintf("%.0f %s", median(xs), unit))
				}
			}
			fmt.Printf("%-26s %-20s %14.1f %10.0f %12s  %s\n", c, impl, median(r.ns), median(r.allocs), ratio, strings.Join(mem, ", "))
		}
	}
	fmt.Printf("\nmedian of %d rounds; ns/op is per simulated event where a case reports ns/event;\nratio < 1 means tock is faster than that peer.\n", *count)
}
