package httpmod_test

import (
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

// TestProxyMissRoundTrips: on a lab link with a 100 ms round trip to the
// origin, a cache miss costs the course's two round trips (TCP connection,
// then request) with persistent=False; with the default persistent
// connection only the first miss pays for the connection.
func TestProxyMissRoundTrips(t *testing.T) {
	out := startest.MustRun(t, `
net = lab.network()
c, px, o = net.host("c"), net.host("px"), net.host("o")
net.link(c, px, rate="1Gbps", delay="1ms")
net.link(px, o, rate="1Gbps", delay="50ms")
srv = o.http.serve(":80", handler=lambda req: "x")
for persistent in [True, False]:
    p = px.http.proxy(":0", persistent=persistent)
    cl = c.http.client(proxy=p)
    rtts = []
    for i in range(3):
        t0 = net.now()
        r = cl.get("http://o/obj%d" % i)
        rtts.append("{:.1f}".format((net.now() - t0) / 0.1))
    print(persistent, r.headers["X-Cache"], rtts)
`)
	want := "True MISS [\"2.0\", \"1.0\", \"1.0\"]\nFalse MISS [\"2.0\", \"2.0\", \"2.0\"]\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}
