package lab

import (
	"context"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// A bulk transfer reuses its send buffer's memory once segments are
// delivered, and the bytes arrive intact whatever the sizes of the writes:
// the reuse must never hand out memory a segment still reads.
func TestSendBufferIsReused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model TCPModel
		loss  float64
	}{
		{"ideal", TCPIdeal, 0},
		{"ideal with loss", TCPIdeal, 0.02},
		{"reno with loss", TCPReno, 0.02},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNetwork(Options{Seed: 1, TCP: tc.model})
			defer n.Close()
			a, b := mustHost(t, n, "a"), mustHost(t, n, "b")
			mustLink(t, n, "a", "b", LinkConfig{Rate: 100e6, Delay: 10 * time.Millisecond, Loss: tc.loss, Queue: -1})
			ln, err := b.Listen(context.Background(), "tcp", ":80")
			if err != nil {
				t.Fatal(err)
			}
			data := noise(8<<20, 3)
			r := rand.New(rand.NewPCG(3, 4))
			go func() {
				c, err := a.Dial(context.Background(), "tcp", "b:80")
				if err != nil {
					t.Error(err)
					return
				}
				// Writes of every size, some smaller than a segment and
				// some spanning chunks, so slots are left part full.
				for p := data; len(p) > 0; {
					k := min(len(p), 1+r.IntN(200_000))
					if r.IntN(4) == 0 {
						k = min(len(p), 1+r.IntN(MSS))
					}
					if _, err := c.Write(p[:k]); err != nil {
						t.Error(err)
						return
					}
					p = p[k:]
				}
				c.Close()
			}()
			readsIntact(t, ln, data)
			n.mu.Lock()
			made := n.chunksMade
			n.mu.Unlock()
			sent := len(data) / (chunkSlots * MSS)
			t.Logf("%d chunks made for %d chunks' worth of data", made, sent)
			// Lossless, the ideal model holds a send buffer (256 KiB) and
			// a link's worth in flight (125 KB): a handful of chunks. Under
			// loss, segments behind a lost one wait for it at the
			// receiver, and Reno's are left to the garbage collector.
			if tc.model == TCPIdeal && tc.loss == 0 && made > 8 {
				t.Errorf("made %d chunks for %d chunks' worth: memory grows with data sent, not with data in flight", made, sent)
			}
		})
	}
}

// A bulk transfer's per-packet records are reused: 10 MB (7,200
// segments, each crossing one link) allocate far fewer objects than
// segments. Each segment's reliable and inflight used to be fresh.
func TestSegmentRecordsAreReused(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations of a whole transfer")
	}
	data := make([]byte, 10<<20)
	allocs := testing.AllocsPerRun(3, func() { transfer(t, data) })
	segments := float64(len(data)) / MSS
	t.Logf("%.0f allocations for %.0f segments", allocs, segments)
	if allocs > segments/2 {
		t.Errorf("%.0f allocations for %.0f segments: per-segment records are not reused", allocs, segments)
	}
}

// BenchmarkTransfer sends 10 MB over one 100 Mbps link; its allocations
// per operation divided by the segments (7,000) are the lab's per-segment
// cost.
func BenchmarkTransfer(b *testing.B) {
	data := make([]byte, 10<<20)
	for b.Loop() {
		transfer(b, data)
	}
}

// transfer sends data over one 100 Mbps link of a new network and reads
// it to the end.
func transfer(tb testing.TB, data []byte) {
	n := NewNetwork(Options{Seed: 1})
	defer n.Close()
	x, _ := n.NewHost("a")
	y, _ := n.NewHost("b")
	n.Connect("a", "b", LinkConfig{Rate: 100e6, Delay: 10 * time.Millisecond, Queue: -1})
	ln, _ := y.Listen(context.Background(), "tcp", ":80")
	go func() {
		c, err := x.Dial(context.Background(), "tcp", "b:80")
		if err != nil {
			tb.Error(err)
			return
		}
		c.Write(data)
		c.Close()
	}()
	c, _ := ln.Accept()
	io.Copy(io.Discard, c)
}

// BenchmarkFanout has 30 hosts behind a router each read 2 MB from one
// server: the streams share the server's link, and every segment crosses
// two links (about 43,000 segments).
func BenchmarkFanout(b *testing.B) {
	data := make([]byte, 2<<20)
	for b.Loop() {
		n := NewNetwork(Options{Seed: 1})
		srv, _ := n.NewHost("server")
		n.NewRouter("r")
		n.Connect("server", "r", LinkConfig{Rate: 1e9, Delay: time.Millisecond, Queue: -1})
		ln, _ := srv.Listen(context.Background(), "tcp", ":80")
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					c.Write(data)
					c.Close()
				}()
			}
		}()
		done := make(chan struct{})
		for i := range 30 {
			name := "h" + strconv.Itoa(i)
			h, _ := n.NewHost(name)
			n.Connect(name, "r", LinkConfig{Rate: 100e6, Delay: 5 * time.Millisecond, Queue: -1})
			go func() {
				defer func() { done <- struct{}{} }()
				c, err := h.Dial(context.Background(), "tcp", "server:80")
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, c)
			}()
		}
		for range 30 {
			<-done
		}
		n.Close()
	}
}
