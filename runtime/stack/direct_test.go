package stack_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

var (
	loop4 = netip.MustParseAddrPort("127.0.0.1:0")
	loop6 = netip.MustParseAddrPort("[::1]:0")
)

func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// result is what a call running on another goroutine returned.
type result struct {
	n   int
	err error
}

// within waits for a call started on another goroutine; a call that does
// not end is a hang, which is the bug these tests look for.
func within(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not return")
		return result{}
	}
}

func TestDirectUDPExchange(t *testing.T) {
	for _, c := range []struct {
		network string
		ap      netip.AddrPort
	}{{"udp4", loop4}, {"udp6", loop6}} {
		t.Run(c.network, func(t *testing.T) {
			srv, err := stack.OS.ListenPacketDirect(c.network, c.ap)
			if err != nil {
				t.Skip(err) // no IPv6 loopback here
			}
			defer srv.Close()
			cl, err := stack.OS.DialDirect(context.Background(), c.network, addrPort(t, srv.LocalAddr()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if _, err := cl.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			n, from, err := srv.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "ping" {
				t.Fatalf("ReadFrom = %q, %v", buf[:n], err)
			}
			if from.String() != cl.LocalAddr().String() {
				t.Errorf("sender %s, want %s", from, cl.LocalAddr())
			}
			if _, err := srv.WriteTo([]byte("PONG"), from); err != nil {
				t.Fatal(err)
			}
			n, err = cl.Read(buf)
			if err != nil || string(buf[:n]) != "PONG" {
				t.Fatalf("Read = %q, %v", buf[:n], err)
			}
		})
	}
}

func TestDirectTCPExchange(t *testing.T) {
	ln, err := stack.OS.ListenDirect("tcp4", loop4)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		c.Write(append([]byte("got "), b...))
	}()
	c, err := stack.OS.DialDirect(context.Background(), "tcp4", addrPort(t, ln.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	c.(interface{ CloseWrite() error }).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "got hello" {
		t.Fatalf("read %q, %v; want \"got hello\"", b, err)
	}
}

func TestDirectReadDeadline(t *testing.T) {
	pc, err := stack.OS.ListenPacketDirect("udp4", loop4)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, _, err = pc.ReadFrom(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom past its deadline: %v, want a timeout", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error timeout", err)
	}
}

// A deadline moved while a call waits applies to that call at once: it is
// how the binding ends a blocking call when the script ends.
func TestDirectDeadlineMovedWhileWaiting(t *testing.T) {
	pc, err := stack.OS.ListenPacketDirect("udp4", loop4)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ch := make(chan result, 1)
	go func() {
		n, _, err := pc.ReadFrom(make([]byte, 10))
		ch <- result{n, err}
	}()
	time.Sleep(50 * time.Millisecond) // let it spin, then sleep in ppoll
	pc.SetReadDeadline(time.Unix(1, 0))
	if r := within(t, ch); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom = %v, want a timeout", r.err)
	}
}

func TestDirectCloseWakesWaitingCalls(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		pc, err := stack.OS.ListenPacketDirect("udp4", loop4)
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan result, 1)
		go func() {
			n, _, err := pc.ReadFrom(make([]byte, 10))
			ch <- result{n, err}
		}()
		time.Sleep(50 * time.Millisecond)
		pc.Close()
		// The port is free once Close returns, though a call was waiting.
		again, err := stack.OS.ListenPacketDirect("udp4", addrPort(t, pc.LocalAddr()))
		if err != nil {
			t.Fatalf("binding the port of a closed socket: %v", err)
		}
		again.Close()
		if r := within(t, ch); !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("ReadFrom on a socket closed meanwhile = %v, want net.ErrClosed", r.err)
		}
		if _, err := pc.WriteTo([]byte("x"), pc.LocalAddr()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteTo after close = %v, want net.ErrClosed", err)
		}
		if err := pc.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v, want net.ErrClosed", err)
		}
	})
	t.Run("accept", func(t *testing.T) {
		ln, err := stack.OS.ListenDirect("tcp4", loop4)
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan result, 1)
		go func() {
			_, err := ln.Accept()
			ch <- result{0, err}
		}()
		time.Sleep(50 * time.Millisecond)
		ln.Close()
		if r := within(t, ch); !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("Accept on a listener closed meanwhile = %v, want net.ErrClosed", r.err)
		}
	})
}

