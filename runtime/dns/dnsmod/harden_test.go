package dnsmod_test

import (
	"strings"
	"testing"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
	"github.com/netplay-dev/netplay/runtime/dns"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// The resolver's and server's limits (issue 11, items 8 and 9).

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

func TestResolverLimits(t *testing.T) {
	t.Run("negative answers count in len(r.cache)", func(t *testing.T) {
		out := startest.MustRun(t, hierarchy+`
r = dns.resolver(roots=[root.address])
res = r.resolve("nosuch.umass.edu")
print("rcode", res.rcode, "negative entries", len([x for x in r.cache if x.type == "SOA"]))
`)
		if !strings.Contains(out, "rcode NXDOMAIN negative entries 1\n") {
			t.Errorf("got %s", out)
		}
	})
	t.Run("one resolution ends at the resolver's timeout", func(t *testing.T) {
		r := startest.Run(t, `
silent = []
for i in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    silent.append("127.0.0.1:%d" % s.getsockname()[1])
    sleep(0)
r = dns.resolver(roots=silent, timeout="1s")
res = catch(r.resolve, "x.test")
print(res.ok, res.error.kind, res.error.message)
`, nil)
		if r.Err != nil {
			t.Fatal(lang.FormatError(r.Err))
		}
		if !strings.Contains(r.Stdout, "False timeout dns.resolver.resolve: x.test. A: no answer within 1s (the resolver's timeout)") {
			t.Errorf("got %s", r.Stdout)
		}
	})
	t.Run("TTLs up to 2**32-1 are accepted", func(t *testing.T) {
		r := startest.Run(t, `
z = dns.zone("big.test", records=[("a.big.test", "A", "10.0.0.1", 2147483648), ("b.big.test", "A", "10.0.0.2", 4294967295)])
print("ok")
bad = catch(dns.zone, "bad.test", records=[("a.bad.test", "A", "10.0.0.1", 4294967296)])
print(bad.error.message)
`, nil)
		if r.Err != nil || !strings.Contains(r.Stdout, "ok\n") || !strings.Contains(r.Stdout, "ttl must be an int from 0 to 4294967295") {
			t.Errorf("got %v %s", r.Err, r.Stdout)
		}
	})
}

func TestServerDropsEmptyTCPFrames(t *testing.T) {
	out := startest.MustRun(t, hierarchy+`
k = socket.socket()
k.connect(("127.0.0.3", port))
k.sendall(b"\x00\x00")     # a zero-length frame
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04gaia\x02cs\x05umass\x03edu\x00\x00\x01\x00\x01"
k.sendall(bytes([len(q) // 256, len(q) % 256]) + q)
got = catch(k.recv, 4096)
print("after an empty frame:", "closed" if not got.ok or got.value == b"" else got.value)
`)
	if !strings.Contains(out, "after an empty frame: closed") {
		t.Errorf("the connection stayed open: %s", out)
	}
}
