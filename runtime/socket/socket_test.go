package socket_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/netplay-dev/netplay/runtime/socket"
	"github.com/netplay-dev/netplay/runtime/stack"
)

func TestResolve(t *testing.T) {
	cases := []struct {
		name, host string
		family     int
		want       string
	}{
		{"any IPv4 address", "", socket.AF_INET, "0.0.0.0"},
		{"any IPv6 address", "", socket.AF_INET6, "::"},
		{"broadcast", "<broadcast>", socket.AF_INET, "255.255.255.255"},
		{"a literal address", "127.0.0.1", socket.AF_INET, "127.0.0.1"},
		{"a mapped address unmapped", "::ffff:10.0.0.1", socket.AF_INET, "10.0.0.1"},
		{"a name", "localhost", socket.AF_INET, "127.0.0.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := socket.Resolve(context.Background(), stack.OS, "socket.connect", c.host, c.family)
			if err != nil {
				t.Fatal(err)
			}
			if got != netip.MustParseAddr(c.want) {
				t.Errorf("Resolve(%q) = %s, want %s", c.host, got, c.want)
			}
		})
	}
}
