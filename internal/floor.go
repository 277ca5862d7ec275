package internal

// Signal is the real runtime's signal (realpark.go), for the floor rows of
// module bench (whose import path lies under this module's, so it may
// import internal): a lock or a rendezvous built on exactly the parker tock
// parks on, with nothing else, is the floor of its architecture.
type Signal = signal

// NewSignal returns a signal with nothing sent.
func NewSignal() *Signal { return newSignal() }

// Send sends one signal; it never blocks.
func (s *signal) Send() { s.send() }

// Recv receives one signal, parking until one is sent.
func (s *signal) Recv() { s.recv() }
