package lab

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

func mustHost(t *testing.T, n *Network, name string) *Host {
	t.Helper()
	h, err := n.NewHost(name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustLink(t *testing.T, n *Network, a, b string, cfg LinkConfig) *Link {
	t.Helper()
	l, err := n.Connect(a, b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func near(t *testing.T, what string, got, want, tol time.Duration) {
	t.Helper()
	if d := got - want; d < -tol || d > tol {
		t.Errorf("%s = %v, want %v (±%v)", what, got, want, tol)
	}
}

// pair is two hosts a and b joined by one link.
func pair(t *testing.T, cfg LinkConfig) (*Network, *Host, *Host, *Link) {
	n := NewNetwork(Options{Seed: 1})
	t.Cleanup(func() {
		n.Close()
		if _, forced := n.SchedStats(); forced > 0 {
			t.Errorf("%d forced clock steps", forced)
		}
	})
	a, b := mustHost(t, n, "a"), mustHost(t, n, "b")
	return n, a, b, mustLink(t, n, "a", "b", cfg)
}

// noise is n pseudo-random bytes.
func noise(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// readsIntact accepts one connection on ln and reads it to its end, which
// must be want.
func readsIntact(t *testing.T, ln net.Listener, want []byte) {
	t.Helper()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes (err %v), want the %d sent intact", len(got), err, len(want))
	}
}

func udpPair(t *testing.T, a, b *Host) (net.PacketConn, net.PacketConn) {
	ctx := context.Background()
	pa, err := a.ListenPacket(ctx, "udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.ListenPacket(ctx, "udp", ":9")
	if err != nil {
		t.Fatal(err)
	}
	return pa, pb
}

func TestLinkModel(t *testing.T) {
	ctx := context.Background()
	t.Run("transmission, propagation and queueing", func(t *testing.T) {
		n, a, b, l := pair(t, LinkConfig{Rate: 1e6, Delay: 10 * time.Millisecond, Queue: -1})
		pa, pb := udpPair(t, a, b)
		start := n.Elapsed()
		// 972 bytes + 28 header = 1000 bytes = 8 ms at 1 Mbps.
		pa.WriteTo(make([]byte, 972), pb.LocalAddr())
		pa.WriteTo(make([]byte, 972), pb.LocalAddr())
		buf := make([]byte, 2000)
		pb.ReadFrom(buf)
		near(t, "first arrival", n.Elapsed()-start, 18*time.Millisecond, 0)
		pb.ReadFrom(buf)
		near(t, "second arrival", n.Elapsed()-start, 26*time.Millisecond, 0)
		ab, _, _, _ := l.Stats()
		if ab.Packets != 2 || ab.Bytes != 2000 || ab.QueueDelay != 8*time.Millisecond || ab.Busy != 16*time.Millisecond {
			t.Errorf("stats %+v", ab)
		}
	})
	t.Run("store and forward over two hops", func(t *testing.T) {
		n := NewNetwork(Options{})
		defer n.Close()
		a, b := mustHost(t, n, "a"), mustHost(t, n, "b")
		n.NewRouter("r")
		mustLink(t, n, "a", "r", LinkConfig{Rate: 1e6, Delay: 10 * time.Millisecond, Queue: -1})
		mustLink(t, n, "r", "b", LinkConfig{Rate: 1e6, Delay: 10 * time.Millisecond, Queue: -1})
		pa, pb := udpPair(t, a, b)
		start := n.Elapsed()
		pa.WriteTo(make([]byte, 972), pb.LocalAddr())
		pb.ReadFrom(make([]byte, 2000))
		near(t, "arrival", n.Elapsed()-start, 36*time.Millisecond, 0)
	})
	t.Run("shortest path by delay", func(t *testing.T) {
		n := NewNetwork(Options{})
		defer n.Close()
		a, b := mustHost(t, n, "a"), mustHost(t, n, "b")
		n.NewRouter("slow")
		n.NewRouter("fast1")
		n.NewRouter("fast2")
		cfg := func(d time.Duration) LinkConfig { return LinkConfig{Rate: 1e9, Delay: d, Queue: -1} }
		mustLink(t, n, "a", "slow", cfg(50*time.Millisecond))
		mustLink(t, n, "slow", "b", cfg(50*time.Millisecond))
		mustLink(t, n, "a", "fast1", cfg(10*time.Millisecond))
		mustLink(t, n, "fast1", "fast2", cfg(10*time.Millisecond))
		mustLink(t, n, "fast2", "b", cfg(10*time.Millisecond))
		pa, pb := udpPair(t, a, b)
		start := n.Elapsed()
		pa.WriteTo([]byte("x"), pb.LocalAddr())
		pb.ReadFrom(make([]byte, 10))
		near(t, "arrival", n.Elapsed()-start, 30*time.Millisecond, time.Microsecond)
	})
	t.Run("drop-tail", func(t *testing.T) {
		n := NewNetwork(Options{})
		defer n.Close()
		a, b := mustHost(t, n, "a"), mustHost(t, n, "b")
		n.NewRouter("r")
		mustLink(t, n, "a", "r", LinkConfig{Rate: 1e9, Delay: time.Millisecond, Queue: -1})
		l := mustLink(t, n, "r", "b", LinkConfig{Rate: 1e6, Delay: time.Millisecond, Queue: 2})
		pa, pb := udpPair(t, a, b)
		for i := 0; i < 6; i++ {
			pa.WriteTo(make([]byte, 972), pb.LocalAddr())
		}
		pb.SetReadDeadline(n.Now().Add(time.Second))
		got := 0
		for {
			if _, _, err := pb.ReadFrom(make([]byte, 2000)); err != nil {
				break
			}
			got++
		}
		ab, _, _, _ := l.Stats()
		// one in transmission and two waiting pass; the other three are dropped.
		if got != 3 || ab.Drops != 3 {
			t.Errorf("received %d, drops %d; want 3 and 3", got, ab.Drops)
		}
	})
	t.Run("datagram loss", func(t *testing.T) {
		n, a, b, l := pair(t, LinkConfig{Rate: 1e9, Delay: time.Millisecond, Loss: 0.3, Queue: -1})
		pa, pb := udpPair(t, a, b)
		for i := 0; i < 1000; i++ {
			pa.WriteTo([]byte("x"), pb.LocalAddr())
		}
		pb.SetReadDeadline(n.Now().Add(time.Second))
		got := 0
		for {
			if _, _, err := pb.ReadFrom(make([]byte, 10)); err != nil {
				break
			}
			got++
		}
		ab, _, _, _ := l.Stats()
		if int64(got)+ab.Lost != 1000 || got < 620 || got > 780 {
			t.Errorf("received %d, lost %d of 1000 at loss 0.3", got, ab.Lost)
		}
	})
	t.Run("streams are reliable under loss", func(t *testing.T) {
		n, a, b, l := pair(t, LinkConfig{Rate: 10e6, Delay: 5 * time.Millisecond, Loss: 0.2, Queue: -1})
		ln, err := b.Listen(ctx, "tcp", ":80")
		if err != nil {
			t.Fatal(err)
		}
		data := noise(200_000, 1)
		go func() {
			c, err := a.Dial(ctx, "tcp", "b:80")
			if err != nil {
				t.Error(err)
				return
			}
			c.Write(data)
			c.Close()
		}()
		readsIntact(t, ln, data)
		ab, _, _, _ := l.Stats()
		if ab.Lost == 0 {
			t.Errorf("no segment lost at loss 0.2: %+v", ab)
		}
		// Lost segments are sent again after a timeout: loss shows as delay.
		if min := time.Duration(float64(len(data)*8)/10e6*1e9) + 15*time.Millisecond; n.Elapsed() < min+minRTO {
			t.Errorf("transfer took %v, expected retransmission delays", n.Elapsed())
		}
	})
	t.Run("connection setup costs a round trip", func(t *testing.T) {
		n, a, b, _ := pair(t, LinkConfig{Rate: 1e9, Delay: 50 * time.Millisecond, Queue: -1})
		ln, _ := b.Listen(ctx, "tcp", ":80")
		defer ln.Close()
		start := n.Elapsed()
		c, err := a.Dial(ctx, "tcp", "b:80")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		near(t, "dial", n.Elapsed()-start, 100*time.Millisecond, 10*time.Microsecond)
		if _, err := a.Dial(ctx, "tcp", "b:81"); !errors.Is(err, syscallRefused) {
			t.Errorf("dial to a closed port: %v, want connection refused", err)
		}
	})
}

func TestDeadlinesAndClose(t *testing.T) {
	ctx := context.Background()
	n, a, b, _ := pair(t, LinkConfig{Rate: 1e9, Delay: time.Millisecond, Queue: -1})
	ln, _ := b.Listen(ctx, "tcp", ":80")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c // holds the connection open, never writes
		}
	}()
	t.Run("read deadline in lab time", func(t *testing.T) {
		c, _ := a.Dial(ctx, "tcp", "b:80")
		defer c.Close()
		start := n.Elapsed()
		c.SetReadDeadline(n.Now().Add(3 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("err %v, want a timeout", err)
		}
		near(t, "timeout after", n.Elapsed()-start, 3*time.Second, 0)
	})
	t.Run("real-clock deadline is converted", func(t *testing.T) {
		c, _ := a.Dial(ctx, "tcp", "b:80")
		defer c.Close()
		start := n.Elapsed()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("err %v, want a timeout", err)
		}
		near(t, "timeout after", n.Elapsed()-start, 2*time.Second, 50*time.Millisecond)
	})
	t.Run("past deadline unblocks a pending read", func(t *testing.T) {
		c, _ := a.Dial(ctx, "tcp", "b:80")
		defer c.Close()
		errc := make(chan error)
		go func() { _, err := c.Read(make([]byte, 1)); errc <- err }()
		time.Sleep(20 * time.Millisecond)
		c.SetDeadline(time.Unix(1, 0))
		if err := <-errc; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("err %v, want a timeout", err)
		}
	})
	t.Run("close unblocks read", func(t *testing.T) {
		c, _ := a.Dial(ctx, "tcp", "b:80")
		errc := make(chan error)
		go func() { _, err := c.Read(make([]byte, 1)); errc <- err }()
		time.Sleep(20 * time.Millisecond)
		c.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("err %v, want net.ErrClosed", err)
		}
		if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
	})
	t.Run("close write gives the peer EOF", func(t *testing.T) {
		l2, _ := b.Listen(ctx, "tcp", ":81")
		defer l2.Close()
		go func() {
			c, _ := a.Dial(ctx, "tcp", "b:81")
			c.Write([]byte("hello"))
			c.(*Conn).CloseWrite()
			io.Copy(io.Discard, c)
			c.Close()
		}()
		s, _ := l2.Accept()
		got, err := io.ReadAll(s)
		if err != nil || string(got) != "hello" {
			t.Fatalf("read %q, %v", got, err)
		}
		s.Close()
	})
	t.Run("listener deadline and close", func(t *testing.T) {
		l2, _ := b.Listen(ctx, "tcp", ":82")
		l2.(*Listener).SetDeadline(n.Now().Add(time.Second))
		if _, err := l2.Accept(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("accept: %v, want a timeout", err)
		}
		l2.(*Listener).SetDeadline(time.Time{})
		errc := make(chan error)
		go func() { _, err := l2.Accept(); errc <- err }()
		time.Sleep(20 * time.Millisecond)
		l2.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("accept after close: %v", err)
		}
	})
	t.Run("packet conn deadline and close", func(t *testing.T) {
		pc, _ := a.ListenPacket(ctx, "udp", ":0")
		pc.SetReadDeadline(n.Now().Add(time.Second))
		if _, _, err := pc.ReadFrom(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read: %v, want a timeout", err)
		}
		pc.SetReadDeadline(time.Time{})
		errc := make(chan error)
		go func() { _, _, err := pc.ReadFrom(make([]byte, 10)); errc <- err }()
		time.Sleep(20 * time.Millisecond)
		pc.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after close: %v", err)
		}
	})
	t.Run("network close unblocks everything", func(t *testing.T) {
		c, _ := a.Dial(ctx, "tcp", "b:80")
		errc := make(chan error)
		go func() { _, err := c.Read(make([]byte, 1)); errc <- err }()
		time.Sleep(20 * time.Millisecond)
		n.Close()
		if err := <-errc; err == nil {
			t.Fatal("a blocked read returned no error after the network closed")
		}
		if err := n.Sleep(ctx, time.Second); err == nil {
			t.Fatal("sleep on a closed network returned no error")
		}
		if _, err := a.Dial(ctx, "tcp", "b:80"); err == nil {
			t.Fatal("dial on a closed network succeeded")
		}
	})
}

var syscallRefused = refusedErr()
