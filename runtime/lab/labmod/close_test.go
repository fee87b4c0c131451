package labmod_test

import (
	"testing"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
)

// net.close() ends every task and handler still blocked on the lab's
// sockets quietly; a task that is joined sees a "closed" error.
func TestCloseEndsBlockedTasksQuietly(t *testing.T) {
	r := startest.Run(t, `
net = lab.network()
a, b = net.host("a"), net.host("b")
net.link(a, b, rate="10Mbps", delay="5ms")
def echo(conn, addr):
    while True:
        d = conn.recv(100)
        if not d:
            break
        conn.sendall(d)
srv = b.socket.serve(("", 7), echo)
web = b.http.serve(":80", handler=lambda req: "hi")
u = b.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("", 9))
def reader():
    u.recvfrom(100)
def talker():
    c = a.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("b", 7))
    c.sendall("x")
    c.recv(10)
    c.recv(10)
tasks = [spawn(reader), spawn(talker), spawn(talker)]
ns = b.dns.serve(":53", zones=[dns.zone("x", records=[("a.x", "A", "10.0.0.1")])])
sleep(1)
net.close()
r = catch(tasks[0].join)
print(r.error.kind, r.error.message)
print([t.done for t in tasks])
`, nil)
	if r.Err != nil {
		t.Fatal(lang.FormatError(r.Err))
	}
	want := "closed task.join reader: task failed: socket.recvfrom 10.0.0.3:9: the lab network was closed\n[True, True, True]\n"
	if r.Stdout != want {
		t.Errorf("stdout:\n%s\nwant\n%s", r.Stdout, want)
	}
	if r.Stderr != "" {
		t.Errorf("closing the network printed:\n%s", r.Stderr)
	}
}
