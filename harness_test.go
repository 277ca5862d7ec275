package tock_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal/leaktest"
	"github.com/tockgo/tock/sim"
)

// scenario is one conformance scenario, run under both runtimes by
// TestConformance. Durations in the body are written in units (h.U): a second
// of virtual time under simulation, a millisecond under the real runtime.
type scenario struct {
	name string
	body func(ctx context.Context, h *H) error
	// sim is the exact trace under simulation: one "time message" line per
	// h.Log call, time in units since the start.
	sim string
	// ordered: under the real runtime the messages must appear in the same
	// order as in sim (the body orders them causally, with Events or Waits);
	// otherwise they are compared as a multiset.
	ordered bool
	// check, if set, runs after the body under both runtimes.
	check func(t *testing.T, h *H, err error)
}

var conformance []scenario

// register adds scenarios to the conformance table.
func register(s ...scenario) bool {
	conformance = append(conformance, s...)
	return true
}

// H is the harness handed to a scenario's body.
type H struct {
	Sim   bool
	unit  time.Duration
	start time.Time
	mu    sync.Mutex
	lines []line
}

type line struct {
	at  float64
	msg string
}

// U converts units to a duration of this runtime.
func (h *H) U(n float64) time.Duration { return time.Duration(n * float64(h.unit)) }

// At is the instant n units after the start.
func (h *H) At(n float64) time.Time { return h.start.Add(h.U(n)) }

// Elapsed is the time since the start, in units.
func (h *H) Elapsed(ctx context.Context) float64 {
	return float64(tock.Now(ctx).Sub(h.start)) / float64(h.unit)
}

// Log records a message with the current time.
func (h *H) Log(ctx context.Context, format string, args ...any) {
	at := h.Elapsed(ctx)
	h.mu.Lock()
	h.lines = append(h.lines, line{at, fmt.Sprintf(format, args...)})
	h.mu.Unlock()
}

// Msgs is the logged messages in order.
func (h *H) Msgs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.lines {
		out = append(out, l.msg)
	}
	return out
}

// Trace is the log as "time message" lines.
func (h *H) Trace() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, l := range h.lines {
		fmt.Fprintf(&b, "%g %s\n", l.at, l.msg)
	}
	return b.String()
}

// Before asserts that message a was logged before message b.
func (h *H) Before(t *testing.T, a, b string) {
	t.Helper()
	m := h.Msgs()
	ia, ib := slices.Index(m, a), slices.Index(m, b)
	if ia < 0 || ib < 0 || ia > ib {
		t.Errorf("want %q logged before %q; log: %q", a, b, m)
	}
}

func parseTrace(s string) (msgs []string) {
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		_, msg, _ := strings.Cut(l, " ")
		msgs = append(msgs, msg)
	}
	return msgs
}

func normTrace(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// runSim runs body under simulation with the harness.
func runSim(body func(ctx context.Context, h *H) error, opts ...sim.Option) (*H, error) {
	h := &H{Sim: true, unit: time.Second}
	err := sim.Run(context.Background(), func(ctx context.Context) error {
		h.start = tock.Now(ctx)
		return body(ctx, h)
	}, opts...)
	return h, err
}

// runReal runs body on the real runtime with the harness.
func runReal(body func(ctx context.Context, h *H) error) (*H, error) {
	h := &H{unit: time.Millisecond}
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		h.start = tock.Now(ctx)
		return body(ctx, h)
	})
	return h, err
}

func TestConformance(t *testing.T) {
	for _, sc := range conformance {
		t.Run(sc.name+"/sim", func(t *testing.T) {
			checkLeaks(t)
			h, err := runSim(sc.body)
			if got, want := h.Trace(), normTrace(sc.sim); got != want {
				t.Errorf("simulated trace:\n%s\nwant:\n%s", got, want)
			}
			if sc.check != nil {
				sc.check(t, h, err)
			} else if err != nil {
				t.Errorf("error: %v", err)
			}
			// Same program, same result: run it again.
			h2, err2 := runSim(sc.body)
			if h2.Trace() != h.Trace() || fmt.Sprint(err2) != fmt.Sprint(err) {
				t.Errorf("second run differs:\n%s%v\nfirst:\n%s%v", h2.Trace(), err2, h.Trace(), err)
			}
		})
		t.Run(sc.name+"/real", func(t *testing.T) {
			checkLeaks(t)
			var h *H
			err := within(t, sc.name+" under the real runtime", func() (err error) {
				h, err = runReal(sc.body)
				return err
			})
			got, want := h.Msgs(), parseTrace(sc.sim)
			if !sc.ordered {
				got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("messages: %q\nwant: %q", got, want)
			}
			if sc.check != nil {
				sc.check(t, h, err)
			} else if err != nil {
				t.Errorf("error: %v", err)
			}
		})
	}
}

