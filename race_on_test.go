//go:build race

package tock_test

// raceEnabled: the tests run under the race detector, which changes what
// memory a goroutine holds.
const raceEnabled = true
