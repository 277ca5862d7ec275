package bench

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/tockgo/tock"
	"github.com/tockgo/tock/internal"
)

// BenchmarkStreamBuffered128: one producer, one consumer, buffer of 128; per
// op, one item.
func BenchmarkStreamBuffered128(b *testing.B) {
	ctx := context.Background()
	b.Run("tock", func(b *testing.B) {
		b.ReportAllocs()
		s, r := tock.NewStream[int](128)
		done := make(chan struct{})
		go func() {
			for range r.All(ctx) {
			}
			close(done)
		}()
		for i := 0; b.Loop(); i++ {
			s.Send(ctx, i)
		}
		s.Close()
		<-done
	})
	b.Run("chan", func(b *testing.B) {
		b.ReportAllocs()
		c := make(chan int, 128)
		done := make(chan struct{})
		go func() {
			for range c {
			}
			close(done)
		}()
		for i := 0; b.Loop(); i++ {
			c <- i
		}
		close(c)
		<-done
	})
}

// BenchmarkStreamUncontended: one goroutine sends an item into a buffered
// stream and receives it back; per op, one Send and one Receive, neither
// blocking. The peer is a buffered channel with a select on ctx.Done.
func BenchmarkStreamUncontended(b *testing.B) {
	ctxKinds(b, func(b *testing.B, ctx context.Context) {
		s, r := tock.NewStream[int](1)
		for i := 0; b.Loop(); i++ {
			s.Send(ctx, i)
			r.Receive(ctx)
		}
	})
	b.Run("chan-ctx", func(b *testing.B) {
		ctx := context.Background()
		c := make(chan int, 1)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			chanSend(ctx, c, i)
			chanRecv(ctx, c)
		}
	})
}

// BenchmarkQueueUncontended: Put then Get on a Queue, in one goroutine.
func BenchmarkQueueUncontended(b *testing.B) {
	ctxKinds(b, func(b *testing.B, ctx context.Context) {
		q := tock.NewQueue[int]()
		for i := 0; b.Loop(); i++ {
			q.Put(ctx, i)
			q.Get(ctx)
		}
	})
	b.Run("chan-ctx", func(b *testing.B) {
		ctx := context.Background()
		c := make(chan int, 1)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			chanSend(ctx, c, i)
			chanRecv(ctx, c)
		}
	})
}

func chanSend(ctx context.Context, c chan<- int, v int) error {
	select {
	case c <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func chanRecv(ctx context.Context, c <-chan int) (int, error) {
	select {
	case v := <-c:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// BenchmarkStreamPingPong: two goroutines bounce an item over two rendezvous
// streams; per op, one round trip. Under tock-task and tock-derived each
// side is a task of its own.
func BenchmarkStreamPingPong(b *testing.B) {
	pingPong := func(b *testing.B, wrap func(context.Context) (context.Context, context.CancelFunc), tasks bool) {
		b.ReportAllocs()
		body := func(ctx context.Context, spawn func(func(ctx context.Context))) {
			ps, pr := tock.NewStream[int](0)
			qs, qr := tock.NewStream[int](0)
			spawn(func(ctx context.Context) {
				ctx, cancel := wrap(ctx)
				defer cancel()
				for v := range pr.All(ctx) {
					qs.Send(ctx, v)
				}
				qs.Close()
			})
			ctx, cancel := wrap(ctx)
			defer cancel()
			for i := 0; b.Loop(); i++ {
				ps.Send(ctx, i)
				qr.Receive(ctx)
			}
			ps.Close()
		}
		if !tasks {
			var wg sync.WaitGroup
			body(context.Background(), func(f func(ctx context.Context)) {
				wg.Add(1)
				go func() { defer wg.Done(); f(context.Background()) }()
			})
			wg.Wait()
			return
		}
		tock.Run(context.Background(), func(ctx context.Context) error {
			g := tock.NewGroup(ctx)
			body(ctx, func(f func(ctx context.Context)) {
				g.Go(func(ctx context.Context) error { f(ctx); return nil })
			})
			return g.Wait()
		})
	}
	b.Run("tock-bg", func(b *testing.B) { pingPong(b, noWrap, false) })
	b.Run("tock-task", func(b *testing.B) { pingPong(b, noWrap, true) })
	b.Run("tock-derived", func(b *testing.B) { pingPong(b, derive, true) })
	b.Run("chan", func(b *testing.B) {
		b.ReportAllocs()
		p, q := make(chan int), make(chan int)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range p {
				q <- v
			}
			close(q)
		}()
		for i := 0; b.Loop(); i++ {
			p <- i
			<-q
		}
		close(p)
		wg.Wait()
	})
	b.Run("chan-ctx", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		p, q := make(chan int), make(chan int)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v, err := chanRecv(ctx, p)
				if err != nil || v < 0 {
					return
				}
				chanSend(ctx, q, v)
			}
		}()
		for i := 0; b.Loop(); i++ {
			chanSend(ctx, p, i)
			chanRecv(ctx, q)
		}
		chanSend(ctx, p, -1)
		wg.Wait()
	})
	floor := func(b *testing.B, mk func() *parked) {
		b.ReportAllocs()
		p, q := new(rendezvous), new(rendezvous)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := mk()
			for {
				v := p.receive(w)
				if v < 0 {
					return
				}
				q.send(v)
			}
		}()
		w := mk()
		for i := 0; b.Loop(); i++ {
			p.send(i)
			q.receive(w)
		}
		p.send(-1)
		wg.Wait()
	}
	b.Run("mutex+parker", func(b *testing.B) { floor(b, newParked) })
	// the same on tock's own parker (see newSignalParked)
	b.Run("mutex+signal", func(b *testing.B) { floor(b, newSignalParked) })
}

