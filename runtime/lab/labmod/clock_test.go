package labmod_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
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

// burn keeps one goroutine computing until stop is closed.
func burn(stop chan struct{}) {
	var x atomic.Uint64
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i := 0; i < 1e5; i++ {
				x.Add(1)
			}
		}
	}()
}

func TestClockIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a script six times")
	}
	want := ""
	for _, c := range []struct {
		procs int
		burn  bool
	}{{0, false}, {1, false}, {2, false}, {8, false}, {0, true}, {1, true}, {2, true}, {8, true}} {
		// procs 0: the network's default (one processor while it is open);
		// otherwise GOMAXPROCS is set and the script says procs=None.
		name := fmt.Sprintf("GOMAXPROCS=%d", c.procs)
		script := strings.Replace(computingTask, "lab.network()", "lab.network(procs=None)", 1)
		if c.procs == 0 {
			name, script = "lab.network's default processors", computingTask
		}
		if c.burn {
			name += " beside a CPU-burning goroutine"
		}
		t.Run(name, func(t *testing.T) {
			if c.procs > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.procs))
			}
			if c.burn {
				stop := make(chan struct{})
				defer close(stop)
				burn(stop)
			}
			start := time.Now()
			out := startest.MustRun(t, script)
			t.Logf("%s in %v", name, time.Since(start))
			if !strings.Contains(out, "forced 0 ") {
				t.Errorf("forced steps:\n%s", out)
			}
			if want == "" {
				want = out
				// 2 RTT + 20 kB at 10 Mbps (14 segments of 1500 bytes on the
				// wire plus headers), the handler's computing taking no time.
				if !strings.Contains(out, "0 200 20000 ") || !strings.Contains(out, "10 round trips: 0.4") {
					t.Errorf("unexpected output:\n%s", out)
				}
				return
			}
			if out != want {
				t.Errorf("output differs:\n%s\nfirst run:\n%s", out, want)
			}
		})
	}
}
