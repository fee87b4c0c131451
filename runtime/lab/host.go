package lab

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	dnsengine "github.com/netplay-dev/netplay/runtime/dns"
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

	rng      *rand.Rand // query ids and UDP source ports (n.mu held)
	resolver string     // the name server ("ip:port" or "name:port") names are asked of; "" for the lab's table
	spoof    bool       // may send datagrams with any source address
}

func newHost(n *Network, nd *node) *Host {
	// Each host draws from its own generator, seeded by the network's seed
	// and its name, so what one host draws does not depend on another's.
	hs := fnv.New64a()
	hs.Write([]byte(nd.name))
	return &Host{n: n, node: nd, tcp: map[uint16]*Listener{}, udp: map[uint16]*PacketConn{}, conns: map[*Conn]struct{}{},
		nextPort: 49152, rng: rand.New(rand.NewPCG(n.seed, hs.Sum64()))}
}

// Rand returns random bits from the host's generator (seeded by the
// network's seed), for query ids and the like.
func (h *Host) Rand() uint64 {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	return h.rng.Uint64()
}

// SetResolver makes the host resolve names by DNS queries to server
// ("10.0.0.3", "10.0.0.3:5353", or a lab host's name, port 53 unless
// given) instead of from the lab's table; "" goes back to the table.
func (h *Host) SetResolver(server string) error {
	if server != "" {
		if _, _, err := net.SplitHostPort(server); err != nil {
			server = net.JoinHostPort(server, "53")
		}
		if _, ps, err := net.SplitHostPort(server); err != nil {
			return fmt.Errorf("resolver %q: want host or host:port", server)
		} else if p, err := strconv.ParseUint(ps, 10, 16); err != nil || p == 0 {
			return fmt.Errorf("resolver %q: bad port %q", server, ps)
		}
	}
	h.n.mu.Lock()
	h.resolver = server
	h.n.mu.Unlock()
	return nil
}

// Resolver is the name server set by SetResolver, or "".
func (h *Host) Resolver() string {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	return h.resolver
}

// SetSpoof lets the host send datagrams with any source address
// (PacketConn.WriteFromTo): the attacker of a spoofing experiment.
func (h *Host) SetSpoof(on bool) {
	h.n.mu.Lock()
	h.spoof = on
	h.n.mu.Unlock()
}

// Spoof reports whether the host may forge source addresses.
func (h *Host) Spoof() bool {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	return h.spoof
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

// LookupHost resolves a name: by real DNS queries over the lab to the
// host's resolver when it has one (SetResolver), else from the lab's table
// of node names. Nothing is ever asked of the real resolver.
func (h *Host) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "localhost" {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}, nil
	}
	if server := h.Resolver(); server != "" {
		sh, sp, _ := net.SplitHostPort(server)
		addrs, err := h.tableLookup(sh)
		if err != nil {
			return nil, &net.DNSError{Err: "the host's resolver " + sh + " is not in the lab", Name: host, Server: server}
		}
		return dnsengine.Lookup(ctx, h, net.JoinHostPort(addrs[0].String(), sp), host)
	}
	return h.tableLookup(host)
}

// tableLookup resolves an address or a lab node's name from the lab's
// table.
func (h *Host) tableLookup(host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	h.n.touch()
	if nd, ok := h.n.byName[host]; ok {
		return []netip.Addr{nd.addr}, nil
	}
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

// allocPort picks a free ephemeral port (n.mu held). Datagram ports are
// random (from the host's seeded generator), as since 2008 every resolver
// needs them to be against off-path spoofing; stream ports count up.
func (h *Host) allocPort(udp bool) (uint16, error) {
	if udp {
		for i := 0; i < 64; i++ {
			p := uint16(49152 + h.rng.IntN(16384))
			if _, ok := h.udp[p]; !ok {
				return p, nil
			}
		}
	}
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
	ln := &Listener{h: h, port: port, addr: h.tcpAddr(port)}
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
	cur   *wakeup       // where the goroutines blocked now wait; nil if none
	dl    time.Duration // read deadline in lab time
	hasDl bool
	dlEv  *event
}

// sleepers is how many goroutines are blocked on w.
func (w *waiter) sleepers() int {
	if w.cur == nil {
		return 0
	}
	return w.cur.sleepers
}

// signal wakes every goroutine blocked on w (n.mu held), in its turn
// (wakeNext). Each of them holds a wake-up token until it has run.
func (n *Network) signal(w *waiter) {
	if w.sleepers() == 0 {
		return
	}
	n.wakeq.push(w.cur)
	w.cur = nil
	n.dirty = true
	n.kickNow()
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
func (n *Network) block(w *waiter) bool { return n.blockUntil(w, nil) }

// blockUntil is block that also gives up when stop is closed.
func (n *Network) blockUntil(w *waiter, stop <-chan struct{}) bool {
	if w.hasDl && (w.dlEv == nil || w.dlEv.index == -1 || w.dlEv.at != w.dl) {
		n.cancel(w.dlEv)
		w.dlEv = n.at(w.dl, func() { n.signal(w) })
	}
	if w.cur == nil {
		w.cur = &wakeup{sig: make(chan struct{})}
	}
	wu := w.cur
	wu.sleepers++
	n.mu.Unlock()
	select {
	case <-wu.sig:
	case <-stop:
	case <-n.done:
	}
	n.mu.Lock()
	select {
	case <-wu.sig:
		n.touch()
		n.release()
		return !n.closed
	default:
		wu.sleepers-- // queued or not, its wake-up is not for this goroutine any more
		return false
	}
}

var errTimeout = os.ErrDeadlineExceeded
