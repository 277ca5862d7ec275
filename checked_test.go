package tock_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal"
)

// withCheckedReal turns the real runtime's checked mode on for one test.
func withCheckedReal(t *testing.T) {
	old := internal.CheckedReal
	internal.CheckedReal = true
	t.Cleanup(func() { internal.CheckedReal = old })
}

// reenterFromRawGoroutine takes l under a task's ctx, then has a raw
// goroutine re-enter it with the same ctx; it returns that goroutine's panic
// ("" if none) and whether its Lock succeeded.
func reenterFromRawGoroutine(t *testing.T, l *tock.Lock) (msg string, locked bool) {
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		if err := l.Lock(ctx); err != nil {
			return err
		}
		defer l.Unlock(ctx)
		type result struct {
			msg    string
			locked bool
		}
		got := make(chan result, 1)
		//tockvet:ignore the raw goroutine using the task's ctx is the misuse under test
		go func() {
			var r result
			r.msg = panicMsg(func() {
				if l.Lock(ctx) == nil {
					r.locked = true
					l.Unlock(ctx)
				}
			})
			got <- r
		}()
		//tockvet:ignore real runtime only: waits for the raw goroutine, bounded on the wall clock
		select {
		case r := <-got:
			msg, locked = r.msg, r.locked
		case <-time.After(10 * time.Second): //tockvet:ignore real runtime only, as above
			t.Fatal("the raw goroutine's Lock did not return")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg, locked
}

func panicMsg(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = r.(string)
		}
	}()
	f()
	return ""
}

// On the real runtime a raw goroutine that shares its task's ctx re-enters
// the task's Lock: two goroutines hold one lock. Checked mode (TOCK_CHECK)
// catches it; the same goroutine re-entering is still fine.
func TestCheckedRealLockReentry(t *testing.T) {
	var l tock.Lock
	if msg, locked := reenterFromRawGoroutine(t, &l); msg != "" || !locked {
		t.Fatalf("unchecked: panic %q, locked %v (re-entry by the shared identity is what checked mode catches)", msg, locked)
	}
	withCheckedReal(t)
	msg, locked := reenterFromRawGoroutine(t, &l)
	if locked || !strings.Contains(msg, "tock: Lock.Lock: re-entered under the same task ctx by a goroutine other than the one that took the lock") {
		t.Fatalf("checked: panic %q, locked %v", msg, locked)
	}
	if s := l.Stats(); s.Locked {
		t.Fatalf("the lock is left held: %+v", s)
	}
	// The owner's own re-entry, and TryLock's, are fine in checked mode; a
	// raw goroutine's TryLock re-entry is caught too.
	err := tock.Run(context.Background(), func(ctx context.Context) error {
		l.Lock(ctx)
		l.Lock(ctx)
		if !l.TryLock(ctx) {
			t.Error("TryLock re-entry by the owner failed")
		}
		got := make(chan string, 1)
		//tockvet:ignore the raw goroutine using the task's ctx is the misuse under test
		go func() { got <- panicMsg(func() { l.TryLock(ctx) }) }()
		if msg := <-got; !strings.Contains(msg, "tock: Lock.TryLock: re-entered") { //tockvet:ignore real runtime only: the raw goroutine always sends
			t.Errorf("raw TryLock re-entry: panic %q", msg)
		}
		l.Unlock(ctx)
		l.Unlock(ctx)
		l.Unlock(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Locked() {
		t.Fatal("the lock is left held")
	}
}

// TOCK_CHECK in the environment turns checked mode on when the program
// starts: the test binary is run again with it set.
func TestCheckedRealFromEnvironment(t *testing.T) {
	if os.Getenv("TOCK_CHECK_CHILD") != "" {
		if !internal.CheckedReal {
			t.Fatal("TOCK_CHECK is set, but checked mode is off")
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckedRealFromEnvironment$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TOCK_CHECK=1", "TOCK_CHECK_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child run: %v\n%s", err, out)
	}
}
