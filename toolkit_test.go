package tock_test

import (
	"context"
	"testing"

	"github.com/tockgo/tock/sim"
)

// simRun runs main in a simulation and fails t if the run fails (a
// deadlock, a stall, an error): a test's checks inside main cannot pass
// silently because main never got to them.
func simRun(t testing.TB, main func(ctx context.Context) error, opts ...sim.Option) {
	t.Helper()
	if err := sim.Run(context.Background(), main, opts...); err != nil {
		t.Fatalf("sim.Run: %v", err)
	}
}
