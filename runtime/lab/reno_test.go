package lab

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// streamPair dials b from a on n and returns both ends.
func streamPair(t *testing.T, a, b *Host) (net.Conn, net.Conn) {
	t.Helper()
	ctx := context.Background()
	ln, err := b.Listen(ctx, "tcp", ":5001")
	if err != nil {
		t.Fatal(err)
	}
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		acc <- c
	}()
	c, err := a.Dial(ctx, "tcp", "b:5001")
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	ln.Close()
	return c, s
}

func TestSendBuffer(t *testing.T) {
	t.Run("a write blocks while the buffer is full", func(t *testing.T) {
		// 1 Mbps: 256 KiB takes about 2.2 s to leave.
		n, a, b, _ := pair(t, LinkConfig{Rate: 1e6, Delay: 10 * time.Millisecond, Queue: -1})
		c, s := streamPair(t, a, b)
		go io.Copy(io.Discard, s)
		start := n.Elapsed()
		if _, err := c.Write(make([]byte, DefaultSndBuf)); err != nil {
			t.Fatal(err)
		}
		if d := n.Elapsed() - start; d != 0 {
			t.Errorf("a write that fits took %v of lab time", d)
		}
		// The next megabyte waits for the link: the first half of the
		// buffer must leave before the write gets room.
		if _, err := c.Write(make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		wire := func(b int) time.Duration {
			return time.Duration(float64(b) / MSS * (MSS + TCPHeader) * 8 / 1e6 * float64(time.Second))
		}
		// It returns once the rest fits: after a megabyte has left, before
		// everything has.
		if d := n.Elapsed() - start; d < wire(1<<20) || d > wire(1<<20+DefaultSndBuf) {
			t.Errorf("the second write returned after %v, want between %v and %v", d, wire(1<<20), wire(1<<20+DefaultSndBuf))
		}
	})
	t.Run("the write deadline and close end a blocked write", func(t *testing.T) {
		n, a, b, _ := pair(t, LinkConfig{Rate: 1e6, Delay: 10 * time.Millisecond, Queue: -1})
		c, _ := streamPair(t, a, b)
		c.SetWriteDeadline(n.Now().Add(time.Second))
		start := n.Elapsed()
		k, err := c.Write(make([]byte, 4<<20))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write: %d, %v; want a timeout", k, err)
		}
		near(t, "timed out after", n.Elapsed()-start, time.Second, 0)
		if k <= 0 || k > DefaultSndBuf {
			t.Errorf("wrote %d bytes before the deadline", k)
		}
		c.SetWriteDeadline(time.Time{})
		done := make(chan error, 1)
		go func() { _, err := c.Write(make([]byte, 4<<20)); done <- err }()
		n.Sleep(context.Background(), 100*time.Millisecond)
		n.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("write blocked when the network closed: %v", err)
		}
	})
	t.Run("a reset ends a blocked write", func(t *testing.T) {
		_, a, b, _ := pair(t, LinkConfig{Rate: 1e6, Delay: 10 * time.Millisecond, Queue: -1})
		c, s := streamPair(t, a, b)
		done := make(chan error, 1)
		go func() { _, err := c.Write(make([]byte, 4<<20)); done <- err }()
		s.Close() // data arriving at a closed end is answered with a reset
		if err := <-done; err == nil {
			t.Error("a write to a reset connection succeeded")
		}
	})
}

// renoNet is senders s0..s(k-1) behind router r1, a bottleneck r1-r2 of
// rate and delay with a drop-tail queue, and the sink behind r2.
func renoNet(t *testing.T, k int, rate float64, delay time.Duration, queue int) (*Network, []*Host, *Host) {
	n := NewNetwork(Options{Seed: 1, TCP: TCPReno})
	t.Cleanup(func() {
		n.Close()
		if _, forced := n.SchedStats(); forced > 0 {
			t.Errorf("%d forced clock steps", forced)
		}
	})
	n.NewRouter("r1")
	n.NewRouter("r2")
	mustLink(t, n, "r1", "r2", LinkConfig{Rate: rate, Delay: delay, Queue: queue})
	sink := mustHost(t, n, "b")
	mustLink(t, n, "r2", "b", LinkConfig{Rate: 100e6, Delay: time.Millisecond, Queue: -1})
	var hs []*Host
	for i := 0; i < k; i++ {
		h := mustHost(t, n, string(rune('a'+i))+"s")
		mustLink(t, n, h.Hostname(), "r1", LinkConfig{Rate: 100e6, Delay: time.Millisecond, Queue: -1})
		hs = append(hs, h)
	}
	return n, hs, sink
}

