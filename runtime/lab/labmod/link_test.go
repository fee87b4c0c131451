package labmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

func TestLinkChangesFromScripts(t *testing.T) {
	r := startest.Run(t, `
net = lab.network()
peer, server = net.host("peer"), net.host("server")
l = net.link(peer, server, rate=("1Mbps", "4Mbps"), delay="10ms")
print(l.rate, l)
srv = server.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("", 9))
c = peer.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(("", 7))

def one_way(src, dst, addr):
    t0 = net.now()
    src.sendto(b"x" * 972, addr)   # 1000 bytes on the wire
    dst.recvfrom(2000)
    return round((net.now() - t0) * 1000, 3)

print(one_way(c, srv, ("server", 9)), one_way(srv, c, ("peer", 7)))   # 18 and 12 ms
l.set(rate="2Mbps", delay="20ms")
print(l.rate, l.delay, one_way(c, srv, ("server", 9)))                # 24 ms
l.set(loss=0.5, queue=3)
print(l.loss, l.queue)
l.set(loss=0, queue=None)
print(l.queue)
l.trace([(0.5, "1Mbps"), (0.5, 0)], direction="a_to_b")
print(l.rate)
sleep(0.75)
print(l.rate)
l.trace(lab.load_trace("t.txt"), loop=True)
print(l.rate)
sleep(1.5)
print(l.rate)
print(lab.load_trace("s.json"), lab.load_trace("s.json", latency=True))
print(lab.load_trace("m.txt", bin="50ms"))
print(catch(l.trace, [(0, 1)]).error.message)
print(catch(l.trace, [(1, -1)]).error.message)
print(catch(l.trace, [(1, 1)], direction="up").error.message)
print(catch(l.set, rate=(1, 2, 3)).error.message)
print(catch(lab.load_trace, "bad.txt").error.message)
`, map[string]string{
		"t.txt":   "0 5\n1 3\n2 6\n",
		"s.json":  `[{"duration_ms": 1500, "bandwidth_kbps": 800, "latency_ms": 40}]`,
		"m.txt":   "1\n1\n100\n",
		"bad.txt": "1 2\n0 1\n",
	})
	if r.Err != nil {
		t.Fatalf("%v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	want := `(1e+06, 4e+06) <lab.link peer-server 1e+06/4e+06bps 10ms>
18.0 12.0
2e+06 0.02 24.0
0.5 3
None
(1e+06, 2e+06)
(0.0, 2e+06)
3e+06
6e+06
[(1.5, 800000.0)] [(1.5, 800000.0, 0.04)]
[(0.05, 480000.0), (0.05, 240000.0)]
lab.link.trace: step 0: seconds must be positive, got 0
lab.link.trace: step 0: rate: invalid rate -1: must be >= 0
lab.link.trace: for parameter direction: got "up", want "a_to_b", "b_to_a" or None (both)
lab.link.set: for parameter rate: want one rate or a pair (a_to_b, b_to_a), got a tuple of 3
lab.load_trace: bad.txt: pensieve trace: line 2: time 0 goes back (after 1)
`
	if r.Stdout != want {
		t.Errorf("got\n%s\nwant\n%s", r.Stdout, want)
		for i, l := range strings.Split(r.Stdout, "\n") {
			if ws := strings.Split(want, "\n"); i < len(ws) && ws[i] != l {
				t.Errorf("first difference, line %d: %q vs %q", i+1, l, ws[i])
				break
			}
		}
	}
}
