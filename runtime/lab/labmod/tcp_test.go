package labmod_test

import (
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

// lab.network's transport arguments, net.flows, and their errors.
func TestTransportFromScripts(t *testing.T) {
	r := startest.Run(t, `
net = lab.network(tcp="reno", sndbuf="64KiB")
print(net.tcp, net.sndbuf, lab.network().tcp, lab.network().sndbuf)
a, b = net.host("a"), net.host("b")
net.link(a, b, rate="1Mbps", delay="10ms")
ln = b.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ln.bind(("", 5001))
ln.listen(1)
c = a.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("b", 5001))
conn, _ = ln.accept()
c.settimeout(0.5)
e = catch(c.sendall, b"x" * 1000000)   # 1 Mbps takes 8 s: the buffer fills
print(e.error.kind)
fs = net.flows()
print([(f.host, f.tcp) for f in fs])
f = net.flows("a")[0]
print(f.cwnd > 2, f.buffered > 0, f.bytes_acked > 0, fs[1].bytes_received >= f.bytes_acked)   # ACKs on their way
print(catch(lab.network, tcp="cubic").error.message)
print(catch(lab.network, sndbuf=100).error.message)
print(catch(lab.network, sndbuf="lots").error.message)
print(catch(net.flows, "nobody").error.message)
`, nil)
	if r.Err != nil {
		t.Fatalf("%v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	want := `reno 65536 ideal 262144
timeout
[("a", "reno"), ("b", "reno")]
True True True True
lab.network: for parameter tcp: unknown TCP model "cubic" (want "ideal" or "reno")
lab.network: for parameter sndbuf: got 100 bytes, want 5840 to 1073741824
lab.network: for parameter sndbuf: invalid size "lots": want a number followed by a unit such as "1B"
lab.network.flows: for parameter host: no lab host named "nobody"
`
	if r.Stdout != want {
		t.Errorf("got\n%s\nwant\n%s", r.Stdout, want)
	}
}
