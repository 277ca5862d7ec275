package tock_test

import "github.com/tockgo/tock/sim"

var simStart = sim.DefaultStart