func TestReno(t *testing.T) {
	t.Run("slow start doubles the window every round trip", func(t *testing.T) {
		n, hs, sink := renoNet(t, 1, 100e6, 20*time.Millisecond, -1)
		c, s := streamPair(t, hs[0], sink)
		go io.Copy(io.Discard, s)
		go c.Write(make([]byte, 4<<20))
		rtt := 44 * time.Millisecond
		n.Sleep(context.Background(), rtt/2) // the first segments are on their way
		var cw []float64
		for i := 0; i < 5; i++ {
			n.Sleep(context.Background(), rtt)
			cw = append(cw, n.Flows()[0].Cwnd)
		}
		for i := 1; i < len(cw); i++ {
			if cw[i] != 2*cw[i-1] {
				t.Errorf("cwnd by round trip %v: want doubling", cw)
				break
			}
		}
	})
	t.Run("a lost segment is repaired by fast retransmit", func(t *testing.T) {
		n, hs, sink := renoNet(t, 1, 10e6, 20*time.Millisecond, 20)
		c, s := streamPair(t, hs[0], sink)
		const size = 3 << 20
		got := make(chan int64, 1)
		go func() { k, _ := io.Copy(io.Discard, s); got <- k }()
		c.Write(make([]byte, size))
		f := n.Flows()[0]
		c.Close()
		if k := <-got; k != size {
			t.Fatalf("received %d of %d bytes", k, size)
		}
		if f.FastRetransmits == 0 || f.Ssthresh == 0 || f.Cwnd > 60 {
			t.Errorf("after a bulk transfer through a 20-packet queue: %+v", f)
		}
	})
	t.Run("two flows share a bottleneck", func(t *testing.T) {
		n, hs, sink := renoNet(t, 2, 10e6, 20*time.Millisecond, 37)
		for _, h := range hs {
			c, s := streamPair(t, h, sink)
			go io.Copy(io.Discard, s)
			go func() {
				for {
					if _, err := c.Write(make([]byte, 64<<10)); err != nil {
						return
					}
				}
			}()
		}
		n.Sleep(context.Background(), 5*time.Second)
		before := n.Flows()
		n.Sleep(context.Background(), 10*time.Second)
		after := n.Flows()
		var x []float64
		for i := range after {
			if after[i].Model != TCPReno {
				t.Fatalf("flow %+v is not Reno", after[i])
			}
			if after[i].Host != "b" {
				x = append(x, float64(after[i].BytesAcked-before[i].BytesAcked))
			}
		}
		if j := (x[0] + x[1]) * (x[0] + x[1]) / (2 * (x[0]*x[0] + x[1]*x[1])); j < 0.95 {
			t.Errorf("Jain's index %.3f for %v", j, x)
		}
	})
}

func TestCloseRead(t *testing.T) {
	_, a, b, _ := pair(t, LinkConfig{Rate: 1e6, Delay: 10 * time.Millisecond, Queue: -1})
	c, s := streamPair(t, a, b)
	s.Write([]byte("dropped"))
	if err := c.(*Conn).CloseRead(); err != nil {
		t.Fatal(err)
	}
	if k, err := c.Read(make([]byte, 10)); k != 0 || err != io.EOF {
		t.Errorf("read after CloseRead: %d, %v; want EOF", k, err)
	}
	if _, err := c.Write([]byte("still writes")); err != nil {
		t.Errorf("write after CloseRead: %v", err)
	}
	c.Close()
	buf := make([]byte, 20)
	k, _ := io.ReadFull(s, buf[:12])
	if string(buf[:k]) != "still writes" {
		t.Errorf("the peer read %q", buf[:k])
	}
}
