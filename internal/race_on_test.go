//go:build race

package internal

// raceEnabled: the tests run under the race detector, whose sync.Pool
// drops a quarter of what it is given, at random.
const raceEnabled = true
