package socket

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A script's socket loop is ping-pong: send, then wait for the answer that
// is usually on its way already. Parking the goroutine on Go's network
// poller and being woken through epoll costs more per message than Python's
// blocking recvfrom (a netplay client and server did less than half of
// Python's round trips), so before parking, a receive on an
// operating-system socket polls without blocking for a short while,
// yielding the CPU between polls so that a peer on the same core runs. An
// idle socket costs spinFor per receive; a busy one gets its answer without
// a wake-up. Sockets of other stacks (the lab) take the ordinary path.
const spinFor = 50 * time.Microsecond

// spin returns a syscall.RawConn read function that calls try until it
// reports done or spinFor has passed; then it reports false, and the
// runtime parks on the poller, which honours deadlines, and calls it again
// when the socket is readable.
func spin(try func(fd int) bool) func(fd uintptr) bool {
	var start time.Time
	parked := false
	return func(fd uintptr) bool {
		if start.IsZero() {
			start = time.Now()
		}
		for {
			if try(int(fd)) {
				return true
			}
			if parked || time.Since(start) > spinFor {
				parked = true
				return false
			}
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
}

func rawConn(c any) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// SpinReadFrom is pc.ReadFrom with the spin. ok is false when pc is not an
// OS socket, and the caller must read the ordinary way.
func SpinReadFrom(pc net.PacketConn, buf []byte) (n int, from net.Addr, err error, ok bool) {
	rc := rawConn(pc)
	if rc == nil {
		return 0, nil, nil, false
	}
	var sa unix.Sockaddr
	var rerr error
	err = rc.Read(spin(func(fd int) bool {
		n, sa, rerr = unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		return !errors.Is(rerr, unix.EAGAIN)
	}))
	if err != nil {
		return 0, nil, err, true
	}
	if rerr != nil {
		return 0, nil, &net.OpError{Op: "read", Net: "udp", Addr: pc.LocalAddr(), Err: rerr}, true
	}
	return n, sockaddrToUDP(sa), nil, true
}

// SpinRead is c.Read with the spin, for connected OS sockets.
func SpinRead(c net.Conn, buf []byte) (n int, err error, ok bool) {
	rc := rawConn(c)
	if rc == nil {
		return 0, nil, false
	}
	var rerr error
	err = rc.Read(spin(func(fd int) bool {
		n, rerr = unix.Read(fd, buf)
		return !errors.Is(rerr, unix.EAGAIN)
	}))
	if err != nil {
		return 0, err, true
	}
	if rerr != nil {
		return 0, &net.OpError{Op: "read", Net: c.LocalAddr().Network(), Addr: c.RemoteAddr(), Err: rerr}, true
	}
	if n <= 0 && len(buf) > 0 {
		return 0, io.EOF, true
	}
	return n, nil, true
}

func sockaddrToUDP(sa unix.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.UDPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *unix.SockaddrInet6:
		return &net.UDPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
	}
	return nil
}
