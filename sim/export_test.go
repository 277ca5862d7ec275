package sim

import (
	"time"

	"github.com/tockgo/tock/internal"
)

// SeedDeviations decodes a seed's deviations (tests only).
func SeedDeviations(seed string) []internal.Deviation {
	d, err := decodeSeed(seed)
	if err != nil {
		panic(err)
	}
	return d.devs
}

// EncodeSeed encodes a seed (tests only).
func EncodeSeed(jitter time.Duration, devs []internal.Deviation) string {
	return encodeSeed(seedData{jitter: jitter, devs: devs})
}