// rendezvous is the floor of the architecture DESIGN.md prescribes for the
// real runtime, with nothing else: a short mutex around the state and a
// one-slot channel to park on. It has no FIFO queue, no cancellation, no
// close and one waiting receiver at most; what tock costs above it is its
// bookkeeping, what it costs below a chan is the architecture.
type rendezvous struct {
	mu sync.Mutex
	w  *parked // the waiting receiver
}

type parked struct {
	ch   chan struct{}
	sig  *internal.Signal // the mutex+signal rows: tock's own parker, instead of ch
	val  int
	next *parked // parkLock's queue
}

func newParked() *parked { return &parked{ch: make(chan struct{}, 1)} }

// newSignalParked is newParked for the mutex+signal rows: the floor of the
// architecture as tock builds it, parked on tock's own signal (a count,
// with the goroutine parked and readied by the runtime) rather than on a
// channel.
func newSignalParked() *parked { return &parked{sig: internal.NewSignal()} }

// wake and wait are the parker's send and receive.
func (w *parked) wake() {
	if w.sig != nil {
		w.sig.Send()
		return
	}
	w.ch <- struct{}{}
}

func (w *parked) wait() {
	if w.sig != nil {
		w.sig.Recv()
		return
	}
	<-w.ch
}

// send hands v to the waiting receiver, waiting (spinning: the floor has no
// sender queue) until there is one.
func (r *rendezvous) send(v int) {
	for {
		r.mu.Lock()
		if w := r.w; w != nil {
			r.w = nil
			w.val = v
			r.mu.Unlock()
			w.wake()
			return
		}
		r.mu.Unlock()
		runtime.Gosched()
	}
}

func (r *rendezvous) receive(w *parked) int {
	r.mu.Lock()
	r.w = w
	r.mu.Unlock()
	w.wait()
	return w.val
}

// BenchmarkChannelFanout16: one publisher, 16 subscribers; per op, one
// message delivered to all 16.
func BenchmarkChannelFanout16(b *testing.B) {
	const subs = 16
	ctx := context.Background()
	b.Run("tock", func(b *testing.B) {
		b.ReportAllocs()
		ch := tock.NewChannel[int]()
		var wg sync.WaitGroup
		for i := 0; i < subs; i++ {
			s := ch.Subscribe(tock.MaxBuffer(1<<20, tock.DropOldest))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range s.All(ctx) {
				}
			}()
		}
		for i := 0; b.Loop(); i++ {
			ch.Put(ctx, i)
		}
		ch.Close()
		wg.Wait()
	})
	b.Run("16 chans", func(b *testing.B) {
		b.ReportAllocs()
		var cs []chan int
		var wg sync.WaitGroup
		for i := 0; i < subs; i++ {
			c := make(chan int, 1024)
			cs = append(cs, c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range c {
				}
			}()
		}
		for i := 0; b.Loop(); i++ {
			for _, c := range cs {
				c <- i
			}
		}
		for _, c := range cs {
			close(c)
		}
		wg.Wait()
	})
}
