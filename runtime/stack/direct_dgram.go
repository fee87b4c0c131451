package stack

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The datagram calls of a ping-pong loop take and give netip.AddrPort
// values and pass raw socket addresses to the kernel from the stack:
// syscall.Recvfrom and syscall.Sendto allocate a syscall.Sockaddr per
// call, and a net.UDPAddr two more.

// ReadFromAddrPort is ReadFromContext, with the sender as a netip.AddrPort.
func (c *DirectConn) ReadFromAddrPort(ctx context.Context, p []byte) (n int, from netip.AddrPort, err error) {
	f := c.f
	if err := f.begin(&f.rd, ctx); err != nil {
		return 0, from, f.opErr("read", err)
	}
	defer f.end(&f.rd)
	err = f.retry(&f.rd, unix.POLLIN, "recvfrom", func() (err error) {
		n, from, err = recvfrom(f.sysfd, p)
		return err
	})
	if err != nil {
		return 0, from, f.opErr("read", err)
	}
	return n, from, nil
}

// WriteToAddrPort is WriteToContext, to a netip.AddrPort.
func (c *DirectConn) WriteToAddrPort(ctx context.Context, p []byte, to netip.AddrPort) (int, error) {
	f := c.f
	a := to.Addr().Unmap()
	if f.family == unix.AF_INET && !a.Is4() {
		return 0, f.opErr("write", &net.AddrError{Err: "non-IPv4 address", Addr: a.String()})
	}
	if err := f.begin(&f.wd, ctx); err != nil {
		return 0, f.opErr("write", err)
	}
	defer f.end(&f.wd)
	err := f.retry(&f.wd, unix.POLLOUT, "sendto", func() error {
		return sendto(f.sysfd, f.family, p, to)
	})
	if err != nil {
		return 0, f.opErr("write", err)
	}
	return len(p), nil
}

func recvfrom(fd int, p []byte) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	l := uint32(unix.SizeofSockaddrAny)
	var b unsafe.Pointer
	if len(p) > 0 {
		b = unsafe.Pointer(&p[0])
	}
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(b), uintptr(len(p)), 0,
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return 0, netip.AddrPort{}, e
	}
	var ap netip.AddrPort
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		ap = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), ntohs(sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		ap = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), ntohs(sa.Port))
	}
	return int(n), ap, nil
}

func sendto(fd, family int, p []byte, to netip.AddrPort) error {
	var b unsafe.Pointer
	if len(p) > 0 {
		b = unsafe.Pointer(&p[0])
	}
	var sa4 unix.RawSockaddrInet4
	var sa6 unix.RawSockaddrInet6
	sa, l := unsafe.Pointer(&sa4), uintptr(unix.SizeofSockaddrInet4)
	if family == unix.AF_INET6 {
		sa6.Family, sa6.Port, sa6.Addr = unix.AF_INET6, ntohs(to.Port()), to.Addr().As16()
		sa, l = unsafe.Pointer(&sa6), unix.SizeofSockaddrInet6
	} else {
		sa4.Family, sa4.Port, sa4.Addr = unix.AF_INET, ntohs(to.Port()), to.Addr().Unmap().As4()
	}
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(b), uintptr(len(p)), 0, uintptr(sa), l)
	if e != 0 {
		return e
	}
	return nil
}

// ntohs turns a port between the host's byte order and the network's,
// either way.
func ntohs(port uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], port)
	return *(*uint16)(unsafe.Pointer(&b))
}
