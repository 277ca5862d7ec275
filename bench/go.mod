module github.com/tockgo/tock/bench

go 1.26.0

require github.com/tockgo/tock v0.0.0

require golang.org/x/sync v0.24.0

replace github.com/tockgo/tock => ../
