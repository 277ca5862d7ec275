package dist_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/tockgo/tock/dist"
	"github.com/tockgo/tock/dist/internal/embed"
)

// startServer starts a single-node JetStream server for the test and stops
// it at the end.
func startServer(t testing.TB) *server.Server {
	t.Helper()
	s, err := embed.Single(t.TempDir())
	if err != nil {
		t.Fatalf("start nats server: %v", err)
	}
	t.Cleanup(func() { embed.Stop(s) })
	return s
}

// connect opens a nats connection to url that the test closes at its end.
func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// client makes a dist.Client over a fresh connection to url.
func client(t testing.TB, url string, opts ...dist.Option) *dist.Client {
	t.Helper()
	nc := connect(t, url)
	c := newClient(t, nc, opts...)
	return c
}

func newClient(t testing.TB, nc *nats.Conn, opts ...dist.Option) *dist.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := dist.Connect(ctx, nc, opts...)
	if err != nil {
		t.Fatalf("dist.Connect: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// bounded returns a ctx that fails the wait it bounds after d.
func bounded(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// within fails the test if f does not return within d.
func within(t testing.TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %v", what, d)
	}
}
