package tock_test

import (
	"errors"
	"testing"

	"github.com/tockgo/tock"
)

// FuzzStream drives random sequences of non-blocking operations on a memory
// object stream (sends, receives, clones and closes of either end) and checks
// every result against a simple model of the stream.
func FuzzStream(f *testing.F) {
	for _, seed := range [][]byte{
		{0, 0, 1, 1, 1},
		{1, 0, 0, 0, 1, 1, 1, 4, 1},
		{2, 0, 2, 0, 3, 1, 4, 0, 5, 0, 1, 1},
		{3, 0, 0, 0, 0, 4, 0, 1, 1, 1, 1, 1},
		{1, 2, 2, 5, 0, 0, 3, 1, 4, 1, 1, 0, 4, 0, 1},
		{0, 3, 3, 5, 1, 5, 0, 0, 1, 4, 2},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		max := int(ops[0] % 4)
		if max == 3 {
			max = tock.Unbounded
		}
		s0, r0 := tock.NewStream[int](max)
		type sh struct {
			h      *tock.SendStream[int]
			closed bool
		}
		type rh struct {
			h      *tock.ReceiveStream[int]
			closed bool
		}
		sends, recvs := []*sh{{h: s0}}, []*rh{{h: r0}}
		var buf []int // the model
		openSend, openRecv, next := 1, 1, 0
		check := func(op string, got, want error) {
			if !errors.Is(got, want) {
				t.Fatalf("%s: got %v, want %v", op, got, want)
			}
		}
		for i := 1; i+1 < len(ops); i += 2 {
			which := int(ops[i+1])
			switch ops[i] % 6 {
			case 0: // TrySend
				h := sends[which%len(sends)]
				var want error
				switch {
				case h.closed:
					want = tock.ErrClosedResource
				case openRecv == 0:
					want = tock.ErrBrokenResource
				case len(buf) >= max:
					want = tock.ErrWouldBlock
				}
				next++
				check("TrySend", h.h.TrySend(next), want)
				if want == nil {
					buf = append(buf, next)
				}
			case 1: // TryReceive
				h := recvs[which%len(recvs)]
				v, err := h.h.TryReceive()
				switch {
				case h.closed:
					check("TryReceive", err, tock.ErrClosedResource)
				case len(buf) > 0:
					check("TryReceive", err, nil)
					if v != buf[0] {
						t.Fatalf("TryReceive = %d, want %d", v, buf[0])
					}
					buf = buf[1:]
				case openSend == 0:
					check("TryReceive", err, tock.ErrEndOfStream)
				default:
					check("TryReceive", err, tock.ErrWouldBlock)
				}
			case 2: // clone a send handle
				if h := sends[which%len(sends)]; !h.closed {
					sends = append(sends, &sh{h: h.h.Clone()})
					openSend++
				}
			case 3: // clone a receive handle
				if h := recvs[which%len(recvs)]; !h.closed {
					recvs = append(recvs, &rh{h: h.h.Clone()})
					openRecv++
				}
			case 4: // close a send handle
				if h := sends[which%len(sends)]; !h.closed {
					h.closed = true
					openSend--
				}
				sends[which%len(sends)].h.Close()
			case 5: // close a receive handle
				if h := recvs[which%len(recvs)]; !h.closed {
					h.closed = true
					openRecv--
				}
				recvs[which%len(recvs)].h.Close()
			}
			st := s0.Stats()
			if st.BufferUsed != len(buf) || st.OpenSendStreams != openSend || st.OpenReceiveStreams != openRecv || st.WaitingSend != 0 || st.WaitingReceive != 0 {
				t.Fatalf("stats %+v; model buffer %d, open %d/%d", st, len(buf), openSend, openRecv)
			}
		}
	})
}