// checkLeaks fails t if the test leaves goroutines behind.
func checkLeaks(t testing.TB) { leaktest.Check(t) }

// WaitUntil blocks until cond holds: under simulation by yielding to the
// tasks runnable at this instant, under the real runtime by polling. It
// sequences a scenario on observable state (a primitive's Stats), never on a
// sleep that hopes another goroutine ran. It panics if cond never holds.
func (h *H) WaitUntil(ctx context.Context, what string, cond func() bool) {
	for i := 0; !cond(); i++ {
		if h.Sim {
			if i > 100000 {
				panic("WaitUntil: never held: " + what)
			}
			tock.Yield(context.WithoutCancel(ctx))
			continue
		}
		if i > 200000 {
			panic("WaitUntil: never held: " + what)
		}
		time.Sleep(50 * time.Microsecond) //tockvet:ignore real runtime only: polls, as documented
	}
}

// Forever blocks until ctx is done and returns its error: a wait that only a
// cancellation ends, on both runtimes (a long sleep would race the
// cancellation under the real runtime).
func (h *H) Forever(ctx context.Context) error {
	var never tock.Event
	return never.Wait(ctx)
}

// order is a pair of messages: the first must be logged before the second.
type order [2]string

// causal is a scenario check: the body returned nil, and each pair of
// messages was logged in that order (orders that hold on both runtimes).
func causal(pairs ...order) func(t *testing.T, h *H, err error) {
	return func(t *testing.T, h *H, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pairs {
			h.Before(t, p[0], p[1])
		}
	}
}

// CancelRace starts wait in a new task, with a context of that task's own,
// waits until queued holds, then, in one step, cancels that context and
// grants (cancel first, or grant first), and returns wait's error. A waiter
// cancelled before the grant must be passed over; one granted first must
// succeed ("the wake-up wins").
func (h *H) CancelRace(ctx context.Context, cancelFirst bool, wait func(ctx context.Context) error, queued func() bool, grant func()) error {
	var cancel context.CancelFunc
	var err error
	g := tock.NewGroup(ctx)
	g.Go(func(ctx context.Context) error {
		ctx, cancel = tock.WithCancel(ctx)
		err = wait(ctx)
		return nil
	})
	h.WaitUntil(ctx, "waiter queued", queued)
	if cancelFirst {
		cancel()
		grant()
	} else {
		grant()
		cancel()
	}
	g.Wait()
	return err
}

// bothRuntimes runs body under the simulation and under the real runtime
// (bounded by within), each as a subtest.
func bothRuntimes(t *testing.T, body func(t *testing.T, ctx context.Context, h *H) error) {
	t.Helper()
	bothRuntimesLeak(t, true, body)
}

// bothRuntimesLeak is bothRuntimes, with the goroutine-leak check only if
// leaks is set: a test whose failure leaves a probe goroutine blocked on a
// held mutex for good turns it off (the check would only add its own wait
// to the report).
func bothRuntimesLeak(t *testing.T, leaks bool, body func(t *testing.T, ctx context.Context, h *H) error) {
	t.Helper()
	for _, run := range []struct {
		name string
		run  func(body func(ctx context.Context, h *H) error) (*H, error)
	}{
		{"sim", func(body func(ctx context.Context, h *H) error) (*H, error) { return runSim(body) }},
		{"real", runReal},
	} {
		t.Run(run.name, func(t *testing.T) {
			if leaks {
				checkLeaks(t)
			}
			err := within(t, "the scenario", func() error {
				_, err := run.run(func(ctx context.Context, h *H) error { return body(t, ctx, h) })
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
