package dist_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/tockgo/tock/dist"
	"github.com/tockgo/tock/dist/internal/embed"
)

// A Lock shared by two clients (as two processes would share it), with its
// fencing token.
func ExampleLock() {
	dir, _ := os.MkdirTemp("", "tock-dist-example-")
	defer os.RemoveAll(dir)
	s, err := embed.Single(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer embed.Stop(s)
	ctx := context.Background()
	var locks []*dist.Lock
	for i := 0; i < 2; i++ {
		nc, _ := nats.Connect(s.ClientURL())
		defer nc.Close()
		c, err := dist.Connect(ctx, nc)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
		locks = append(locks, c.NewLock("ledger"))
	}
	var fences []uint64
	for _, l := range locks {
		if err := l.Lock(ctx); err != nil {
			fmt.Println(err)
			return
		}
		f, _ := l.Fence(ctx)
		fences = append(fences, f)
		l.Unlock(ctx)
	}
	fmt.Println("second fence larger:", fences[1] > fences[0])
	// Output: second fence larger: true
}

// A Queue: Take hands out an item to ack; unacked items are redelivered.
func ExampleQueue() {
	dir, _ := os.MkdirTemp("", "tock-dist-example-")
	defer os.RemoveAll(dir)
	s, err := embed.Single(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer embed.Stop(s)
	ctx := context.Background()
	nc, _ := nats.Connect(s.ClientURL())
	defer nc.Close()
	c, err := dist.Connect(ctx, nc)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	q, _ := dist.NewQueue[string](ctx, c, "jobs")
	_ = q.Put(ctx, "resize photo 7")
	it, _ := q.Take(ctx)
	fmt.Println(it.Value, it.Deliveries())
	_ = it.Ack(ctx)
	// Output: resize photo 7 1
}
