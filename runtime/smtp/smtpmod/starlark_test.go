package smtpmod_test

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/modules/startest"
)

func TestStarlark(t *testing.T) {
	t.Run("step by step client", func(t *testing.T) {
		out := startest.MustRun(t, `
box = mail.mailboxes()
srv = smtp.serve("127.0.0.1:0", "hamburger.edu", mailboxes=box)
c = smtp.client(srv.address, trace=True)
print(c.greeting.code)
r = c.helo("crepes.fr")
print(r.code, r.text)
print(c.mail("alice@crepes.fr").code, c.rcpt("eve@evil.org").code, c.rcpt("bob@hamburger.edu").code)
r = c.data("Do you like ketchup?\nHow about pickles?")
print(r.code, r.ok)
print(c.cmd("NOOP").code)
print(c.rset().code)
print(c.quit().code)
print(len(box.get("bob")), box.get("bob")[0].text)
print(len(srv.log) > 0)
srv.stop()
`)
		for _, want := range []string{"C: HELO crepes.fr\n", "S: 250 alice@crepes.fr... Sender ok\n", "250 Hello crepes.fr, pleased to meet you\n",
			"250 550 250\n", "250 True\n", "221\n", "1 Do you like ketchup?\nHow about pickles?\n", "True\n"} {
			if !strings.Contains(out, want) {
				t.Fatalf("missing %q in:\n%s", want, out)
			}
		}
	})
	t.Run("relay with receiver down then up", func(t *testing.T) {
		out := startest.MustRun(t, `
box = mail.mailboxes()
bob = smtp.serve("127.0.0.1:0", "hamburger.edu", mailboxes=box)
addr = bob.address
bob.stop()
alice = smtp.serve("127.0.0.1:0", "crepes.fr", relay={"hamburger.edu": addr}, retry=0.05, max_retry=0.2)
r = smtp.send(alice.address, "alice@crepes.fr", ["bob@hamburger.edu"], "Subject: x\n\nhi\n")
print(r.code)
sleep(0.5)
q = alice.queue
print(len(q), q[0].attempts >= 2, q[0].to)
print(alice.wait(timeout=0.1))
bob = smtp.serve(addr, "hamburger.edu", mailboxes=box)
print(alice.wait(timeout=10), len(alice.queue), len(box.get("bob")))
`)
		if out != "250\n1 True [\"bob@hamburger.edu\"]\nFalse\nTrue 0 1\n" {
			t.Fatalf("got:\n%s", out)
		}
	})
	t.Run("handler", func(t *testing.T) {
		out := startest.MustRun(t, `
seen = []
def h(env, msg):
    seen.append((env.sender, env.to, msg.subject))
    if "spam" in msg.subject:
        return (550, "no spam here")
box = mail.mailboxes()
srv = smtp.serve("127.0.0.1:0", "hamburger.edu", mailboxes=box, handler=h)
print(smtp.send(srv.address, "a@b", "bob@hamburger.edu", "Subject: spam\n\nbuy").code)
print(smtp.send(srv.address, "a@b", "bob@hamburger.edu", "Subject: ham\n\nhi").code)
print(seen, len(box.get("bob")))
`)
		if out != "550\n250\n[(\"a@b\", [\"bob@hamburger.edu\"], \"spam\"), (\"a@b\", [\"bob@hamburger.edu\"], \"ham\")] 1\n" {
			t.Fatalf("got:\n%s", out)
		}
	})
	t.Run("refused connection is catchable", func(t *testing.T) {
		out := startest.MustRun(t, `
r = catch(smtp.client, "127.0.0.1:1")
print(r.ok, r.error.kind)
`)
		if out != "False refused\n" {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("MIME round trip and Received parsing", func(t *testing.T) {
		out := startest.MustRun(t, `
data = bytes([i % 256 for i in range(2000)])
box = mail.mailboxes()
srv = smtp.serve("127.0.0.1:0", "hamburger.edu", mailboxes=box)
msg = mail.message(sender="alice@crepes.fr", to="bob@hamburger.edu", subject="file", body="see", attachments=[("a.bin", "application/octet-stream", data)], headers={"X-Lab": "1"})
smtp.send(srv.address, "alice@crepes.fr", "bob@hamburger.edu", msg, helo="crepes.fr")
m = box.get("bob")[0]
a = m.attachments[0]
print(a.filename, a.content_type, a.data == data, m.headers["x-lab"], m.headers.get("nope"))
h = m.received[0]
print(h.from_host, h.ip, h.by, h.protocol, h.recipient)
`)
		if out != "a.bin application/octet-stream True 1 None\ncrepes.fr 127.0.0.1 hamburger.edu SMTP bob@hamburger.edu\n" {
			t.Fatalf("got:\n%s", out)
		}
	})
}

func TestInteropPythonSMTPD(t *testing.T) {
	t.Run("netplay client to python smtpd", func(t *testing.T) {
		py := peertest.Need(t, "python3.11")
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		script := `
import smtpd, asyncore, sys, warnings
warnings.simplefilter("ignore")
class S(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        sys.stdout.write("FROM %s TO %s\n%s\nEND\n" % (mailfrom, ",".join(rcpttos), data.decode()))
        sys.stdout.flush()
S(("127.0.0.1", int(sys.argv[1])), None)
print("ready", flush=True)
asyncore.loop()
`
		cmd := exec.Command(py, "-W", "ignore", "-c", script, fmt.Sprint(port))
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		br := bufio.NewReader(stdout)
		if l, _ := br.ReadString('\n'); !strings.HasPrefix(l, "ready") {
			t.Fatalf("smtpd: %q", l)
		}
		out := startest.MustRun(t, fmt.Sprintf(`
c = smtp.client("127.0.0.1:%d")
print(c.helo("crepes.fr").code, c.mail("alice@crepes.fr").code, c.rcpt("bob@hamburger.edu").code)
print(c.data("Subject: hi\n\n..dots\nDo you like ketchup?").code)
`, port))
		if out != "250 250 250\n250\n" {
			t.Fatalf("netplay:\n%s", out)
		}
		var got strings.Builder
		for {
			l, err := br.ReadString('\n')
			got.WriteString(l)
			if err != nil || l == "END\n" {
				break
			}
		}
		if !strings.Contains(got.String(), "FROM alice@crepes.fr TO bob@hamburger.edu") || !strings.Contains(got.String(), "\n..dots\n") {
			t.Fatalf("smtpd got:\n%s", got.String())
		}
	})
}
