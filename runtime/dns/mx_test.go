package dns

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

func TestLookupMX(t *testing.T) {
	root := startServer(t, "127.0.0.1:0", mustZone(t, ".",
		"hamburger.edu. IN MX 20 backup.hamburger.edu.",
		"hamburger.edu. IN MX 10 mail.hamburger.edu.",
		"hamburger.edu. IN MX 5 noaddr.hamburger.edu.",
		"mail.hamburger.edu. IN A 10.0.0.10",
		"backup.hamburger.edu. IN A 10.0.0.20",
		"crepes.fr. IN MX 10 mx.elsewhere.net.",
		"plain.edu. IN A 10.0.0.30",
	))
	r := &Resolver{Client: &Client{Stack: stack.OS}, Roots: []string{root.Addr()}, Port: root.Port(),
		Timeout: time.Second, Retries: 1}
	cases := []struct {
		name, domain string
		want         []string
	}{
		{"addresses by preference, exchanges without one skipped", "hamburger.edu", []string{"10.0.0.10", "10.0.0.20"}},
		{"the exchange's name when it has no address", "crepes.fr", []string{"mx.elsewhere.net."}},
		{"no MX record", "plain.edu", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.LookupMX(context.Background(), c.domain)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("LookupMX(%q) = %q, want %q", c.domain, got, c.want)
			}
		})
	}
	t.Run("a done context ends the lookup", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if hosts, err := r.LookupMX(ctx, "hamburger.edu"); err == nil {
			t.Fatalf("LookupMX with a cancelled context = %q, want an error", hosts)
		}
	})
}
