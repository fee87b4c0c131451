package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// Host is a lab host: a stack.Stack whose connections, listeners, datagram
// sockets, names and clock are the lab's.
type Host struct {
	n        *Network
	node     *node
	tcp      map[uint16]*Listener
	udp      map[uint16]*PacketConn
	conns    map[*Conn]struct{}
	nextPort uint16
}

var _ stack.Stack = (*Host)(nil)

// Name says which network this is.
func (h *Host) Name() string { return "lab:" + h.node.name }

// Hostname is the host's lab name.
func (h *Host) Hostname() string { return h.node.name }

// Addr is the host's lab address.
func (h *Host) Addr() netip.Addr { return h.node.addr }

// Network is the lab the host belongs to.
func (h *Host) Network() *Network { return h.n }

func (h *Host) Now() time.Time                                   { return h.n.Now() }
func (h *Host) Sleep(ctx context.Context, d time.Duration) error { return h.n.Sleep(ctx, d) }
func (h *Host) AfterFunc(d time.Duration, f func()) stack.Timer  { return h.n.AfterFunc(d, f) }

// LookupHost resolves names of lab nodes (and "localhost"); nothing is
// ever asked of the real resolver.
func (h *Host) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "localhost" {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}, nil
	}
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	h.n.touch()
	for nm, nd := range h.n.byName {
		if strings.ToLower(nm) == name {
			return []netip.Addr{nd.addr}, nil
		}
	}
	return nil, &net.DNSError{Err: "no such host in the lab", Name: host, IsNotFound: true}
}

// self reports whether ip names this host.
func (h *Host) self(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsUnspecified() || ip == h.node.addr
}

// nodeFor finds the node an address belongs to (n.mu held).
func (h *Host) nodeFor(ip netip.Addr) *node {
	if h.self(ip) {
		return h.node
	}
	return h.n.byAddr[ip.Unmap()]
}

// splitAddr parses "host:port", resolving a lab name.
func (h *Host) splitAddr(ctx context.Context, address string) (netip.Addr, uint16, error) {
	host, ps, err := net.SplitHostPort(address)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("bad port %q", ps)
	}
	if host == "" {
		return netip.IPv4Unspecified(), uint16(port), nil
	}
	addrs, err := h.LookupHost(ctx, host)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	return addrs[0], uint16(port), nil
}

// bindAddr checks a local address: a lab host has one interface, so the
// wildcard, loopback, its own address and its own name all bind to it.
func (h *Host) bindAddr(ctx context.Context, address string) (uint16, error) {
	ip, port, err := h.splitAddr(ctx, address)
	if err != nil {
		return 0, err
	}
	if !h.self(ip) {
		return 0, os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)
	}
	return port, nil
}

// allocPort picks a free ephemeral port (n.mu held).
func (h *Host) allocPort(udp bool) (uint16, error) {
	for i := 0; i < 16384; i++ {
		p := h.nextPort
		h.nextPort++
		if h.nextPort == 0 || h.nextPort < 49152 {
			h.nextPort = 49152
		}
		if udp {
			if _, ok := h.udp[p]; !ok {
				return p, nil
			}
		} else if _, ok := h.tcp[p]; !ok {
			return p, nil
		}
	}
	return 0, os.NewSyscallError("bind", syscall.EADDRINUSE)
}

func (h *Host) tcpAddr(port uint16) *net.TCPAddr {
	return &net.TCPAddr{IP: h.node.addr.AsSlice(), Port: int(port)}
}

func (h *Host) udpAddr(port uint16) *net.UDPAddr {
	return &net.UDPAddr{IP: h.node.addr.AsSlice(), Port: int(port)}
}

// Dial opens a stream or connected datagram socket inside the lab.
func (h *Host) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	ip, port, err := h.splitAddr(ctx, address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
		c, err := h.dialTCP(ctx, ip, port)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Addr: &net.TCPAddr{IP: ip.AsSlice(), Port: int(port)}, Err: err}
		}
		return c, nil
	case "udp", "udp4", "udp6":
		pc, err := h.listenUDP(0)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		pc.peer = &net.UDPAddr{IP: ip.AsSlice(), Port: int(port)}
		if h.self(ip) {
			pc.peer.IP = ip.AsSlice()
		}
		return &UDPConn{pc}, nil
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
}

// Listen opens a stream listener.
func (h *Host) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
	}
	port, err := h.bindAddr(ctx, address)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	if n.closed {
		return nil, &net.OpError{Op: "listen", Net: network, Err: errNetClosed}
	}
	if port == 0 {
		if port, err = h.allocPort(false); err != nil {
			return nil, &net.OpError{Op: "listen", Net: network, Err: err}
		}
	} else if _, used := h.tcp[port]; used {
		return nil, &net.OpError{Op: "listen", Net: network, Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	}
	ln := &Listener{h: h, port: port, addr: h.tcpAddr(port), w: waiter{sig: make(chan struct{})}}
	h.tcp[port] = ln
	return ln, nil
}

// ListenPacket opens an unconnected datagram socket.
func (h *Host) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	switch network {
	case "udp", "udp4", "udp6":
	default:
		return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
	}
	port, err := h.bindAddr(ctx, address)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	pc, err := h.listenUDP(port)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	return pc, nil
}

func (h *Host) closeAll() {
	h.n.mu.Lock()
	var cs []interface{ Close() error }
	for _, l := range h.tcp {
		if l != nil {
			cs = append(cs, l)
		}
	}
	for _, p := range h.udp {
		cs = append(cs, p)
	}
	for c := range h.conns {
		cs = append(cs, c)
	}
	h.n.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// ---- waiting ----

// waiter is the blocking state shared by conns, listeners and packet conns.
type waiter struct {
	sig      chan struct{}
	sleepers int           // goroutines blocked on sig
	dl       time.Duration // read deadline in lab time
	hasDl    bool
	dlEv     *event
}

// signal wakes every goroutine blocked on w (n.mu held).
// Each of them holds a wake-up token until it has run.
func (n *Network) signal(w *waiter) {
	close(w.sig)
	w.sig = make(chan struct{})
	if w.sleepers > 0 {
		n.pending += w.sleepers
		w.sleepers = 0
		n.dirty = true
	}
}

// setDeadline sets w's read deadline (n.mu held).
func (n *Network) setDeadline(w *waiter, t time.Time) {
	if t.IsZero() {
		w.hasDl = false
	} else {
		w.dl, w.hasDl = n.labTime(t), true
	}
	n.cancel(w.dlEv)
	w.dlEv = nil
	n.signal(w)
}

// expired reports whether w's deadline has passed (n.mu held).
func (n *Network) expired(w *waiter) bool { return w.hasDl && n.now >= w.dl }

// block waits for a signal on w with n.mu held, releasing it meanwhile; it
// arms the deadline's timer. It reports false if the network closed.
func (n *Network) block(w *waiter) bool {
	if w.hasDl && (w.dlEv == nil || w.dlEv.index < 0 || w.dlEv.at != w.dl) {
		n.cancel(w.dlEv)
		w.dlEv = n.at(w.dl, func() { n.signal(w) })
	}
	sig := w.sig
	w.sleepers++
	n.mu.Unlock()
	select {
	case <-sig:
	case <-n.done:
	}
	n.mu.Lock()
	select {
	case <-sig:
		n.touch()
		n.release()
		return true
	default:
		w.sleepers--
		return false
	}
}

var errTimeout = os.ErrDeadlineExceeded
