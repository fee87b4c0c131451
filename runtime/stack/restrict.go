package stack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Restrict returns st confined to loopback and to the given ports, for a
// graded submission: it may listen (TCP or UDP) only on those ports or on a
// free one the system picks (port 0), and only on loopback (a wildcard
// address such as ("", port) is bound to loopback instead); it may connect
// and send only to loopback addresses on those ports, or answer a datagram
// peer it has heard from (a UDP server replying to its client's port).
// Anything else fails with an error saying what is allowed. onBind, if not
// nil, is called after each successful bind of an allotted port, so that a
// grader learns the moment a server is ready without polling.
func Restrict(st Stack, ports []int, onBind func(network string, port int)) Stack {
	return &restricted{Stack: st, ports: slices.Clone(ports), onBind: onBind}
}

type restricted struct {
	Stack
	ports  []int
	onBind func(network string, port int)
}

func (r *restricted) bound(network string, a net.Addr) {
	if r.onBind == nil || a == nil {
		return
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil && r.allowed(int(ap.Port())) {
		r.onBind(network, int(ap.Port()))
	}
}

func (r *restricted) Name() string { return r.Stack.Name() + " (restricted)" }

// refusal is what a forbidden operation fails with.
type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }

func (r *restricted) refuse(what, addr string) error {
	allowed := "no ports"
	if len(r.ports) > 0 {
		ps := make([]string, len(r.ports))
		for i, p := range r.ports {
			ps[i] = strconv.Itoa(p)
		}
		allowed = "ports " + strings.Join(ps, ", ")
	}
	return &refusal{fmt.Sprintf("not allowed here: may not %s %s (a graded script may use only 127.0.0.1 or ::1, %s)", what, addr, allowed)}
}

func (r *restricted) allowed(port int) bool { return slices.Contains(r.ports, port) }

// local checks a listening address and maps a wildcard host to loopback.
func (r *restricted) local(network, address string) (string, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return "", err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", err
	}
	if port != 0 && !r.allowed(port) {
		return "", r.refuse("listen on", address)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		lo := "127.0.0.1"
		if strings.HasSuffix(network, "6") || host == "::" {
			lo = "::1"
		}
		return net.JoinHostPort(lo, portText), nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.IsLoopback() {
		return "", r.refuse("listen on", address)
	}
	return address, nil
}

// remote checks a destination address.
func (r *restricted) remote(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return r.refuse("reach", address)
	}
	if !ap.Addr().Unmap().IsLoopback() || !r.allowed(int(ap.Port())) {
		return r.refuse("reach", address)
	}
	return nil
}

func (r *restricted) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if err := r.remote(address); err != nil {
		return nil, err
	}
	return r.Stack.Dial(ctx, network, address)
}

func (r *restricted) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	addr, err := r.local(network, address)
	if err != nil {
		return nil, err
	}
	ln, err := r.Stack.Listen(ctx, network, addr)
	if err == nil {
		r.bound(network, ln.Addr())
	}
	return ln, err
}

func (r *restricted) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	addr, err := r.local(network, address)
	if err != nil {
		return nil, err
	}
	pc, err := r.Stack.ListenPacket(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	r.bound(network, pc.LocalAddr())
	return &restrictedPacket{PacketConn: pc, r: r, heard: map[netip.AddrPort]bool{}}, nil
}

func (r *restricted) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Unmap().IsLoopback() && !a.IsUnspecified() {
			return nil, r.refuse("reach", host)
		}
		return []netip.Addr{a}, nil
	}
	if host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, r.refuse("look up", host)
}

// restrictedPacket lets a datagram socket answer whoever wrote to it, on
// top of the allotted ports.
type restrictedPacket struct {
	net.PacketConn
	r     *restricted
	mu    sync.Mutex
	heard map[netip.AddrPort]bool
}

func (p *restrictedPacket) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := p.PacketConn.ReadFrom(b)
	if from != nil {
		if ap, perr := netip.ParseAddrPort(from.String()); perr == nil {
			p.mu.Lock()
			if len(p.heard) < 4096 {
				p.heard[ap] = true
			}
			p.mu.Unlock()
		}
	}
	return n, from, err
}

func (p *restrictedPacket) WriteTo(b []byte, to net.Addr) (int, error) {
	ap, err := netip.ParseAddrPort(to.String())
	if err != nil {
		return 0, p.r.refuse("send to", to.String())
	}
	p.mu.Lock()
	heard := p.heard[ap]
	p.mu.Unlock()
	if !heard {
		if err := p.r.remote(ap.String()); err != nil {
			return 0, err
		}
	}
	return p.PacketConn.WriteTo(b, to)
}
