package wallclock

import (
	"context"
	"time"

	"github.com/tockgo/tock/sim"
)

// The file does not import tock: the fixes add the import, once.
func simOnly() error {
	return sim.Run(context.Background(), func(ctx context.Context) error {
		time.Sleep(time.Second) // want `time.Sleep`
		_ = time.Now()          // want `time.Now`
		return nil
	})
}
