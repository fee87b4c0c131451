// Package socket is the engine of the socket module: what Python's socket
// API needs beyond the stack itself, in plain Go. Resolve reads the host
// of a (host, port) address the way Python does ("" is any address,
// "<broadcast>" the IPv4 broadcast address). The sockets themselves come
// from the stack: on the operating system's stack they are direct sockets,
// whose calls wait in the calling thread as Python's do (stack.Direct,
// runtime/stack/direct.go). The Starlark binding is runtime/socket/socketmod.
package socket

import (
	"context"
	"errors"
	"net"
	"net/netip"

	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Python's values for the constants, so printed values look familiar.
const (
	AF_INET     = 2
	AF_INET6    = 10
	SOCK_STREAM = 1
	SOCK_DGRAM  = 2
)

// Literal is the address host stands for without a lookup: "" (any
// address of family), "<broadcast>", or an address written out.
func Literal(host string, family int) (netip.Addr, bool) {
	switch host {
	case "":
		if family == AF_INET6 {
			return netip.IPv6Unspecified(), true
		}
		return netip.IPv4Unspecified(), true
	case "<broadcast>":
		return netip.AddrFrom4([4]byte{255, 255, 255, 255}), true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

// Resolve turns the host of an address tuple into an IP address of family
// (AF_INET or AF_INET6), looking names up on st. op names the builtin in
// errors.
func Resolve(ctx context.Context, st stack.Stack, op, host string, family int) (netip.Addr, error) {
	if a, ok := Literal(host, family); ok {
		return a, nil
	}
	addrs, err := st.LookupHost(ctx, host)
	if err != nil {
		msg := "cannot resolve host name"
		var de *net.DNSError
		if errors.As(err, &de) {
			msg += ": " + de.Err // "no such host", "no such host in the lab", a timeout…
		}
		return netip.Addr{}, &neterr.Error{Kind: neterr.KindNetwork, Op: op, Peer: host, Msg: msg, Err: err}
	}
	for _, a := range addrs {
		a = a.Unmap()
		if (family == AF_INET) == a.Is4() {
			return a, nil
		}
	}
	fam := "IPv4"
	if family == AF_INET6 {
		fam = "IPv6"
	}
	return netip.Addr{}, neterr.Errorf(neterr.KindNetwork, op, host, "no %s address", fam)
}
