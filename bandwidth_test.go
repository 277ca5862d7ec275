package tock_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/sim"
)

var _ = register(
	scenario{
		// μSim P5: pipe(10): 40 units from t=0, 10 more from t=2: at t=2 each
		// gets 5/s; the short one is done at 4, then the long one has 10 left
		// at 10/s and is done at 5.
		name: "BW-01 a transfer joins and leaves",
		body: func(ctx context.Context, h *H) error {
			p := tock.NewPipe(10 / h.U(1).Seconds()) // 10 units per unit of time
			g := tock.NewGroup(ctx)
			var longDone atomic.Bool
			g.Go(func(ctx context.Context) error {
				err := p.Transfer(ctx, 40)
				longDone.Store(true)
				h.Log(ctx, "long done: %v", err)
				return err
			})
			// started, or already done: under the real runtime a 4 ms
			// transfer may end before a busy machine polls it active
			h.WaitUntil(ctx, "long started", func() bool { return p.Stats().Active == 1 || longDone.Load() })
			tock.Sleep(ctx, h.U(2))
			err := p.Transfer(ctx, 10)
			h.Log(ctx, "short done: %v", err)
			if err := g.Wait(); err != nil {
				return err
			}
			return err
		},
		sim: "4 short done: <nil>\n5 long done: <nil>",
	},
	scenario{
		// A cancelled transfer leaves at once and the others speed up.
		name: "BW-02 a cancelled transfer gives its share back",
		body: func(ctx context.Context, h *H) error {
			p := tock.NewPipe(2 / h.U(1).Seconds())
			g := tock.NewGroup(ctx)
			cctx, cancel := tock.WithCancel(ctx)
			defer cancel()
			g.Go(func(tctx context.Context) error {
				// big enough never to end before the cancel, even on a
				// busy machine under the real runtime (5 s alone)
				err := p.Transfer(cctx, 10000) //tockvet:ignore a ctx the test cancels from outside the task
				h.Log(tctx, "big: %v", err)
				return nil
			})
			h.WaitUntil(ctx, "big started", func() bool { return p.Stats().Active == 1 })
			var smallDone atomic.Bool
			g.Go(func(ctx context.Context) error {
				err := p.Transfer(ctx, 4) // 1/s while shared, 2/s alone
				smallDone.Store(true)
				h.Log(ctx, "small: %v", err)
				return err
			})
			// started, or already done (a 4 ms transfer under the real
			// runtime may end before a busy machine polls it active)
			h.WaitUntil(ctx, "small started", func() bool { return p.Stats().Active == 2 || smallDone.Load() })
			tock.Sleep(ctx, h.U(2))
			cancel() // small has 2 left: done at 3
			return g.Wait()
		},
		sim: "2 big: context canceled\n3 small: <nil>",
	},
)

