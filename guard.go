package tock

import "sync/atomic"

// ResourceGuard detects concurrent use of a resource that must be used by one
// task at a time (a stream read by a pump task, say). It does not wait: Enter
// fails at once while another user is inside. It knows nothing of tasks, so a
// nested Enter by the same task fails too.
type ResourceGuard struct {
	action string
	busy   atomic.Bool
}

// NewResourceGuard returns a guard whose error names action (e.g. "reading
// from"); "" means "using".
func NewResourceGuard(action string) *ResourceGuard {
	return &ResourceGuard{action: action}
}

// Enter marks the resource busy, or returns a *BusyResourceError ("another
// task is already <action> this resource") if it already is. It never
// blocks. An Exit synchronizes before the Enter that succeeds next returns.
func (g *ResourceGuard) Enter() error {
	if !g.busy.CompareAndSwap(false, true) {
		a := g.action
		if a == "" {
			a = "using"
		}
		return &BusyResourceError{Action: a}
	}
	return nil
}

// Exit marks the resource free. Call it (with defer) after every successful
// Enter; it always clears the mark, and synchronizes before the Enter that
// succeeds next returns.
func (g *ResourceGuard) Exit() { g.busy.Store(false) }
