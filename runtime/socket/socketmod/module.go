// Package socketmod is the Starlark module socket: Python's socket API over a
// netplay stack, so the course's UDP and TCP programs port line by line.
//
//	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
//	s.sendto("hello".encode(), ("127.0.0.1", 12000))
//	reply, server = s.recvfrom(2048)
//
// Sending takes str or bytes, receiving returns bytes, an address is a
// (host, port) tuple and port 0 picks a free port. Failures a script may
// want to handle (a timeout, a refused connection, a reset) have catch()
// kinds; recv returns b"" when the peer has closed, as in Python.
package socketmod

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/socket"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// The engine's constants, by the names the binding's code reads.
const (
	AF_INET     = socket.AF_INET
	AF_INET6    = socket.AF_INET6
	SOCK_STREAM = socket.SOCK_STREAM
	SOCK_DGRAM  = socket.SOCK_DGRAM
)

const moduleDoc = `Python's socket API: UDP and TCP sockets over the script's network (the
machine's, or a lab host's).

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto("hello".encode(), ("127.0.0.1", 12000))
    reply, server = s.recvfrom(2048)

Sending takes str or bytes; receiving returns bytes; an address is a
(host, port) tuple; port 0 picks a free port. recv returns b"" once the peer
has closed. Timeouts, refused connections and resets fail with catch()
kinds "timeout", "refused" and "reset".`

const socketDoc = `socket(family=AF_INET, type=SOCK_STREAM) -> socket.socket

A new socket: family AF_INET (IPv4) or AF_INET6 (IPv6), type SOCK_STREAM
(TCP) or SOCK_DGRAM (UDP). A server binds, listens and accepts; a client
connects (TCP) or just sends (UDP).`

// constants documents the module's constants.
var constants = []lang.Documented{
	lang.Document("socket.AF_INET", "AF_INET\n\nThe IPv4 address family."),
	lang.Document("socket.AF_INET6", "AF_INET6\n\nThe IPv6 address family."),
	lang.Document("socket.SOCK_STREAM", "SOCK_STREAM\n\nA stream (TCP) socket."),
	lang.Document("socket.SOCK_DGRAM", "SOCK_DGRAM\n\nA datagram (UDP) socket."),
	lang.Document("socket.SOL_SOCKET", "SOL_SOCKET\n\nFor setsockopt; accepted for compatibility."),
	lang.Document("socket.SO_REUSEADDR", "SO_REUSEADDR\n\nFor setsockopt; listening sockets always reuse addresses."),
	lang.Document("socket.SHUT_RD", "SHUT_RD\n\nFor shutdown: no more receiving."),
	lang.Document("socket.SHUT_WR", "SHUT_WR\n\nFor shutdown: no more sending (the peer's recv returns b\"\")."),
	lang.Document("socket.SHUT_RDWR", "SHUT_RDWR\n\nFor shutdown: both."),
}

