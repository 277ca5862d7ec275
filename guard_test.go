package tock_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tockgo/tock"
)

// AnyIO RG-01..03.
func TestResourceGuard(t *testing.T) {
	g := tock.NewResourceGuard("")
	if err := g.Enter(); err != nil {
		t.Fatal(err)
	}
	err := g.Enter()
	var busy *tock.BusyResourceError
	if !errors.As(err, &busy) || err.Error() != "another task is already using this resource" {
		t.Fatalf("second Enter = %v", err)
	}
	g.Exit()
	r := tock.NewResourceGuard("reading from")
	r.Enter()
	if err := r.Enter(); err == nil || err.Error() != "another task is already reading from this resource" {
		t.Fatalf("Enter = %v", err)
	}
	// Exit clears the mark even when the guarded body failed.
	func() {
		defer func() { recover() }()
		defer r.Exit()
		panic("body failed")
	}()
	if err := r.Enter(); err != nil {
		t.Fatalf("Enter after Exit = %v", err)
	}
	var zero tock.ResourceGuard
	zero.Enter()
	if err := zero.Enter(); err == nil || err.Error() != "another task is already using this resource" {
		t.Fatalf("zero guard: %v", err)
	}
}

func ExampleResourceGuard() {
	guard := tock.NewResourceGuard("reading from")
	if err := guard.Enter(); err == nil {
		defer guard.Exit()
	}
	// A second reader is refused at once instead of interleaving reads.
	fmt.Println(guard.Enter())
	// Output:
	// another task is already reading from this resource
}
