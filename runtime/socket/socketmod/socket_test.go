package socketmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
)

func TestSockets(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"udp round trip", `
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
def serve():
    msg, addr = srv.recvfrom(2048)
    srv.sendto(msg.decode().upper(), addr)
t = spawn(serve)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.sendto("hi", srv.getsockname())
data, frm = c.recvfrom(2048)
print(data.decode(), frm == srv.getsockname(), type(data))
t.join()
`, "HI True bytes"},
		{"udp over ipv6 loopback", `
srv = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
srv.bind(("::1", 0))
c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
c.sendto(b"six", ("::1", srv.getsockname()[1]))
data, frm = srv.recvfrom(10)
print(data.decode(), frm[0])
`, "six ::1"},
		{"datagram longer than bufsize is cut", `
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto("abcdef", srv.getsockname())
print(srv.recvfrom(3)[0].decode())
`, "abc"},
		{"connected udp socket", `
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.connect(srv.getsockname())
c.send("x")
msg, addr = srv.recvfrom(10)
srv.sendto("y", addr)
print(c.recv(10).decode(), c.getpeername() == srv.getsockname())
`, "y True"},
		{"tcp exchange, half-close and end of stream", `
ln = socket.socket()
ln.bind(("127.0.0.1", 0))
ln.listen()
def serve():
    conn, addr = ln.accept()
    data = b""
    while True:
        chunk = conn.recv(4)
        if not chunk:
            break
        data += chunk
    conn.sendall(data.decode().upper())
    conn.close()
t = spawn(serve)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(ln.getsockname())
c.sendall("hello, half-closed world")
c.shutdown(socket.SHUT_WR)
print(c.recv(100).decode(), repr(c.recv(100)))
t.join()
`, `HELLO, HALF-CLOSED WORLD b""`},
		{"recvline keeps what follows for recv", `
ln = socket.socket()
ln.bind(("127.0.0.1", 0))
ln.listen()
def serve():
    conn, _ = ln.accept()
    conn.sendall("one\ntwo\nrest")
    conn.close()
spawn(serve)
c = socket.socket()
c.connect(ln.getsockname())
print(repr(c.recvline()), repr(c.recvline()), repr(c.recv(10)), repr(c.recvline()))
`, `b"one\n" b"two\n" b"rest" b""`},
		{"forty concurrent clients of a task-per-connection server", `
ln = socket.socket()
ln.bind(("127.0.0.1", 0))
ln.listen(64)
served = {"n": 0}
def handle(conn):
    while True:
        line = conn.recvline()
        if not line:
            break
        served["n"] += 1
        conn.sendall(line.decode().upper())
    conn.close()
def accept_loop():
    for i in range(40):
        conn, addr = ln.accept()
        spawn(handle, conn)
spawn(accept_loop)
def client(i):
    c = socket.socket()
    c.connect(ln.getsockname())
    c.settimeout(10)
    got = []
    for r in range(3):
        c.sendall("client %d round %d\n" % (i, r))
        got.append(c.recvline().decode().strip())
    c.close()
    return got
tasks = [spawn(client, i) for i in range(40)]
results = [t.join(timeout=30) for t in tasks]
ok = all([results[i] == ["CLIENT %d ROUND %d" % (i, r) for r in range(3)] for i in range(40)])
print(ok, served["n"])
`, "True 120"},
		{"socket.serve_lines", `
srv = socket.serve_lines(("127.0.0.1", 0), lambda line: line[::-1] if False else line.upper())
c = socket.socket()
c.connect(srv.address)
c.sendall("abc\ndef\n")
print(c.recvline().decode().strip(), c.recvline().decode().strip(), srv.clients)
srv.stop()
`, "ABC DEF 1"},
		{"socket.serve with a failing handler keeps serving", `
def handler(conn, addr):
    msg = conn.recv(100).decode()
    if msg == "boom":
        fail("boom")
    conn.sendall(msg.upper())
srv = socket.serve(("127.0.0.1", 0), handler)
def ask(m):
    c = socket.socket()
    c.connect(("127.0.0.1", srv.port))
    c.sendall(m)
    return c.recv(100)
print(repr(ask("boom")), ask("fine").decode())
srv.stop()
`, `b"" FINE`},
		{"a non-blocking socket returns what has arrived, then times out", `
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.sendto("here", s.getsockname())
sleep(0.02)
s.setblocking(False)
print(s.recvfrom(10)[0].decode(), catch(s.recvfrom, 10).error.kind)
`, "here timeout"},
		{"closing a socket ends another task's wait on it", `
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
t = spawn(lambda: catch(s.recvfrom, 10))
sleep(0.05)
s.close()
r = t.join(timeout=10)
print(r.ok, r.error.kind)
`, "False closed"},
		{"a server's pending accept ends with the script", `
ln = socket.socket()
ln.bind(("127.0.0.1", 0))
ln.listen()
spawn(ln.accept)
sleep(0.02)
print("done")
`, "done"},
		{"gethostbyname", `print(socket.gethostbyname("localhost"), socket.gethostbyname("127.0.0.2"))`, "127.0.0.1 127.0.0.2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := strings.TrimSpace(startest.MustRun(t, c.src))
			if out != c.want {
				t.Fatalf("printed %q, want %q", out, c.want)
			}
		})
	}
}

// TestErrors checks the kinds and messages scripts see through catch.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, src, kind, msg string
	}{
		{"recv timeout", `
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.05)
r = catch(s.recvfrom, 10)`, lang.KindTimeout, "timeout after 50ms"},
		{"connection refused", `
p = socket.socket()
p.bind(("127.0.0.1", 0))
port = p.getsockname()[1]
p.close()
r = catch(socket.socket().connect, ("127.0.0.1", port))`, lang.KindRefused, "connection refused"},
		{"use after close", `
s = socket.socket()
s.close()
s.close()
r = catch(s.connect, ("127.0.0.1", 1))`, lang.KindClosed, "closed socket"},
		{"accept without listen", `r = catch(socket.socket().accept)`, lang.KindArgument, "not listening"},
		{"sendto on a stream socket", `r = catch(socket.socket().sendto, "x", ("127.0.0.1", 1))`, lang.KindArgument, "SOCK_DGRAM"},
		// On a lab host, so that no query leaves for the machine's resolver.
		{"unknown host", `
h = lab.network().host("h")
r = catch(h.socket.gethostbyname, "no-such-host")`, lang.KindNetwork, "no-such-host"},
		{"bad address", `r = catch(socket.socket().connect, ("127.0.0.1", 70000))`, lang.KindScript, "port must be an int in 0..65535"},
		{"reset by peer", `
ln = socket.socket()
ln.bind(("127.0.0.1", 0))
ln.listen()
c = socket.socket()
c.connect(ln.getsockname())
conn, _ = ln.accept()
conn.sendall("unread")
sleep(0.05)
c.close()          # closing with unread data sends a reset
sleep(0.05)
r = catch(lambda: [conn.recv(10) for i in range(3)])`, lang.KindReset, "reset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := startest.MustRun(t, c.src+"\nprint(r.ok)\nprint(r.error.kind)\nprint(r.error.message)\n")
			lines := strings.SplitN(strings.TrimSpace(out), "\n", 3)
			if len(lines) != 3 || lines[0] != "False" || lines[1] != c.kind || !strings.Contains(lines[2], c.msg) {
				t.Fatalf("got %q, want kind %q and a message containing %q", out, c.kind, c.msg)
			}
		})
	}
}
