package labmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

// A host given resolver= asks that name server, over the lab, for every
// name any module uses, and follows CNAMEs: the CDN experiment's setup.
func TestHostResolverAsksTheNameServer(t *testing.T) {
	out := startest.MustRun(t, `
net = lab.network()
ns, web, r = net.host("ns"), net.host("web"), net.router("r")
client = net.host("client", resolver=ns)
for h in [ns, web, client]:
    net.link(h, r, rate="100Mbps", delay="10ms")
srv = ns.dns.serve(":53", zones=[dns.zone("example", records=[
    ("video.example", "CNAME", "node1.cdn.example"),
    ("node1.cdn.example", "A", web.addr),
])])
web.http.serve(":80", handler=lambda req: "hello")
print(client.resolver, client.spoof)
t0 = net.now()
print(client.socket.gethostbyname("video.example") == web.addr)
print(int((net.now() - t0) * 10000 + 0.5))    # one round trip to ns: 4 x 10ms plus transmission, in 0.1 ms
print(client.http.get("http://video.example/").text)
print(len(srv.log), srv.log[0].startswith(client.addr + ":"))
e = catch(client.socket.gethostbyname, "nowhere.example")
print(e.error.kind, e.error.message)
print(catch(client.http.get, "http://web/").ok)                    # every name goes to DNS
print(net.host("other").socket.gethostbyname("web") == web.addr)   # the lab's table, as before
net.close()
`)
	want := "ns:53 False\nTrue\n400\nhello\n2 True\nnetwork socket.gethostbyname nowhere.example: cannot resolve host name: no such host\nFalse\nTrue\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// A stub resolver asks again when its server stops at an alias to a name
// in another zone (a server that does not recurse).
func TestHostResolverFollowsAliasesAcrossZones(t *testing.T) {
	out := startest.MustRun(t, `
net = lab.network()
ns, web = net.host("ns"), net.host("web")
client = net.host("client", resolver=(ns.addr, 5353))
net.link(ns, client, rate="10Mbps", delay="5ms")
net.link(web, client, rate="10Mbps", delay="5ms")
srv = ns.dns.serve(":5353", zones=[
    dns.zone("netcinema.com", records=[("video.netcinema.com", "CNAME", "a1105.kingcdn.com")]),
    dns.zone("kingcdn.com", records=[("a1105.kingcdn.com", "A", web.addr)]),
])
print(client.socket.gethostbyname("video.netcinema.com") == web.addr, srv.queries)
net.close()
`)
	if out != "True 1\n" && out != "True 2\n" {
		t.Errorf("got %q", out)
	}
}

func TestHostArguments(t *testing.T) {
	r := startest.Run(t, `
net = lab.network()
net.host("a", resolver=3)
`, nil)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "for parameter resolver") {
		t.Errorf("got %v", r.Err)
	}
}
