package dnsmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
)

// hierarchy is a root, an edu TLD server and a umass.edu server on one
// port at 127.0.0.1-3, as the acceptance scripts build it.
const hierarchy = `
root = dns.serve("127.0.0.1:0", zones=[dns.zone(".", records=[
    ("edu", "NS", "a.edu-servers.net"),
    ("a.edu-servers.net", "A", "127.0.0.2"),
])], recursive=True)
port = root.port
tld = dns.serve("127.0.0.2:%d" % port, zones=[dns.zone("edu", records=[
    ("umass.edu", "NS", "dns.umass.edu"),
    ("dns.umass.edu", "A", "127.0.0.3"),
])], recursive=True)
umass = dns.serve("127.0.0.3:%d" % port, zones=[dns.zone("umass.edu", records=[
    ("umass.edu", "NS", "dns.umass.edu"),
    ("dns.umass.edu", "A", "127.0.0.3"),
    ("gaia.cs.umass.edu", "A", "128.119.245.12", 600),
    ("short.umass.edu", "A", "10.0.0.1", 1),
    ("www.umass.edu", "CNAME", "gaia.cs.umass.edu"),
    ("umass.edu", "MX", "10 mail.umass.edu"),
    ("mail.umass.edu", "A", "128.119.1.1"),
])])
`

