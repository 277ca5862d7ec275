//go:build race || asan || msan

package internal

import "testing"

// waitParked: a channel's receiver cannot be seen to park; the caller's
// check that it has not returned is then a weaker one.
func waitParked(*testing.T, *signal) {}