func TestDirectContextEndsWaitingCall(t *testing.T) {
	pc, err := stack.OS.ListenPacketDirect("udp4", loop4)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	d := pc.(*stack.DirectConn)
	stop := errors.New("the script ended")
	for round := 0; round < 2; round++ { // the second finds the context done at once
		ctx, cancel := context.WithCancelCause(context.Background())
		ch := make(chan result, 1)
		go func() {
			n, _, err := d.ReadFromContext(ctx, make([]byte, 10))
			ch <- result{n, err}
		}()
		time.Sleep(50 * time.Millisecond)
		cancel(stop)
		if r := within(t, ch); !errors.Is(r.err, stop) {
			t.Fatalf("round %d: ReadFromContext = %v, want the context's cause", round, r.err)
		}
	}
	// The socket still works after a call was ended.
	pc.WriteTo([]byte("after"), pc.LocalAddr())
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 10)
	if n, _, err := d.ReadFromContext(context.Background(), buf); err != nil || string(buf[:n]) != "after" {
		t.Fatalf("ReadFrom after an ended call = %q, %v", buf[:n], err)
	}
}

// Python's non-blocking recv: with a deadline already past, data that is
// there is still returned, and only an empty socket times out.
func TestDirectPastDeadlineStillReadsWhatIsThere(t *testing.T) {
	pc, err := stack.OS.ListenPacketDirect("udp4", loop4)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.WriteTo([]byte("here"), pc.LocalAddr())
	time.Sleep(10 * time.Millisecond)
	pc.SetReadDeadline(time.Now())
	buf := make([]byte, 10)
	if n, _, err := pc.ReadFrom(buf); err != nil || string(buf[:n]) != "here" {
		t.Fatalf("ReadFrom = %q, %v; want the datagram", buf[:n], err)
	}
	if _, _, err := pc.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom on an empty socket = %v, want a timeout", err)
	}
}

func TestDirectDialErrors(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		ln, err := stack.OS.ListenDirect("tcp4", loop4)
		if err != nil {
			t.Fatal(err)
		}
		ap := addrPort(t, ln.Addr())
		ln.Close()
		_, err = stack.OS.DialDirect(context.Background(), "tcp4", ap)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("Dial to a closed port = %v, want ECONNREFUSED", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		// A listener that never accepts, with a queue of one, leaves
		// further connections waiting for an answer to their SYN.
		l, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(l)
		syscall.Bind(l, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
		if err := syscall.Listen(l, 0); err != nil {
			t.Fatal(err)
		}
		sa, _ := syscall.Getsockname(l)
		ap := netip.AddrPortFrom(netip.AddrFrom4(sa.(*syscall.SockaddrInet4).Addr), uint16(sa.(*syscall.SockaddrInet4).Port))
		for i := 0; i < 20; i++ {
			ctx, cancel := context.WithCancelCause(context.Background())
			timer := time.AfterFunc(200*time.Millisecond, func() { cancel(context.DeadlineExceeded) })
			c, err := stack.OS.DialDirect(ctx, "tcp4", ap)
			timer.Stop()
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("Dial that ran out of time = %v, want a timeout", err)
				}
				return
			}
			defer c.Close()
		}
		t.Skip("the listen queue never filled")
	})
}

func TestDirectEOFAndReset(t *testing.T) {
	ln, err := stack.OS.ListenDirect("tcp4", loop4)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := stack.OS.DialDirect(context.Background(), "tcp4", addrPort(t, ln.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if s.RemoteAddr().String() != c.LocalAddr().String() {
		t.Errorf("accepted from %s, want %s", s.RemoteAddr(), c.LocalAddr())
	}
	s.Close()
	if _, err := c.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("Read after the peer closed = %v, want io.EOF", err)
	}
	// Writing to a closed peer is answered with a reset.
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = c.Write([]byte("x"))
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(werr, syscall.EPIPE) && !errors.Is(werr, syscall.ECONNRESET) {
		t.Fatalf("Write to a closed peer = %v, want EPIPE or ECONNRESET", werr)
	}
}
