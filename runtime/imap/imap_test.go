package imap

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/stack"
)

func TestParseNumSet(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		bad  bool
		last [2]uint32
	}{
		{"1", 1, false, [2]uint32{1, 1}}, {"1:3,5", 2, false, [2]uint32{5, 5}}, {"2:*", 1, false, [2]uint32{2, 0}},
		{"", 0, true, [2]uint32{}}, {"0", 0, true, [2]uint32{}}, {"a:b", 0, true, [2]uint32{}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseNumSet(tc.in)
			if (err != nil) != tc.bad || len(r) != tc.n || (!tc.bad && r[len(r)-1] != tc.last) {
				t.Fatalf("got %v %v", r, err)
			}
		})
	}
}

func FuzzParseNumSet(f *testing.F) {
	for _, s := range []string{"1", "1:*", "1,2,3:4", "*:*", ",", "4294967296"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { ParseNumSet(s) })
}

func TestInteropImaplib(t *testing.T) {
	py := peertest.Need(t, "python3")
	store := mail.NewStore()
	store.Deliver("bob", "", []byte("Subject: ketchup\r\nFrom: alice@crepes.fr\r\n\r\nDo you like ketchup?\r\n"), time.Now())
	store.Deliver("bob", "", []byte("Subject: other\r\n\r\nhello\r\n"), time.Now())
	ln, _ := stack.OS.Listen(context.Background(), "tcp", "127.0.0.1:0")
	s := Serve(ln, Config{Store: store, Users: map[string]string{"bob": "hungry"}, Clock: stack.OS})
	defer s.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	script := `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
try:
    m.login("bob", "wrong")
except imaplib.IMAP4.error as e:
    print("refused")
m.login("bob", "hungry")
print(m.create("lunch")[0])
typ, data = m.select("INBOX")
print("count", data[0].decode())
typ, data = m.search(None, "SUBJECT", "ketchup")
print("found", data[0].decode())
typ, data = m.fetch("1", "(RFC822)")
print("body" if b"Do you like ketchup?" in data[0][1] else "nobody")
print(m.copy("1", "lunch")[0])
m.store("1", "+FLAGS", "\\Deleted")
m.expunge()
typ, data = m.select("lunch")
print("lunch", data[0].decode())
print([l.decode().split()[-1] for l in m.list()[1]])
m.logout()
`
	out, err := exec.Command(py, "-c", script, port).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "refused\nOK\ncount 2\nfound 1\nbody\nOK\nlunch 1\n"
	if !strings.HasPrefix(string(out), want) {
		t.Fatalf("python said:\n%s", out)
	}
	if n := len(store.User("bob", false).Folder("INBOX").Snapshot()); n != 1 {
		t.Fatalf("INBOX has %d", n)
	}
}