func TestStarlark(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // lines the script must print
	}{
		{"hierarchy in one script", hierarchy + `
r = dns.resolver(roots=[root.address])
m = r.resolve("gaia.cs.umass.edu")
print(m.rcode, m.answer[0].value, m.answer[0].type, m.answer[0].ttl, m.answer[0].name)
local = dns.serve("127.0.0.1:0", resolver=dns.resolver(roots=[root.address]))
q = dns.query("www.umass.edu", server=local.address)
print("local", q.ra, q.aa, [a.value for a in q.answer])
`, []string{"NOERROR 128.119.245.12 A 600 gaia.cs.umass.edu.", `local True False ["gaia.cs.umass.edu.", "128.119.245.12"]`}},

		{"query counts iterative vs recursive", hierarchy + `
it = dns.resolver(roots=[root.address])
it.resolve("gaia.cs.umass.edu", mode="iterative")
rec = dns.resolver(roots=[root.address])
rec.resolve("gaia.cs.umass.edu", mode="recursive")
print("iterative", it.stats.queries, it.stats.relayed)
print("recursive", rec.stats.queries, rec.stats.relayed)
`, []string{"iterative 3 0", "recursive 1 2"}},

		{"cache hits on repeat", hierarchy + `
r = dns.resolver(roots=[root.address])
a = r.resolve("gaia.cs.umass.edu")
b = r.resolve("gaia.cs.umass.edu")
print(a.from_cache, b.from_cache, r.stats.queries, r.stats.cache_hits, b.answer[0].value)
n = dns.resolver(roots=[root.address], cache=False)
n.resolve("gaia.cs.umass.edu")
n.resolve("gaia.cs.umass.edu")
print("nocache", n.stats.queries, n.stats.cache_hits)
`, []string{"False True 3 1 128.119.245.12", "nocache 6 0"}},

		{"TTL expiry", hierarchy + `
r = dns.resolver(roots=[root.address])
r.resolve("short.umass.edu")
r.resolve("short.umass.edu")
print("before", r.stats.queries, r.stats.cache_hits)
sleep(1.3)
m = r.resolve("short.umass.edu")
print("after", r.stats.queries, m.from_cache)
`, []string{"before 3 1", "after 4 False"}},

		{"NXDOMAIN and NODATA", hierarchy + `
m = dns.query("nope.umass.edu", server=umass.address)
print(m.rcode, m.aa, len(m.answer), m.authority[0].type)
m = dns.query("gaia.cs.umass.edu", "MX", server=umass.address)
print(m.rcode, len(m.answer), m.authority[0].type)
r = dns.resolver(roots=[root.address])
print(r.resolve("nope.umass.edu").rcode, r.resolve("nope.umass.edu", "MX").rcode, r.stats.queries, r.stats.cache_hits)
`, []string{"NXDOMAIN True 0 SOA", "NOERROR 0 SOA", "NXDOMAIN NXDOMAIN 3 1"}},

		{"referral with glue", hierarchy + `
m = dns.query("gaia.cs.umass.edu", server=tld.address, rd=False)
print(m.rcode, m.aa, len(m.answer), m.authority[0].type, m.authority[0].value, m.additional[0].name, m.additional[0].value)
`, []string{"NOERROR False 0 NS dns.umass.edu. dns.umass.edu. 127.0.0.3"}},

		{"message fields and dig output", hierarchy + `
m = dns.query("umass.edu", "MX", server=umass.address, rd=False)
print(m.qr, m.aa, m.tc, m.rd, m.ra, m.id == m.id, m.question[0].name, m.question[0].type)
print(m.answer[0].preference, m.answer[0].exchange, m.answer[0].value)
s = str(m)
print(";; ANSWER SECTION:" in s, ";; flags: qr aa;" in s, "status: NOERROR" in s)
m = dns.query("umass.edu", "SOA", server=umass.address, tcp=True)
print(m.answer[0].type, m.answer[0].serial, m.tcp)
`, []string{"True True False False False True umass.edu. MX", "10 mail.umass.edu. mail.umass.edu.", "True True True", "SOA 1 True"}},

		{"poisoning accepted only with the check off", `
root = dns.serve("127.0.0.1:0", zones=[dns.zone(".", records=[
    ("com", "NS", "a.gtld-servers.net"), ("a.gtld-servers.net", "A", "127.0.0.2")])])
port = root.port
com = dns.serve("127.0.0.2:%d" % port, zones=[dns.zone("com", records=[
    ("drevil.com", "NS", "dns1.drevil.com"), ("dns1.drevil.com", "A", "127.0.0.3"),
    ("google.com", "NS", "ns1.google.com"), ("ns1.google.com", "A", "127.0.0.4")])])
google = dns.serve("127.0.0.4:%d" % port, zones=[dns.zone("google.com", records=[
    ("google.com", "A", "142.250.80.46")])])
def evil(q):
    return dns.reply(q, answer=[(q.name, "A", "129.45.212.42", 300)],
        authority=[("drevil.com", "NS", "google.com", 86400)],
        additional=["google.com. 600 IN A 129.45.212.222"])
drevil = dns.serve("127.0.0.3:%d" % port, handler=evil)
for check in [False, True]:
    r = dns.resolver(roots=[root.address], bailiwick=check)
    r.resolve("www.drevil.com")
    print(check, r.resolve("google.com").answer[0].value, r.stats.rejected)
`, []string{"False 129.45.212.222 0", "True 142.250.80.46 1"}},

		{"silent server is a catchable timeout", `
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
addr = "127.0.0.1:%d" % s.getsockname()[1]
res = catch(dns.query, "x.test", server=addr, timeout=0.05, retries=2)
print(res.ok, res.error.kind)
r = dns.resolver(roots=[addr], timeout="50ms", retries=1)
res = catch(r.resolve, "x.test")
print(res.ok, res.error.kind)
`, []string{"False timeout", "False timeout"}},

		{"loops end with a clear error", hierarchy + `
loopz = dns.serve("127.0.0.4:%d" % port, zones=[dns.zone("loop.test", records=[
    ("a.loop.test", "CNAME", "b.loop.test"), ("b.loop.test", "CNAME", "a.loop.test"),
    ("x.loop.test", "NS", "ns.x.loop.test"), ("ns.x.loop.test", "A", "127.0.0.4")])])
r = dns.resolver(roots=[loopz.address])
res = catch(r.resolve, "a.loop.test")
print(res.error.kind, "CNAME loop" in res.error.message)
res = catch(r.resolve, "h.x.loop.test")
print(res.error.kind, "referral loop: the server for x.loop.test. referred h.x.loop.test. to x.loop.test." in res.error.message)
`, []string{"protocol True", "protocol True"}},

		{"handler round robin and fall through", `
z = dns.zone("cnn.com", records=[("cnn.com", "MX", "10 mail.cnn.com")])
n = [0]
def h(q):
    if q.type != "A":
        return None
    n[0] += 1
    return dns.reply(q, answer=[(q.name, "A", "10.0.0.%d" % n[0], 5)])
s = dns.serve("127.0.0.1:0", zones=[z], handler=h)
print(dns.query("www.cnn.com", server=s.address).answer[0].value, dns.query("www.cnn.com", server=s.address).answer[0].value)
print(dns.query("cnn.com", "MX", server=s.address).answer[0].value, s.queries, len(s.log))
def bad(q):
    fail("oops")
s2 = dns.serve("127.0.0.1:0", handler=bad)
print(dns.query("x.com", server=s2.address).rcode)
`, []string{"10.0.0.1 10.0.0.2", "mail.cnn.com. 3 3", "SERVFAIL"}},

		{"reverse lookup", `
s = dns.serve("127.0.0.1:0", zones=[dns.zone("119.128.in-addr.arpa", records=[
    ("12.245.119.128.in-addr.arpa", "PTR", "gaia.cs.umass.edu")])])
print(dns.reverse_name("128.119.245.12"))
print(dns.query(dns.reverse_name("128.119.245.12"), "PTR", server=s.address).answer[0].value)
`, []string{"12.245.119.128.in-addr.arpa.", "gaia.cs.umass.edu."}},

		{"zone from zone-file text and a truncated answer", `
text = "$TTL 60\n@ IN NS ns\nns IN A 127.0.0.1\n" + "".join(["big IN A 10.0.1.%d\n" % i for i in range(1, 61)])
s = dns.serve("127.0.0.1:0", zones=[dns.zone("example.org", text=text)])
m = dns.query("big.example.org", server=s.address)
print(len(m.answer), m.tc, m.tcp)
`, []string{"60 False True"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startest.Run(t, tc.src, nil)
			if r.Err != nil {
				t.Fatalf("script failed: %s\nstdout:\n%s\nstderr:\n%s", lang.FormatError(r.Err), r.Stdout, r.Stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stdout, w+"\n") {
					t.Errorf("output lacks %q:\n%s", w, r.Stdout)
				}
			}
		})
	}
}
