package bench

import (
	"context"
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
