module example.com/vet

go 1.24

require github.com/tockgo/tock v0.0.0

replace github.com/tockgo/tock => ../..
