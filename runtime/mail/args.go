package mail

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"go.starlark.net/starlark"
)

// AddrArg accepts an address argument: "host:port" or (host, port).
func AddrArg(fn string, v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.String:
		s := string(v)
		if _, _, err := net.SplitHostPort(s); err != nil {
			return "", fmt.Errorf("%s: address %q: want \"host:port\"", fn, s)
		}
		return s, nil
	case starlark.Tuple:
		if len(v) == 2 {
			host, ok := starlark.AsString(v[0])
			port, err := starlark.AsInt32(v[1])
			if ok && err == nil && port >= 0 && port < 65536 {
				return net.JoinHostPort(host, strconv.Itoa(port)), nil
			}
		}
	}
	return "", fmt.Errorf("%s: for parameter address: got %s, want \"host:port\" or (host, port)", fn, v.Type())
}

// DurationArg accepts a duration argument (seconds or "50ms"); None gives def.
func DurationArg(fn, param string, v starlark.Value, def time.Duration) (time.Duration, error) {
	if v == nil || v == starlark.None {
		return def, nil
	}
	d, err := lang.Duration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: for parameter %s: %v", fn, param, err)
	}
	return d, nil
}

// Port is the port of a listener's address.
func Port(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}
