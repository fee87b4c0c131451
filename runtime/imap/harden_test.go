package imap_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

// FETCH 0 is the client's mistake: BAD, not NO [SERVERBUG] (issue 11, item 9).
func TestSequenceNumberZeroIsBad(t *testing.T) {
	out := startest.MustRun(t, `
box = mail.mailboxes()
box.deliver("bob", "Subject: hi\r\n\r\nhello\r\n")
srv = imap.serve("127.0.0.1:0", mailboxes=box, users={"bob": "pw"})
k = socket.socket()
k.connect(("127.0.0.1", srv.port))
k.recv(4096)
def ask(cmd):
    k.sendall(cmd + "\r\n")
    got = ""
    tag = cmd.split(" ")[0]
    for i in range(20):
        got += str(k.recv(4096))
        if ("\r\n" + tag + " ") in ("\r\n" + got):
            break
    return got.split("\r\n")[-2]
ask("a LOGIN bob pw")
ask("b SELECT INBOX")
for cmd in ["c FETCH 0 FLAGS", "d FETCH 1:0 FLAGS", "e UID FETCH 0 FLAGS", "f STORE 0 +FLAGS (\\Seen)", "g FETCH 1 FLAGS"]:
    print(ask(cmd))
`)
	for _, want := range []string{"c BAD", "d BAD", "e BAD", "f BAD", "g OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
