module example.com/vet

go 1.25

require (
	github.com/tockgo/tock v0.0.0
	golang.org/x/sync v0.0.0
)

replace (
	// the repository root: the tests check the analyzer against tock's real API
	github.com/tockgo/tock => ../..
	// a stub of errgroup's API (no download in the tests)
	golang.org/x/sync => ./stub/xsync
)
