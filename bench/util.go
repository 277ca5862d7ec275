// Package bench measures tock against its nearest Go peers, in the same run.
// Each benchmark is Benchmark<Case>/<implementation>: "tock" first, then the
// peers. Run `go run ./cmd/benchtable` (from this folder) for the table of
// ratios.
package bench

import "runtime"

func runtimeGosched() { runtime.Gosched() }
