package bench

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/tockgo/tock"
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

// BenchmarkStreamPingPong: two goroutines bounce an item over two rendezvous
// streams; per op, one round trip.
func BenchmarkStreamPingPong(b *testing.B) {
	ctx := context.Background()
	b.Run("tock", func(b *testing.B) {
		b.ReportAllocs()
		ps, pr := tock.NewStream[int](0)
		qs, qr := tock.NewStream[int](0)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range pr.All(ctx) {
				qs.Send(ctx, v)
			}
			qs.Close()
		}()
		for i := 0; b.Loop(); i++ {
			ps.Send(ctx, i)
			qr.Receive(ctx)
		}
		ps.Close()
		wg.Wait()
	})
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
	b.Run("mutex+parker", func(b *testing.B) {
		b.ReportAllocs()
		p, q := new(rendezvous), new(rendezvous)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newParked()
			for {
				v := p.receive(w)
				if v < 0 {
					return
				}
				q.send(v)
			}
		}()
		w := newParked()
		for i := 0; b.Loop(); i++ {
			p.send(i)
			q.receive(w)
		}
		p.send(-1)
		wg.Wait()
	})
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
	ch  chan struct{}
	val int
}

func newParked() *parked { return &parked{ch: make(chan struct{}, 1)} }

// send hands v to the waiting receiver, waiting (spinning: the floor has no
// sender queue) until there is one.
func (r *rendezvous) send(v int) {
	for {
		r.mu.Lock()
		if w := r.w; w != nil {
			r.w = nil
			w.val = v
			r.mu.Unlock()
			w.ch <- struct{}{}
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
	<-w.ch
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
