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

// OS is the real operating-system stack.
var OS Stack = osStack{}

type osStack struct{}

func (osStack) Name() string { return "os" }

func (osStack) Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

func (osStack) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

func (osStack) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, network, address)
}

func (osStack) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	var lc net.ListenConfig
	return lc.ListenPacket(ctx, network, address)
}

func (osStack) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

func (osStack) Now() time.Time { return time.Now() }

func (osStack) Sleep(ctx context.Context, d time.Duration) error {
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

func (osStack) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

func (osStack) Rand() uint64 {
	var b [8]byte
	crand.Read(b[:]) // never fails (Go 1.24+)
	return binary.LittleEndian.Uint64(b[:])
}
