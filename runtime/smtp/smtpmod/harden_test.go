package smtpmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
)

// Mail servers' idle timeouts and size limits (issue 11, items 6 and 7),
// in the lab, whose clock jumps to the next deadline: the RFCs' minutes
// pass at once and the same every run.
const mailLab = `
net = lab.network()
c, s = net.host("c"), net.host("s")
net.link(c, s, rate="1Gbps", delay="1ms")
box = mail.mailboxes()
s.smtp.serve(":25", "s.lab", mailboxes=box)
s.pop3.serve(":110", mailboxes=box, users={"bob": "pw"})
s.imap.serve(":143", mailboxes=box, users={"bob": "pw"})
s.smtp.serve(":2525", "s.lab", mailboxes=box, idle_timeout="20s", max_bytes="50MiB")

def session(port, commands):
    # Sends each command, reads its reply, and returns the replies.
    k = c.socket.socket()
    k.connect(("s", port))
    replies = [k.recv(4096)]
    for cmd in commands:
        k.sendall(cmd)
        replies.append(k.recv(4096))
    return k, replies

def idle(port, commands):
    # How long the server lets a session sit silent after commands.
    k, replies = session(port, commands)
    t0 = time.time()
    while k.recv(4096) != b"":
        pass
    k.close()
    return int(time.time() - t0 + 0.5), replies
`

func TestMailIdleTimeouts(t *testing.T) {
	r := startest.Run(t, mailLab+`
print("smtp", idle(25, [b"HELO c\r\n"])[0])
print("smtp short", idle(2525, [b"HELO c\r\n"])[0])
print("pop3", idle(110, [b"USER bob\r\n", b"PASS pw\r\n"])[0])
# the idle session's maildrop lock went with it
print("pop3 again", idle(110, [b"USER bob\r\n", b"PASS pw\r\n"])[1][2])
print("imap", idle(143, [b"a LOGIN bob pw\r\n"])[0] // 60)
`, nil)
	if r.Err != nil {
		t.Fatalf("%s\n%s", lang.FormatError(r.Err), r.Stderr)
	}
	for _, want := range []string{"smtp 300\n", "smtp short 20\n", "pop3 600\n", "pop3 again +OK", "imap 30\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.Stdout)
		}
	}
}

// On loopback: megabytes of DATA are CPU work the lab's clock does not see
// (after 200 ms of it on a loaded machine, lab time moves on).
func TestMailSizeLimits(t *testing.T) {
	r := startest.Run(t, `
box = mail.mailboxes()
smtp_default = smtp.serve("127.0.0.1:0", "s.lab", mailboxes=box)
smtp_raised = smtp.serve("127.0.0.1:0", "s.lab", mailboxes=box, max_bytes="50MiB")
imap_srv = imap.serve("127.0.0.1:0", mailboxes=box, users={"bob": "pw"})

def session(addr, commands):
    k = socket.socket()
    k.connect(("127.0.0.1", addr.port))
    replies = [k.recv(4096)]
    for cmd in commands:
        k.sendall(cmd)
        replies.append(k.recv(4096))
    return k, replies

def send(srv, size):
    k, replies = session(srv, [b"HELO c\r\n", b"MAIL FROM:<a@c.lab>\r\n", b"RCPT TO:<bob@s.lab>\r\n", b"DATA\r\n"])
    k.sendall(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * (size // 1000) + b".\r\n")
    reply = k.recv(4096)
    k.close()
    return str(reply[:3])
print("smtp 1MB", send(smtp_default, 1000000))
print("smtp 11MB", send(smtp_default, 11000000))
print("smtp 11MB raised", send(smtp_raised, 11000000))
k, replies = session(imap_srv, [b"a LOGIN bob pw\r\n", b"b APPEND INBOX {11000000}\r\n"])
print("imap append 11MB", str(replies[2]).split(" ")[1])
k, replies = session(imap_srv, [b"a LOGIN bob pw\r\n", b"b APPEND INBOX {20}\r\n", b"Subject: hi\r\n\r\nhello\r\n"])
print("imap append small", str(replies[3]).split(" ")[1])
`, nil)
	if r.Err != nil {
		t.Fatalf("%s\n%s", lang.FormatError(r.Err), r.Stderr)
	}
	for _, want := range []string{"smtp 1MB 250\n", "smtp 11MB 552\n", "smtp 11MB raised 250\n", "imap append 11MB NO\n", "imap append small OK\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.Stdout)
		}
	}
}
