package lab

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// maxQueued is how many datagrams wait in a socket's receive buffer before
// more are dropped.
const maxQueued = 4096

// PacketConn is a lab datagram socket (UDP).
type PacketConn struct {
	h      *Host
	port   uint16
	laddr  *net.UDPAddr
	peer   *net.UDPAddr // set for a connected socket (Dial "udp")
	w      waiter
	q      []datagram
	closed bool
	wdl    time.Duration
	hasWdl bool
}

type datagram struct {
	data []byte
	from *net.UDPAddr
}

func (h *Host) listenUDP(port uint16) (*PacketConn, error) {
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	if n.closed {
		return nil, errNetClosed
	}
	if port == 0 {
		var err error
		if port, err = h.allocPort(true); err != nil {
			return nil, err
		}
	} else if _, used := h.udp[port]; used {
		return nil, os.NewSyscallError("bind", syscall.EADDRINUSE)
	}
	pc := &PacketConn{h: h, port: port, laddr: h.udpAddr(port)}
	h.udp[port] = pc
	return pc, nil
}

func (pc *PacketConn) opErr(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: pc.laddr, Addr: addr, Err: err}
}

// ReadFrom waits for a datagram.
func (pc *PacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n := pc.h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	for {
		switch {
		case pc.closed:
			return 0, nil, pc.opErr("read", nil, n.sockClosed())
		case len(pc.q) > 0:
			d := pc.q[0]
			pc.q = pc.q[1:]
			return copy(p, d.data), d.from, nil
		case n.expired(&pc.w):
			return 0, nil, pc.opErr("read", nil, errTimeout)
		}
		if !n.block(&pc.w) {
			return 0, nil, pc.opErr("read", nil, errNetClosed)
		}
	}
}

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort(), true
	case *net.TCPAddr:
		return a.AddrPort(), true
	}
	if a == nil {
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	return ap, err == nil
}

// WriteTo sends one datagram. Like UDP it may be lost on the way (loss, a
// full queue, nobody listening) without the sender knowing.
func (pc *PacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	return pc.WriteFromTo(p, addr, nil)
}

// ErrNoSpoof is WriteFromTo's error on a host not made to spoof.
var ErrNoSpoof = errors.New("this host may not forge source addresses: make it with net.host(name, spoof=True)")

// CanSpoof reports whether the socket's host may forge source addresses.
func (pc *PacketConn) CanSpoof() bool { return pc.h.Spoof() }

// WriteFromTo sends one datagram whose source address is source instead
// of the socket's own (nil: the socket's own), as an attacker forging a
// reply does. Only a host with SetSpoof(true) may; the datagram still
// leaves from this host and follows its routes.
func (pc *PacketConn) WriteFromTo(p []byte, addr net.Addr, source net.Addr) (int, error) {
	var forged netip.AddrPort
	if source != nil {
		var ok bool
		if forged, ok = addrPort(source); !ok || !forged.Addr().Is4() && !forged.Addr().Is4In6() {
			return 0, pc.opErr("write", addr, &net.AddrError{Err: "not an IPv4 address and port", Addr: source.String()})
		}
	}
	ap, ok := addrPort(addr)
	if !ok {
		return 0, pc.opErr("write", addr, &net.AddrError{Err: "not a UDP address", Addr: addr.String()})
	}
	if len(p) > 65507 {
		return 0, pc.opErr("write", addr, os.NewSyscallError("sendto", syscall.EMSGSIZE))
	}
	n := pc.h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	switch {
	case pc.closed:
		return 0, pc.opErr("write", addr, n.sockClosed())
	case pc.hasWdl && n.now >= pc.wdl:
		return 0, pc.opErr("write", addr, errTimeout)
	case n.closed:
		return 0, pc.opErr("write", addr, errNetClosed)
	}
	h := pc.h
	if source != nil && !h.spoof {
		return 0, pc.opErr("write", addr, ErrNoSpoof)
	}
	dst := h.nodeFor(ap.Addr())
	if dst == nil {
		return len(p), nil
	}
	from := h.udpAddr(pc.port)
	if source != nil {
		from = net.UDPAddrFromAddrPort(netip.AddrPortFrom(forged.Addr().Unmap(), forged.Port()))
	} else if dst == h.node && ap.Addr().Unmap() != h.node.addr {
		from.IP = ap.Addr().AsSlice() // loopback answers come from loopback
		if ap.Addr().IsUnspecified() {
			from.IP = net.IPv4(127, 0, 0, 1)
		}
	}
	data := append([]byte(nil), p...)
	port := ap.Port()
	var w *wire
	if n.capturing() {
		w = &wire{udp: true, src: from.AddrPort(), dst: ap, payload: data}
	}
	n.send(&packet{src: h.node, dst: dst, size: len(data) + UDPHeader, wire: w, key: "udp " + pc.laddr.String() + " " + ap.String(), arrive: func(time.Duration) {
		if dst.host == nil {
			return
		}
		to := dst.host.udp[port]
		if to == nil || to.closed || len(to.q) >= maxQueued {
			return
		}
		if to.peer != nil {
			pa, _ := addrPort(to.peer)
			if pa.Port() != from.AddrPort().Port() {
				return
			}
		}
		to.q = append(to.q, datagram{data, from})
		n.signal(&to.w)
	}})
	return len(p), nil
}

// Close closes the socket; a blocked ReadFrom returns net.ErrClosed.
func (pc *PacketConn) Close() error {
	n := pc.h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	if pc.closed {
		return pc.opErr("close", nil, net.ErrClosed)
	}
	pc.closed = true
	if pc.h.udp[pc.port] == pc {
		delete(pc.h.udp, pc.port)
	}
	n.cancel(pc.w.dlEv)
	n.signal(&pc.w)
	return nil
}

func (pc *PacketConn) LocalAddr() net.Addr { return pc.laddr }

func (pc *PacketConn) SetDeadline(t time.Time) error {
	pc.SetReadDeadline(t)
	return pc.SetWriteDeadline(t)
}

func (pc *PacketConn) SetReadDeadline(t time.Time) error {
	n := pc.h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	n.setDeadline(&pc.w, t)
	return nil
}

func (pc *PacketConn) SetWriteDeadline(t time.Time) error {
	n := pc.h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	if t.IsZero() {
		pc.hasWdl = false
	} else {
		pc.wdl, pc.hasWdl = n.labTime(t), true
	}
	return nil
}

// UDPConn is a connected datagram socket: a net.Conn to one peer.
type UDPConn struct{ *PacketConn }

func (c *UDPConn) Read(p []byte) (int, error) {
	k, _, err := c.ReadFrom(p)
	return k, err
}

func (c *UDPConn) Write(p []byte) (int, error) { return c.WriteTo(p, c.peer) }

func (c *UDPConn) RemoteAddr() net.Addr { return c.peer }
