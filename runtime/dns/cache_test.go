package dns_test

import (
	"strings"
	"testing"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/runtime/dns"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// The cache's limits (issue 11, item 8); the resolver's and server's,
// seen from scripts, are in runtime/dns/dnsmod/testdata/dns_test.star.

func TestCacheLimits(t *testing.T) {
	t.Run("TTLs are capped at a week, negative ones at three hours", func(t *testing.T) {
		c := dns.NewCache(stack.OS)
		rr, _ := md.NewRR("forever.test. 4294967295 IN A 10.0.0.1")
		c.Put("forever.test.", md.TypeA, []md.RR{rr})
		soa, _ := md.NewRR("test. 4294967295 IN SOA ns.test. admin.test. 1 2 3 4 4294967295")
		c.PutNegative("gone.test.", md.TypeA, md.RcodeNameError, soa)
		for _, e := range c.Entries() {
			max := uint32(7 * 24 * 3600)
			if e.Negative {
				max = 3 * 3600
			}
			if e.TTL > max {
				t.Errorf("%s kept for %d s, want at most %d", e.Name, e.TTL, max)
			}
		}
	})
	t.Run("the cache is bounded and keeps the most recently used", func(t *testing.T) {
		c := dns.NewCache(stack.OS)
		c.MaxEntries = 100
		rr, _ := md.NewRR("keep.test. 600 IN A 10.0.0.1")
		c.Put("keep.test.", md.TypeA, []md.RR{rr})
		for i := range 1000 {
			c.PutNegative(strings.Repeat("x", i%50+1)+".nx"+string(rune('a'+i%26))+".test.", md.TypeA, md.RcodeNameError, nil)
			c.Get("keep.test.", md.TypeA) // used all along: stays
		}
		if n := c.Len(); n != 100 {
			t.Errorf("cache holds %d entries, want 100", n)
		}
		if _, _, _, ok := c.Get("keep.test.", md.TypeA); !ok {
			t.Error("the entry in use was evicted")
		}
	})
}
