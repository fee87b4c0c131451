package pop3

import (
	"bytes"
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

func setup(t *testing.T) (*mail.Store, string) {
	store := mail.NewStore()
	store.Deliver("bob", "", []byte("Subject: one\r\n\r\nDo you like ketchup?\r\n.dot line\r\n"), time.Unix(0, 0))
	store.Deliver("bob", "", []byte("Subject: two\r\n\r\nHow about pickles?\r\n"), time.Unix(0, 0))
	ln, err := stack.OS.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Config{Store: store, Users: map[string]string{"bob": "hungry"}})
	s.Serve(ln)
	t.Cleanup(s.Close)
	return store, ln.Addr().String()
}

func dial(t *testing.T, addr string) *Client {
	c, greet, err := Dial(context.Background(), stack.OS, addr, 5*time.Second, nil)
	if err != nil || !greet.OK {
		t.Fatal(err, greet)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func inbox(s *mail.Store) int { return len(s.User("bob", false).Folder("INBOX").Snapshot()) }

func TestSession(t *testing.T) {
	ctx := context.Background()
	t.Run("course transcript", func(t *testing.T) {
		_, addr := setup(t)
		var lines []string
		c, _, err := Dial(ctx, stack.OS, addr, 5*time.Second, func(l string) { lines = append(lines, l) })
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Cmd(ctx, "user bob")
		c.Cmd(ctx, "pass hungry")
		want := "S: +OK POP3 server ready\nC: user bob\nS: +OK\nC: pass hungry\nS: +OK user successfully logged on"
		if got := strings.Join(lines, "\n"); got != want {
			t.Fatalf("got\n%s", got)
		}
	})
	t.Run("download and delete", func(t *testing.T) {
		store, addr := setup(t)
		c := dial(t, addr)
		c.Cmd(ctx, "user bob")
		c.Cmd(ctx, "pass hungry")
		rep, lines, _ := c.MultiCmd(ctx, "list")
		pairs, err := ParseScanList(lines)
		if !rep.OK || err != nil || len(pairs) != 2 {
			t.Fatal(rep, lines)
		}
		_, body, _ := c.MultiCmd(ctx, "retr 1")
		if strings.Join(body, "\n") != "Subject: one\n\nDo you like ketchup?\n.dot line" {
			t.Fatalf("retr: %q", body)
		}
		c.Cmd(ctx, "dele 1")
		if r, _ := c.Cmd(ctx, "retr 1"); r.OK {
			t.Fatal("deleted message retrievable")
		}
		c.Cmd(ctx, "dele 2")
		if inbox(store) != 2 {
			t.Fatal("deleted before QUIT")
		}
		if r, _ := c.Cmd(ctx, "quit"); !r.OK || r.Text != "POP3 server signing off" {
			t.Fatal(r)
		}
		time.Sleep(50 * time.Millisecond)
		if inbox(store) != 0 {
			t.Fatal("not deleted at QUIT")
		}
	})
	t.Run("drop without quit deletes nothing", func(t *testing.T) {
		store, addr := setup(t)
		c := dial(t, addr)
		c.Cmd(ctx, "user bob")
		c.Cmd(ctx, "pass hungry")
		c.Cmd(ctx, "dele 1")
		c.Close()
		time.Sleep(100 * time.Millisecond)
		if inbox(store) != 2 {
			t.Fatal("deleted without QUIT")
		}
	})
	t.Run("rset undoes dele", func(t *testing.T) {
		store, addr := setup(t)
		c := dial(t, addr)
		c.Cmd(ctx, "user bob")
		c.Cmd(ctx, "pass hungry")
		c.Cmd(ctx, "dele 1")
		c.Cmd(ctx, "rset")
		c.Cmd(ctx, "quit")
		time.Sleep(50 * time.Millisecond)
		if inbox(store) != 2 {
			t.Fatal("rset ignored")
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, addr := setup(t)
		c := dial(t, addr)
		for _, tc := range []struct {
			line string
			ok   bool
		}{
			{"stat", false}, {"pass hungry", false}, {"user bob", true}, {"pass wrong", false},
			{"user bob", true}, {"pass hungry", true}, {"retr 9", false}, {"dele x", false}, {"frob", false}, {"stat", true},
		} {
			r, err := c.Cmd(ctx, tc.line)
			if err != nil || r.OK != tc.ok {
				t.Fatalf("%s: %v %v", tc.line, r, err)
			}
		}
		c2 := dial(t, addr)
		c2.Cmd(ctx, "user bob")
		if r, _ := c2.Cmd(ctx, "pass hungry"); r.OK || !strings.Contains(r.Text, "locked") {
			t.Fatalf("second session: %v", r)
		}
	})
	t.Run("over-long line", func(t *testing.T) {
		_, addr := setup(t)
		c := dial(t, addr)
		if r, err := c.Cmd(ctx, "user "+strings.Repeat("x", 1000)); err != nil || r.OK {
			t.Fatal(r, err)
		}
	})
}

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		in, kw string
		n      int
		bad    bool
	}{
		{"user bob", "USER", 1, false}, {"LIST", "LIST", 0, false}, {"top 1 5", "TOP", 2, false},
		{"", "", 0, true}, {"x", "", 0, true}, {"user\x00", "", 0, true}, {"12345", "", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			kw, args, err := ParseCommand(tc.in)
			if (err != nil) != tc.bad || kw != tc.kw || len(args) != tc.n {
				t.Fatalf("got %q %v %v", kw, args, err)
			}
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"user bob", "retr 1", "top 1 10", "", "\x00", "LIST 99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kw, _, err := ParseCommand(s)
		if err == nil && (len(kw) < 3 || len(kw) > 4) {
			t.Fatalf("keyword %q", kw)
		}
	})
}

// FuzzSession drives a whole server session with arbitrary input.
func FuzzSession(f *testing.F) {
	f.Add([]byte("user bob\r\npass hungry\r\nlist\r\nretr 1\r\ndele 1\r\nuidl\r\ntop 2 1\r\nquit\r\n"))
	f.Add([]byte("user bob\npass hungry\nlist 0\nretr -1\ndele 2\ndele 2\nrset\nstat\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		store := mail.NewStore()
		store.Deliver("bob", "", []byte("Subject: a\r\n\r\n.x\r\n"), time.Unix(0, 0))
		store.Deliver("bob", "", []byte("no header"), time.Unix(0, 0))
		s := NewServer(Config{Store: store, Users: map[string]string{"bob": "hungry"}})
		var out bytes.Buffer
		s.Session(bytes.NewReader(in), &out)
	})
}

func TestScanList(t *testing.T) {
	if _, err := ParseScanList([]string{"1 x"}); err == nil {
		t.Fatal("accepted")
	}
}

func TestInteropPoplib(t *testing.T) {
	py := peertest.Need(t, "python3")
	store, addr := setup(t)
	_, port, _ := net.SplitHostPort(addr)
	script := `
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
print(p.getwelcome().decode())
p.user("bob"); p.pass_("hungry")
print(p.stat())
resp, lines, octets = p.retr(1)
print(b"\n".join(lines).decode())
p.dele(1)
print(p.uidl()[1][0].decode().split()[0])
p.quit()
try:
    p = poplib.POP3("127.0.0.1", int(sys.argv[1])); p.user("bob"); p.pass_("bad")
except poplib.error_proto as e:
    print("refused", e)
`
	out, err := exec.Command(py, "-c", script, port).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "+OK POP3 server ready") || !strings.Contains(s, "(2,") || !strings.Contains(s, "\n.dot line\n") || !strings.Contains(s, "refused") {
		t.Fatalf("python said:\n%s", s)
	}
	time.Sleep(50 * time.Millisecond)
	if inbox(store) != 1 {
		t.Fatalf("want 1 message left, have %d", inbox(store))
	}
}
