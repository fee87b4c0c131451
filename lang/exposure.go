package lang

import (
	"net"

	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// ServerAddr is where a protocol server asked to listen on addr listens:
// on the real network, ":port" (no host) means loopback, 127.0.0.1:port,
// unless the script was run with --listen-any. An open proxy or a POP3
// server with plaintext passwords must not face the whole LAN because a
// script left the host out; "0.0.0.0:port" still asks for every
// interface. socket.bind(("", port)) keeps Python's meaning and does not
// come here. In the lab every address is the lab's own.
func ServerAddr(th *starlark.Thread, st stack.Stack, addr string) string {
	if st != stack.OS {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" {
		return addr
	}
	if InterpOf(th).opts.ListenAny {
		return net.JoinHostPort("0.0.0.0", port)
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// Listening prints one line when a server op listens at a beyond loopback
// on the real network, so that nobody exposes a server unawares.
func Listening(th *starlark.Thread, st stack.Stack, op string, a net.Addr) {
	if st != stack.OS || a == nil {
		return
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return
	}
	InterpOf(th).Fprintf("%s: listening on %s, reachable from other machines\n", op, a)
}
