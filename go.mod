module github.com/tockgo/tock

go 1.24
