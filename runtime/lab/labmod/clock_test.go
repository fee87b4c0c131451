package labmod_test

import (
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/modules/startest"
)

// The clock must not depend on what else the process does: the same script
// prints the same lab times at any GOMAXPROCS, with a goroutine burning CPU
// beside it, and while the script's own tasks and handlers compute.

const computingTask = `
net = lab.network()
client, server = net.host("client"), net.host("server")
net.link(client, server, rate="10Mbps", delay="20ms")

def slow(req):
    n = 0
    for i in range(100000):   # a handler computing for a while: no lab time
        n += i
    return "x" * 20000
srv = server.http.serve(":80", handler=slow)

def busy():
    n = 0
    for i in range(100000):
        n += i % 7
    return n
for i in range(3):
    t = spawn(busy)    # computes while the main task waits for the lab
    r = client.http.get("http://server/")
    print(i, r.status, len(r.body), "%.6f %.6f" % (r.timing.first_byte, r.timing.total))
    t.join()

t0 = net.now()
c = client.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s = server.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 7))
def echo():
    for i in range(10):
        data, addr = s.recvfrom(100)
        s.sendto(data, addr)
e = spawn(echo)
for i in range(10):
    c.sendto(b"ping", ("server", 7))
    c.recvfrom(100)
print("10 round trips: %.6f" % (net.now() - t0))
st = net.stats()
print("forced", st.forced, "now %.6f" % st.now)
`

func TestClockIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a script twelve times")
	}
	out := startest.Everywhere(t, []string{"test.star"}, time.Minute, computingTask, startest.BurnProcess, startest.BurnGoroutine)
	// 2 RTT + 20 kB at 10 Mbps (14 segments of 1500 bytes on the wire plus
	// headers), the handler's computing taking no time.
	if !strings.Contains(out, "0 200 20000 ") || !strings.Contains(out, "10 round trips: 0.4") || !strings.Contains(out, "forced 0 ") {
		t.Errorf("unexpected output:\n%s", out)
	}
}

// What tasks do at one lab instant happens in the same order in every run:
// in the swarm-shaped load ten tasks are spawned at once and send at the
// same instant, relays wake one another, and who sends first decides the
// lab times printed to the microsecond.
func TestSameInstantIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a swarm eight times")
	}
	src := startest.Script(t, "lab_swarm_fluid.star")
	out := startest.Everywhere(t, []string{"lab_swarm_fluid.star", "10", "1"}, 2*time.Minute, src)
	if !strings.Contains(out, "10 peers, 1.0 MB: lab time") {
		t.Errorf("unexpected output:\n%s", out)
	}
}
