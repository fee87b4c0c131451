package stack

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"time"
)

// OS is the real operating-system stack. Its type is not Stack, so no
// code can swap it for another: code that wants a different stack (a lab
// host, a restricted one, a test's) is given that stack instead.
var OS OSStack

var _ Direct = OS

// OSStack is the type of OS.
type OSStack struct{}

func (OSStack) Name() string { return "os" }

func (OSStack) Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

func (OSStack) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func (OSStack) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, network, address)
}

func (OSStack) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	var lc net.ListenConfig
	return lc.ListenPacket(ctx, network, address)
}

func (OSStack) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

func (OSStack) Now() time.Time { return time.Now() }

func (OSStack) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (OSStack) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

func (OSStack) Rand() uint64 {
	var b [8]byte
	crand.Read(b[:]) // never fails (Go 1.24+)
	return binary.LittleEndian.Uint64(b[:])
}
