package wallclock

import (
	"context"
	"time"

	"github.com/tockgo/tock/sim"
)

// The file does not import tock: the fix adds the import.
func simOnly() error {
	return sim.Run(context.Background(), func(ctx context.Context) error {
		time.Sleep(time.Second) // want `time.Sleep`
		return nil
	})
}
