package internal

import (
	"runtime"
	"sync/atomic"
)

type uint64Counter struct{ v atomic.Uint64 }

func (c *uint64Counter) add() uint64 { return c.v.Add(1) }

func gosched() { runtime.Gosched() }
