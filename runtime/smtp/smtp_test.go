package smtp

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/stack"
)

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	ln, err := stack.OS.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(stack.OS, ln, cfg)
	t.Cleanup(s.Stop)
	return s
}

// raw talks to addr line by line.
type raw struct {
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *raw {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	r := &raw{c, bufio.NewReader(c)}
	r.line(t) // greeting
	return r
}

func (r *raw) line(t *testing.T) string {
	t.Helper()
	l, err := r.r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// reply reads a whole reply and returns its last line.
func (r *raw) reply(t *testing.T) string {
	for {
		l := r.line(t)
		if len(l) < 4 || l[3] != '-' {
			return l
		}
	}
}

func (r *raw) cmd(t *testing.T, s string) string {
	t.Helper()
	fmt.Fprintf(r.c, "%s\r\n", s)
	return r.reply(t)
}

func TestCourseTranscript(t *testing.T) {
	store := mail.NewStore()
	s := start(t, Config{Domain: "hamburger.edu", Store: store})
	var lines []string
	c, _, err := Dial(context.Background(), stack.OS, s.Addr().String(), 5*time.Second, func(l string) { lines = append(lines, l) })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Cmd(ctx, "HELO crepes.fr")
	c.Cmd(ctx, "MAIL FROM: <alice@crepes.fr>")
	c.Cmd(ctx, "RCPT TO: <bob@hamburger.edu>")
	c.Data(ctx, []byte("Do you like ketchup?\nHow about pickles?"))
	c.Cmd(ctx, "QUIT")
	want := `S: 220 hamburger.edu
C: HELO crepes.fr
S: 250 Hello crepes.fr, pleased to meet you
C: MAIL FROM: <alice@crepes.fr>
S: 250 alice@crepes.fr... Sender ok
C: RCPT TO: <bob@hamburger.edu>
S: 250 bob@hamburger.edu ... Recipient ok
C: DATA
S: 354 Enter mail, end with "." on a line by itself
C: Do you like ketchup?
C: How about pickles?
C: .
S: 250 Message accepted for delivery
C: QUIT
S: 221 hamburger.edu closing connection`
	if got := strings.Join(lines, "\n"); got != want {
		t.Fatalf("transcript:\n%s\nwant:\n%s", got, want)
	}
	if n := len(store.User("bob", false).Folder("INBOX").Snapshot()); n != 1 {
		t.Fatalf("bob has %d messages", n)
	}
}

func TestServerRobustness(t *testing.T) {
	store := mail.NewStore()
	s := start(t, Config{Domain: "hamburger.edu", Store: store, MaxBytes: 2000})
	addr := s.Addr().String()
	inbox := func() []*mail.Message {
		u := store.User("bob", false)
		if u == nil {
			return nil
		}
		return u.Folder("INBOX").Snapshot()
	}
	for _, tc := range []struct {
		name  string
		steps [][2]string // command, reply prefix
	}{
		{"unknown command", [][2]string{{"FROBNICATE", "500 "}}},
		{"mail before helo", [][2]string{{"MAIL FROM:<a@b>", "503 "}}},
		{"rcpt before mail", [][2]string{{"HELO x", "250 "}, {"RCPT TO:<bob@hamburger.edu>", "503 "}}},
		{"data before rcpt", [][2]string{{"HELO x", "250 "}, {"MAIL FROM:<a@b>", "250 "}, {"DATA", "503 "}}},
		{"bad mail syntax", [][2]string{{"HELO x", "250 "}, {"MAIL alice", "501 "}}},
		{"helo without name", [][2]string{{"HELO", "501 "}}},
		{"relay refused", [][2]string{{"HELO x", "250 "}, {"MAIL FROM:<a@b>", "250 "}, {"RCPT TO:<eve@elsewhere.org>", "550 "}}},
		{"size declared too big", [][2]string{{"EHLO x", "250 "}, {"MAIL FROM:<a@b> SIZE=99999", "552 "}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, addr)
			for _, st := range tc.steps {
				if got := r.cmd(t, st[0]); !strings.HasPrefix(got, st[1]) {
					t.Fatalf("%s: got %q, want %s...", st[0], got, st[1])
				}
			}
		})
	}
	t.Run("oversize message refused", func(t *testing.T) {
		before := len(inbox())
		r := dialRaw(t, addr)
		r.cmd(t, "HELO x")
		r.cmd(t, "MAIL FROM:<a@b>")
		r.cmd(t, "RCPT TO:<bob@hamburger.edu>")
		if got := r.cmd(t, "DATA"); !strings.HasPrefix(got, "354") {
			t.Fatal(got)
		}
		for i := 0; i < 100; i++ {
			fmt.Fprintf(r.c, "%s\r\n", strings.Repeat("x", 60))
		}
		if got := r.cmd(t, "."); !strings.HasPrefix(got, "552 ") {
			t.Fatalf("got %q", got)
		}
		if got := r.cmd(t, "NOOP"); !strings.HasPrefix(got, "250") {
			t.Fatalf("session unusable after 552: %q", got)
		}
		if len(inbox()) != before {
			t.Fatal("oversize message stored")
		}
	})
	t.Run("over-long line refused", func(t *testing.T) {
		r := dialRaw(t, addr)
		fmt.Fprintf(r.c, "HELO %s\r\n", strings.Repeat("x", 5000))
		if got := r.reply(t); !strings.HasPrefix(got, "500 ") {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("client drops mid-DATA", func(t *testing.T) {
		before := len(inbox())
		r := dialRaw(t, addr)
		r.cmd(t, "HELO x")
		r.cmd(t, "MAIL FROM:<a@b>")
		r.cmd(t, "RCPT TO:<bob@hamburger.edu>")
		r.cmd(t, "DATA")
		fmt.Fprintf(r.c, "Subject: partial\r\n\r\nhalf a message\r\n")
		r.c.Close()
		time.Sleep(200 * time.Millisecond)
		if len(inbox()) != before {
			t.Fatal("partial message stored")
		}
	})
	t.Run("dot-stuffing both ways", func(t *testing.T) {
		before := len(inbox())
		c, _, err := Dial(context.Background(), stack.OS, addr, 5*time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		c.Cmd(ctx, "HELO x")
		c.Cmd(ctx, "MAIL FROM:<a@b>")
		c.Cmd(ctx, "RCPT TO:<bob@hamburger.edu>")
		body := "Subject: dots\n\n.\n..two\n.leading\nend\n"
		rep, err := c.Data(ctx, []byte(body))
		if err != nil || rep.Code != 250 {
			t.Fatal(rep, err)
		}
		msgs := inbox()
		if len(msgs) != before+1 {
			t.Fatal("not stored")
		}
		got := string(msgs[len(msgs)-1].Raw)
		if !strings.HasSuffix(got, "\r\n\r\n.\r\n..two\r\n.leading\r\nend\r\n") {
			t.Fatalf("stored %q", got)
		}
	})
}

func TestDotStuff(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\nb", "a|b"},
		{".\n", ".."},
		{"..x\r\n.y", "...x|..y"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := strings.Join(DotStuff([]byte(tc.in)), "|"); got != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestRelay(t *testing.T) {
	t.Run("receiver down then up", func(t *testing.T) {
		bobStore := mail.NewStore()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		bobAddr := ln.Addr().String()
		ln.Close() // Bob's server is down
		aliceStore := mail.NewStore()
		alice := start(t, Config{Domain: "crepes.fr", Store: aliceStore, Relay: &Relay{Routes: map[string]string{"hamburger.edu": bobAddr}},
			RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond})
		c, _, err := Dial(context.Background(), stack.OS, alice.Addr().String(), 5*time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		c.Cmd(ctx, "HELO laptop")
		c.Cmd(ctx, "MAIL FROM:<alice@crepes.fr>")
		c.Cmd(ctx, "RCPT TO:<bob@hamburger.edu>")
		rep, _ := c.Data(ctx, []byte("Subject: hi\n\nketchup?\n"))
		if rep.Code != 250 {
			t.Fatal(rep)
		}
		time.Sleep(500 * time.Millisecond)
		q := alice.Queue()
		if len(q) != 1 || q[0].Attempts < 2 || q[0].LastError == "" {
			t.Fatalf("queue %+v", q)
		}
		// a restart of Alice's server keeps the queue
		alice.Stop()
		ln2, _ := stack.OS.Listen(ctx, "tcp", "127.0.0.1:0")
		alice = Serve(stack.OS, ln2, Config{Domain: "crepes.fr", Store: aliceStore, Relay: &Relay{Routes: map[string]string{"hamburger.edu": bobAddr}},
			RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond})
		defer alice.Stop()
		if len(alice.Queue()) != 1 {
			t.Fatal("queue lost across restart")
		}
		bln, err := stack.OS.Listen(ctx, "tcp", bobAddr)
		if err != nil {
			t.Fatal(err)
		}
		bob := Serve(stack.OS, bln, Config{Domain: "hamburger.edu", Store: bobStore})
		defer bob.Stop()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if !alice.WaitQueue(wctx) {
			t.Fatalf("not delivered: %v", alice.Log())
		}
		msgs := bobStore.User("bob", false).Folder("INBOX").Snapshot()
		if len(msgs) != 1 || strings.Count(string(msgs[0].Raw), "Received:") != 2 {
			t.Fatalf("bob got %d messages", len(msgs))
		}
	})
	t.Run("MX lookup", func(t *testing.T) {
		bobStore := mail.NewStore()
		bob := start(t, Config{Domain: "hamburger.edu", Store: bobStore})
		alice := start(t, Config{Domain: "crepes.fr", Relay: &Relay{MX: MXFunc(func(ctx context.Context, d string) ([]string, error) {
			if d == "hamburger.edu" {
				return []string{bob.Addr().String()}, nil
			}
			return nil, fmt.Errorf("NXDOMAIN")
		})}, RetryBase: 50 * time.Millisecond})
		c, _, _ := Dial(context.Background(), stack.OS, alice.Addr().String(), 5*time.Second, nil)
		ctx := context.Background()
		c.Cmd(ctx, "HELO laptop")
		c.Cmd(ctx, "MAIL FROM:<alice@crepes.fr>")
		c.Cmd(ctx, "RCPT TO:<bob@hamburger.edu>")
		c.Data(ctx, []byte("hi\n"))
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if !alice.WaitQueue(wctx) || len(bobStore.User("bob", false).Folder("INBOX").Snapshot()) != 1 {
			t.Fatalf("not delivered: %v", alice.Log())
		}
	})
	t.Run("permanent failure bounces", func(t *testing.T) {
		bob := start(t, Config{Domain: "hamburger.edu", Users: []string{"bob"}})
		alice := start(t, Config{Domain: "crepes.fr", Relay: &Relay{Routes: map[string]string{"*": bob.Addr().String()}}, RetryBase: 50 * time.Millisecond})
		c, _, _ := Dial(context.Background(), stack.OS, alice.Addr().String(), 5*time.Second, nil)
		ctx := context.Background()
		c.Cmd(ctx, "HELO laptop")
		c.Cmd(ctx, "MAIL FROM:<alice@crepes.fr>")
		c.Cmd(ctx, "RCPT TO:<nobody@hamburger.edu>")
		c.Data(ctx, []byte("hi\n"))
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if !alice.WaitQueue(wctx) || !strings.Contains(strings.Join(alice.Log(), "\n"), "bounced") {
			t.Fatalf("log: %v", alice.Log())
		}
	})
}

func TestRewrite(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"220 hamburger.edu ESMTP Service Ready", "220 hamburger.edu"},
		{"250 2.0.0 Hello crepes.fr", "250 Hello crepes.fr, pleased to meet you"},
		{"250 2.0.0 Roger, accepting mail from <alice@crepes.fr>", "250 alice@crepes.fr... Sender ok"},
		{"250 2.0.0 I'll make sure <bob@hamburger.edu> gets this", "250 bob@hamburger.edu ... Recipient ok"},
		{"221 2.0.0 Bye", "221 hamburger.edu closing connection"},
		{"550 5.7.1 nope", "550 nope"},
		{"502 5.5.1 Missing RCPT TO command.", "503 Missing RCPT TO command."},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got, _ := Rewrite(tc.in, "hamburger.edu"); got != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func FuzzParseReplyLine(f *testing.F) {
	for _, s := range []string{"250 ok", "250-x", "250", "99 x", "5xx y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, _, _, err := ParseReplyLine(s)
		if err == nil && (code < 100 || code > 599) {
			t.Fatalf("code %d accepted", code)
		}
		Rewrite(s, "d")
	})
}

func TestInterop(t *testing.T) {
	t.Run("swaks", func(t *testing.T) {
		swaks := peertest.Need(t, "swaks")
		store := mail.NewStore()
		s := start(t, Config{Domain: "hamburger.edu", Store: store})
		host, port, _ := net.SplitHostPort(s.Addr().String())
		out, err := exec.Command(swaks, "--server", host, "--port", port, "--from", "alice@crepes.fr", "--to", "bob@hamburger.edu",
			"--helo", "crepes.fr", "--header", "Subject: from swaks", "--body", "hello from swaks").CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		msgs := store.User("bob", false).Folder("INBOX").Snapshot()
		if len(msgs) != 1 || !strings.Contains(string(msgs[0].Raw), "hello from swaks") {
			t.Fatalf("swaks output:\n%s", out)
		}
		// relay refused for swaks too
		out, _ = exec.Command(swaks, "--server", host, "--port", port, "--from", "a@b", "--to", "eve@elsewhere.org").CombinedOutput()
		if !strings.Contains(string(out), "550") {
			t.Fatalf("relay not refused:\n%s", out)
		}
	})
	t.Run("python smtplib", func(t *testing.T) {
		py := peertest.Need(t, "python3")
		store := mail.NewStore()
		s := start(t, Config{Domain: "hamburger.edu", Store: store, MaxBytes: 10000})
		_, port, _ := net.SplitHostPort(s.Addr().String())
		script := `
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "alice@crepes.fr"; m["To"] = "bob@hamburger.edu"; m["Subject"] = "from python"
m.set_content("line one\n.leading dot\n")
m.add_attachment(bytes(range(256)), maintype="application", subtype="octet-stream", filename="b.bin")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.ehlo("crepes.fr")
    s.send_message(m)
    try:
        s.sendmail("a@b", ["eve@elsewhere.org"], "x")
        print("relayed?!")
    except smtplib.SMTPRecipientsRefused as e:
        print("refused", list(e.recipients.values())[0][0])
    try:
        s.sendmail("a@b", ["bob@hamburger.edu"], "x" * 20000)
    except smtplib.SMTPException as e:
        print("too big", e.smtp_code if hasattr(e, "smtp_code") else e)
`
		out, err := exec.Command(py, "-c", script, port).CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(string(out), "refused 550") || !strings.Contains(string(out), "too big 552") {
			t.Fatalf("python said:\n%s", out)
		}
		msgs := store.User("bob", false).Folder("INBOX").Snapshot()
		if len(msgs) != 1 {
			t.Fatalf("%d messages", len(msgs))
		}
		p, _ := mail.Parse(msgs[0].Raw)
		if len(p.Attachments) != 1 || len(p.Attachments[0].Data) != 256 || !strings.Contains(p.Text, ".leading dot") {
			t.Fatalf("parsed %+v", p)
		}
	})
}