// New returns the socket module over st.
func New(st stack.Stack) *lang.Module {
	return lang.NewModule("socket", moduleDoc, starlark.StringDict{
		"AF_INET":      starlark.MakeInt(AF_INET),
		"AF_INET6":     starlark.MakeInt(AF_INET6),
		"SOCK_STREAM":  starlark.MakeInt(SOCK_STREAM),
		"SOCK_DGRAM":   starlark.MakeInt(SOCK_DGRAM),
		"SOL_SOCKET":   starlark.MakeInt(1),
		"SO_REUSEADDR": starlark.MakeInt(2),
		"SHUT_RD":      starlark.MakeInt(0),
		"SHUT_WR":      starlark.MakeInt(1),
		"SHUT_RDWR":    starlark.MakeInt(2),
		"socket": lang.Func("socket.socket", socketDoc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			family, typ := AF_INET, SOCK_STREAM
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "family?", &family, "type?", &typ); err != nil {
				return nil, err
			}
			if family != AF_INET && family != AF_INET6 {
				return nil, fmt.Errorf("%s: family %d: want AF_INET or AF_INET6", b.Name(), family)
			}
			if typ != SOCK_STREAM && typ != SOCK_DGRAM {
				return nil, fmt.Errorf("%s: type %d: want SOCK_STREAM or SOCK_DGRAM", b.Name(), typ)
			}
			return newSocket(th, st, family, typ), nil
		}),
		"gethostbyname": lang.Func("socket.gethostbyname", `gethostbyname(name) -> str

The IPv4 address of a host name, as a string.

    socket.gethostbyname("localhost")   # "127.0.0.1"`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
				return nil, err
			}
			addr, err := resolve(th, st, b.Name(), name, AF_INET)
			if err != nil {
				return nil, err
			}
			return starlark.String(addr.String()), nil
		}),
		"gethostname": lang.Func("socket.gethostname", `gethostname() -> str

This host's name (a lab host's name inside a lab network).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			return starlark.String(st.Hostname()), nil
		}),
		"serve":       serveBuiltin(st),
		"serve_lines": serveLinesBuiltin(st),
	}, append(constants, methods, serverMethods)...)
}

// resolve turns the host of an address tuple into an IP address of
// family, with the interpreter lock released while a name is looked up.
func resolve(th *starlark.Thread, st stack.Stack, op, host string, family int) (netip.Addr, error) {
	if a, ok := socket.Literal(host, family); ok {
		return a, nil // no lookup, so no need to let other tasks run
	}
	var a netip.Addr
	var err error
	ctx := lang.Context(th)
	lang.Unlocked(th, func() { a, err = socket.Resolve(ctx, st, op, host, family) })
	return a, err
}

// deadliner is what listeners and connections offer to bound a blocking call.
type deadliner interface{ SetDeadline(time.Time) error }

// A direction says which of a socket's deadlines bounds a call.
type direction int

const (
	reading direction = iota // SetReadDeadline
	writing                  // SetWriteDeadline
	both                     // SetDeadline (a listener)
)

// setDeadline sets sock's deadline for dir to t, and says whether sock
// has one. (block is given sock and dir rather than a method value such as
// c.SetReadDeadline, which would be allocated at every call.)
func setDeadline(sock any, dir direction, t time.Time) bool {
	switch dir {
	case reading:
		if s, ok := sock.(interface{ SetReadDeadline(time.Time) error }); ok {
			s.SetReadDeadline(t)
			return true
		}
	case writing:
		if s, ok := sock.(interface{ SetWriteDeadline(time.Time) error }); ok {
			s.SetWriteDeadline(t)
			return true
		}
	default:
		if s, ok := sock.(deadliner); ok {
			s.SetDeadline(t)
			return true
		}
	}
	return false
}

// block runs op with the interpreter lock released, bounded by the socket's
// timeout and by the thread's context (the script ending, Ctrl-C), which
// op is given. The timeout applies to sock's deadline for dir. A direct
// socket's call (runtime/stack/direct.go) ends by itself when the context
// is done, and watches it once for all the calls of a thread, not once a
// call; for the others block sets a deadline in the past then.
func block(th *starlark.Thread, clock stack.Clock, timeout *time.Duration, sock any, dir direction, op func(ctx context.Context) error) error {
	ctx := lang.Context(th)
	var err error
	lang.Unlocked(th, func() {
		var dl time.Time
		if timeout != nil {
			dl = clock.Now().Add(*timeout)
		}
		if setDeadline(sock, dir, dl) && !stack.IsDirect(sock) {
			stop := context.AfterFunc(ctx, func() { setDeadline(sock, dir, time.Unix(1, 0)) })
			defer stop()
		}
		err = op(ctx)
	})
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

func netipAddrPort(ip netip.Addr, port int) netip.AddrPort {
	return netip.AddrPortFrom(ip, uint16(port))
}
