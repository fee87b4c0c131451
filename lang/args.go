package lang

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// The argument kit every binding shares: addresses, durations, the
// arguments of a text-protocol client, and opening a server's listener.
// One reader per kind of argument, so "host:port" means the same thing in
// every module and its errors read the same.

// AddrArg reads fn's address parameter param as "host:port". It accepts
// "host:port", (host, port), a URL (its host and port: "http://host:8080/"),
// a port alone (on 127.0.0.1) and, when the protocol has a default port
// (defPort > 0), a host alone: "example.com", "10.0.0.1", "::1", "[::1]".
func AddrArg(fn, param string, v starlark.Value, defPort int) (string, error) {
	switch v := v.(type) {
	case starlark.String:
		s := string(v)
		if strings.Contains(s, "://") {
			u, err := url.Parse(s)
			if err != nil || u.Host == "" {
				return "", fmt.Errorf("%s: for parameter %s: invalid address %q", fn, param, s)
			}
			s = u.Host
		}
		if _, _, err := net.SplitHostPort(s); err == nil {
			return s, nil
		}
		host := strings.Trim(s, "[]")
		if a, err := netip.ParseAddr(host); err == nil {
			host = a.String()
		} else if strings.Contains(host, ":") {
			defPort = 0
		}
		if defPort <= 0 {
			return "", fmt.Errorf("%s: for parameter %s: invalid address %q: want \"host:port\"", fn, param, s)
		}
		return net.JoinHostPort(host, strconv.Itoa(defPort)), nil
	case starlark.Tuple:
		host, port, err := AddrTuple(fn, v)
		if err != nil {
			return "", err
		}
		return net.JoinHostPort(host, strconv.Itoa(port)), nil
	case starlark.Int:
		if port, err := starlark.AsInt32(v); err == nil && port >= 0 && port < 65536 {
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
		}
	}
	return "", fmt.Errorf("%s: for parameter %s: got %s, want \"host:port\" or (host, port)", fn, param, v.Type())
}

// AddrTuple reads a Python-style (host, port) address, the only form
// Python's socket methods take.
func AddrTuple(fn string, v starlark.Value) (host string, port int, err error) {
	t, ok := v.(starlark.Tuple)
	if !ok || len(t) != 2 {
		return "", 0, fmt.Errorf("%s: address: got %s, want a (host, port) tuple", fn, v.Type())
	}
	host, ok = starlark.AsString(t[0])
	if !ok {
		return "", 0, fmt.Errorf("%s: address: host must be a str, got %s", fn, t[0].Type())
	}
	p, err := starlark.AsInt32(t[1])
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("%s: address: port must be an int in 0..65535, got %s", fn, t[1])
	}
	return host, p, nil
}

// AddrValue is an address as Python shows one: (host, port); ("", 0) for
// none.
func AddrValue(a net.Addr) starlark.Tuple {
	if a == nil {
		return starlark.Tuple{starlark.String(""), starlark.MakeInt(0)}
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return starlark.Tuple{starlark.String(ap.Addr().Unmap().String()), starlark.MakeInt(int(ap.Port()))}
	}
	host, _, _ := net.SplitHostPort(a.String())
	return starlark.Tuple{starlark.String(host), starlark.MakeInt(Port(a))}
}

// Port is the port of an address (0 if it has none).
func Port(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}

// DurationArg reads fn's duration parameter param (seconds or "50ms");
// None (or absent) gives def.
func DurationArg(fn, param string, v starlark.Value, def time.Duration) (time.Duration, error) {
	if v == nil || v == starlark.None {
		return def, nil
	}
	d, err := Duration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: for parameter %s: %v", fn, param, err)
	}
	return d, nil
}

// ClientArgs are the arguments of a text-protocol client:
// client(address, trace=False, timeout=…).
type ClientArgs struct {
	Addr    string
	Trace   bool
	Timeout time.Duration
}

// UnpackClient reads a client's arguments; the address has no default
// port, the timeout defaults to timeout.
func UnpackClient(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, timeout time.Duration) (ClientArgs, error) {
	var a ClientArgs
	var addrV starlark.Value
	var timeoutV starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "address", &addrV, "trace?", &a.Trace, "timeout?", &timeoutV); err != nil {
		return a, err
	}
	var err error
	if a.Addr, err = AddrArg(b.Name(), "address", addrV, 0); err != nil {
		return a, err
	}
	a.Timeout, err = DurationArg(b.Name(), "timeout", timeoutV, timeout)
	return a, err
}

// ListenServer opens the listener of a protocol server: as Listen, after
// ServerAddr has turned ":port" into a loopback address on the real
// network, and saying so when the server can be reached from other
// machines (Listening).
func ListenServer(th *starlark.Thread, st stack.Stack, fn, addr string) (net.Listener, error) {
	ln, err := Listen(th, st, fn, ServerAddr(th, st, addr))
	if err != nil {
		return nil, err
	}
	Listening(th, st, fn, ln.Addr())
	return ln, nil
}

// Listen opens a TCP listener on st for the builtin fn, with the
// interpreter lock released; a failure is a network error naming fn and
// the address.
func Listen(th *starlark.Thread, st stack.Stack, fn, addr string) (net.Listener, error) {
	var ln net.Listener
	var err error
	ctx := Context(th)
	Unlocked(th, func() { ln, err = st.Listen(ctx, "tcp", addr) })
	if err != nil {
		return nil, NetError(fn, addr, err, 0)
	}
	return ln, nil
}

// StringsArg reads fn's parameter param as a list of str: a str alone is a
// list of one, None (or absent) none, and any other iterable must hold
// only str.
func StringsArg(fn, param string, v starlark.Value) ([]string, error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case starlark.String:
		return []string{string(v)}, nil
	case starlark.Iterable:
		it := v.Iterate()
		defer it.Done()
		var out []string
		var x starlark.Value
		for it.Next(&x) {
			s, ok := starlark.AsString(x)
			if !ok {
				return nil, fmt.Errorf("%s: for parameter %s: got a list holding %s, want str", fn, param, x.Type())
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: for parameter %s: got %s, want str or a list of str", fn, param, v.Type())
}
