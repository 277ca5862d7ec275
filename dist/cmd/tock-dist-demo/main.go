// Command tock-dist-demo runs several workers, each with its own NATS
// connection (as separate processes would), that share a Queue of jobs and a
// CapacityLimiter guarding a slow "payment API" (at most --limit calls at
// once, across all workers). It prints who did what and the peak number of
// concurrent calls.
//
// By default it starts an embedded NATS server with JetStream on a free
// loopback port; --nats URL uses a real server or cluster instead.
// --inprocess runs the same model over tock's in-process Queue and
// CapacityLimiter, through the same interfaces (tock.Putter, tock.Getter,
// tock.Limiter).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tockgo/tock"
	"github.com/tockgo/tock/dist"
	"github.com/tockgo/tock/dist/internal/embed"
)

type job struct {
	ID     int `json:"id"`
	Amount int `json:"amount"`
}

// stats is what the model measures.
type stats struct {
	inFlight, peak atomic.Int32
	mu             sync.Mutex
	done           map[int]int // job ID -> times processed
	perWorker      map[string]int
}

// worker is the model: written against tock's interfaces only.
func worker(ctx context.Context, name string, jobs tock.Getter[job], api tock.Limiter, st *stats, total int, processed *atomic.Int64) error {
	for processed.Load() < int64(total) {
		gctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		j, err := jobs.Get(gctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		if err != nil {
			return err
		}
		if err := api.Acquire(ctx); err != nil {
			return err
		}
		n := st.inFlight.Add(1)
		for p := st.peak.Load(); n > p && !st.peak.CompareAndSwap(p, n); p = st.peak.Load() {
		}
		time.Sleep(time.Duration(2+j.Amount%5) * time.Millisecond) // the slow call
		st.inFlight.Add(-1)
		api.Release(ctx)
		st.mu.Lock()
		st.done[j.ID]++
		st.perWorker[name]++
		st.mu.Unlock()
		processed.Add(1)
	}
	return nil
}

func main() {
	url := flag.String("nats", "", "NATS URL (default: start an embedded server)")
	workers := flag.Int("workers", 4, "workers, each with its own connection")
	jobsN := flag.Int("jobs", 200, "jobs to process")
	limit := flag.Int("limit", 3, "at most this many payment API calls at once, across workers")
	inproc := flag.Bool("inprocess", false, "run the same model over tock's in-process types")
	flag.Parse()
	if err := run(*url, *workers, *jobsN, *limit, *inproc); err != nil {
		fmt.Fprintln(os.Stderr, "tock-dist-demo:", err)
		os.Exit(1)
	}
}

func run(url string, workers, total, limit int, inproc bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st := &stats{done: map[int]int{}, perWorker: map[string]int{}}
	var processed atomic.Int64
	start := time.Now()
	mode := "in-process"
	err := tock.Run(ctx, func(ctx context.Context) error {
		var puts tock.Putter[job]
		gets := make([]tock.Getter[job], workers)
		lims := make([]tock.Limiter, workers)
		if inproc {
			q := tock.NewQueue[job]()
			lim := tock.NewCapacityLimiter(limit)
			puts = q
			for i := range gets {
				gets[i], lims[i] = q, lim
			}
		} else {
			if url == "" {
				dir, err := os.MkdirTemp("", "tock-dist-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				s, err := embed.Single(dir)
				if err != nil {
					return err
				}
				defer embed.Stop(s)
				url = s.ClientURL()
				mode = "embedded NATS server at " + url
			} else {
				mode = "NATS at " + url
			}
			prefix := fmt.Sprintf("demo%d", time.Now().UnixNano()%1e9)
			for i := 0; i < workers; i++ {
				nc, err := nats.Connect(url)
				if err != nil {
					return err
				}
				defer nc.Close()
				c, err := dist.Connect(ctx, nc, dist.WithPrefix(prefix))
				if err != nil {
					return err
				}
				defer c.Close()
				q, err := dist.NewQueue[job](ctx, c, "jobs")
				if err != nil {
					return err
				}
				lim, err := c.NewCapacityLimiter(ctx, "payment-api", limit)
				if err != nil {
					return err
				}
				if i == 0 {
					puts = q
				}
				gets[i], lims[i] = q, lim
			}
		}
		for i := 0; i < total; i++ {
			if err := puts.Put(ctx, job{ID: i, Amount: 10 + i%7}); err != nil {
				return err
			}
		}
		g := tock.NewGroup(ctx)
		for i := 0; i < workers; i++ {
			g.Go(func(ctx context.Context) error {
				return worker(ctx, fmt.Sprintf("worker-%d", i), gets[i], lims[i], st, total, &processed)
			})
		}
		return g.Wait()
	})
	if err != nil {
		return err
	}
	fmt.Printf("tock-dist-demo: %d workers over %s\n", workers, mode)
	names := make([]string, 0, len(st.perWorker))
	for n := range st.perWorker {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("  %-9s processed %d jobs\n", n, st.perWorker[n])
	}
	twice := 0
	for _, n := range st.done {
		if n > 1 {
			twice++
		}
	}
	fmt.Printf("jobs: %d put, %d processed (%d more than once), in %v\n", total, len(st.done), twice, time.Since(start).Round(time.Millisecond))
	fmt.Printf("payment API: peak %d concurrent calls, limit %d\n", st.peak.Load(), limit)
	if len(st.done) != total || int(st.peak.Load()) > limit {
		return fmt.Errorf("check failed: %d of %d jobs, peak %d > limit %d", len(st.done), total, st.peak.Load(), limit)
	}
	return nil
}