// transfers runs concurrent transfers (total, rate; rate 0 for the pipe's
// throughput) and returns the virtual seconds until all are done.
func transfers(t *testing.T, ctx context.Context, p *tock.Pipe, ts ...[2]float64) float64 {
	t.Helper()
	start := tock.Now(ctx)
	g := tock.NewGroup(ctx)
	for _, tr := range ts {
		g.Go(func(ctx context.Context) error {
			if tr[1] == 0 {
				return p.Transfer(ctx, tr[0])
			}
			return p.TransferAt(ctx, tr[0], tr[1])
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return tock.Now(ctx).Sub(start).Seconds()
}

// μSim P1, P3, P4, P6 with their exact end times.
func TestPipeUSimTimes(t *testing.T) {
	checkLeaks(t)
	type tr = [2]float64
	cases := []struct {
		name       string
		throughput float64
		ts         []tr
		want       float64
	}{
		{"P1 1@1", 2, []tr{{1, 1}}, 1},
		{"P1 2@default", 2, []tr{{2, 0}}, 1},
		{"P1 2x(1@1)", 2, []tr{{1, 1}, {1, 1}}, 1},
		{"P1 4x(0.5@0.5)", 2, []tr{{.5, .5}, {.5, .5}, {.5, .5}, {.5, .5}}, 1},
		{"P1 mixed@0.5", 2, []tr{{.5, .5}, {.5, .5}, {.25, .5}, {.25, .5}}, 1},
		{"P3 2@4", 2, []tr{{2, 4}}, 1},
		{"P3 2@20", 2, []tr{{2, 20}}, 1},
		{"P3 2x(1@2)", 2, []tr{{1, 2}, {1, 2}}, 1},
		{"P3 4x(1@2)", 2, []tr{{1, 2}, {1, 2}, {1, 2}, {1, 2}}, 2},
		{"P3 (2,2,1,1)@2", 2, []tr{{2, 2}, {2, 2}, {1, 2}, {1, 2}}, 3},
		{"7.2 A(4)||B(2)", 2, []tr{{4, 0}, {2, 0}}, 3},
		{"7.2 X(3@1)||Y(3@3)", 2, []tr{{3, 1}, {3, 3}}, 4},
		{"P4 6x15 on 10", 10, []tr{{15, 0}, {15, 0}, {15, 0}, {15, 0}, {15, 0}, {15, 0}}, 9},
		{"P6 inf 20", math.Inf(1), []tr{{20, 0}}, 0},
		{"P6 inf 20@10", math.Inf(1), []tr{{20, 10}}, 2},
		{"P6 inf 0@10", math.Inf(1), []tr{{0, 10}}, 0},
		{"P2 zero", 2, []tr{{0, 0}}, 0},
		{"thirds", 3, []tr{{1, 0}, {1, 0}, {1, 0}}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := sim.Run(context.Background(), func(ctx context.Context) error {
				if c.name == "P4 6x15 on 10" {
					tock.Sleep(ctx, 100*time.Second)
				}
				got := transfers(t, ctx, tock.NewPipe(c.throughput), c.ts...)
				if got != c.want {
					t.Errorf("took %v s, want %v", got, c.want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Each transfer ends at its own exact instant.
func TestPipeFinishInstants(t *testing.T) {
	checkLeaks(t)
	simRun(t, func(ctx context.Context) error {
		p := tock.NewPipe(2)
		var got []string
		g := tock.NewGroup(ctx)
		for _, n := range []float64{4, 2} {
			g.Go(func(ctx context.Context) error {
				err := p.Transfer(ctx, n)
				got = append(got, fmt.Sprintf("%g@%v", n, tock.Now(ctx).Sub(sim.DefaultStart)))
				return err
			})
		}
		g.Wait()
		if s := strings.Join(got, " "); s != "2@2s 4@3s" {
			t.Errorf("finished %s, want 2@2s 4@3s", s)
		}
		if s := p.Stats(); s.Active != 0 || s.Rate != 0 {
			t.Errorf("stats after: %+v", s)
		}
		return nil
	})
}

func TestPipeMisuse(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"throughput 0", func() { tock.NewPipe(0) }, "tock: NewPipe: the throughput 0 is not positive"},
		{"negative", func() { tock.NewPipe(-10) }, "tock: NewPipe: the throughput -10"},
		{"negative total", func() { tock.NewPipe(1).Transfer(context.Background(), -1) }, "tock: Pipe.Transfer: the total -1"},
		{"zero rate", func() { tock.NewPipe(1).TransferAt(context.Background(), 1, 0) }, "tock: Pipe.TransferAt: the rate 0"},
		{"zero value", func() { var p tock.Pipe; p.Transfer(context.Background(), 1) }, "not made with NewPipe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := fmt.Sprint(recover()); !strings.Contains(r, c.want) {
					t.Errorf("panic %q, want %q", r, c.want)
				}
			}()
			c.f()
		})
	}
	// A cancelled ctx is checked first.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tock.NewPipe(1).Transfer(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Transfer on a cancelled ctx: %v", err)
	}
}

func ExamplePipe() {
	// A 100 MB/s link: a 300 MB download alone, then shared with a 100 MB
	// one that starts a second later.
	sim.Run(context.Background(), func(ctx context.Context) error {
		link := tock.NewPipe(100)
		g := tock.NewGroup(ctx)
		g.Go(func(ctx context.Context) error {
			err := link.Transfer(ctx, 300)
			fmt.Println("300 MB done at", tock.Now(ctx).Sub(sim.DefaultStart))
			return err
		})
		tock.Sleep(ctx, time.Second)
		link.Transfer(ctx, 100)
		fmt.Println("100 MB done at", tock.Now(ctx).Sub(sim.DefaultStart))
		return g.Wait()
	})
	// Output:
	// 100 MB done at 3s
	// 300 MB done at 4s
}
