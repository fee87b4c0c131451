package mail

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBuildParse(t *testing.T) {
	bin := make([]byte, 1024)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	t.Run("plain ascii is 7bit", func(t *testing.T) {
		raw, err := Build(Spec{From: "alice@crepes.fr", To: []string{"bob@hamburger.edu"}, Subject: "hi", Body: "Do you like ketchup?\n", Date: time.Unix(0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := Parse(raw)
		if p.Header("Subject") != "hi" || p.Text != "Do you like ketchup?\n" {
			t.Fatalf("got subject %q text %q", p.Header("Subject"), p.Text)
		}
		if !strings.Contains(string(raw), "Content-Transfer-Encoding: 7bit") {
			t.Fatalf("want 7bit:\n%s", raw)
		}
	})
	t.Run("non-ascii text is 7-bit safe", func(t *testing.T) {
		raw, err := Build(Spec{From: "a@b", To: []string{"c@d"}, Subject: "crêpes", Body: "Aimez-vous le ketchup? ça\n"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range raw {
			if c >= 128 {
				t.Fatalf("8-bit byte in message:\n%s", raw)
			}
		}
		p, _ := Parse(raw)
		if p.Header("Subject") != "crêpes" || !strings.Contains(p.Text, "ça") {
			t.Fatalf("round trip: %q %q", p.Header("Subject"), p.Text)
		}
	})
	t.Run("binary attachment round trip", func(t *testing.T) {
		raw, err := Build(Spec{From: "a@b", To: []string{"c@d"}, Body: "see attached", Attachments: []Attachment{{"x.bin", "application/octet-stream", bin}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range raw {
			if c >= 128 {
				t.Fatal("8-bit byte in message")
			}
		}
		p, _ := Parse(raw)
		if len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0].Data, bin) || p.Attachments[0].Filename != "x.bin" {
			t.Fatalf("attachments: %+v", p.Attachments)
		}
		if strings.TrimSpace(p.Text) != "see attached" {
			t.Fatalf("text %q", p.Text)
		}
	})
	t.Run("header without blank line", func(t *testing.T) {
		p, _ := Parse([]byte("Received: from a ([1.2.3.4]) by b; Mon, 11 Mar 2013 11:44:05 +1100\r\nDo you like ketchup?\r\n"))
		if len(p.Received) != 1 || p.Received[0].IP != "1.2.3.4" || !strings.Contains(p.Text, "ketchup") {
			t.Fatalf("got %+v text %q", p.Received, p.Text)
		}
	})
	t.Run("bad header name refused", func(t *testing.T) {
		if _, err := Build(Spec{Headers: [][2]string{{"Bad Name", "x"}}}); err == nil {
			t.Fatal("want error")
		}
		if _, err := Build(Spec{Headers: [][2]string{{"X-A", "x\r\nBcc: evil"}}}); err == nil {
			t.Fatal("want error for header injection")
		}
	})
}

func TestReceived(t *testing.T) {
	for _, tc := range []struct {
		name, in                  string
		from, ip, by, with, forTo string
	}{
		{"netplay", "from crepes.fr ([127.0.0.1]) by hamburger.edu (netplay) with SMTP id 1 for <bob@hamburger.edu>; Mon, 11 Mar 2013 11:44:05 +1100",
			"crepes.fr", "127.0.0.1", "hamburger.edu", "SMTP", "bob@hamburger.edu"},
		{"course", "From bigbang.com ([129.94.242.19] == wagner orchestra.cse.unsw.EDU.AU) (ident-user cs3331) (cse-authentic-sender cs3331) (for <salilk@cse.unsw.edu.au>) By note With Smtip ; Mon, 11 Mar 2013 11:44:05 +1100",
			"bigbang.com", "129.94.242.19", "note", "Smtip", ""},
		{"postfix", "from mail.example.org (mail.example.org [192.0.2.1])\r\n\tby mx.example.com (Postfix) with ESMTPS id 4F; Tue, 2 Jan 2024 10:00:00 +0000",
			"mail.example.org", "192.0.2.1", "mx.example.com", "ESMTPS", ""},
		{"ipv6", "from x (x [IPv6:2001:db8::1]) by y with SMTP; Tue, 2 Jan 2024 10:00:00 +0000", "x", "2001:db8::1", "y", "SMTP", ""},
		{"garbage", "((((", "", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := ParseReceived(unfold(tc.in))
			if h.From != tc.from || h.IP != tc.ip || h.By != tc.by || h.With != tc.with || h.For != tc.forTo {
				t.Fatalf("got %+v", h)
			}
		})
	}
	t.Run("chain oldest first", func(t *testing.T) {
		raw := "Received: from b ([10.0.0.2]) by c; Mon, 11 Mar 2013 11:44:07 +1100\r\nReceived: from a ([10.0.0.1]) by b; Mon, 11 Mar 2013 11:44:05 +1100\r\nSubject: x\r\n\r\nhi\r\n"
		p, _ := Parse([]byte(raw))
		if len(p.Received) != 2 || p.Received[0].By != "b" || p.Received[1].By != "c" || p.Received[0].Time.IsZero() {
			t.Fatalf("got %+v", p.Received)
		}
	})
}

func TestStore(t *testing.T) {
	s := NewStore()
	t.Run("deliver creates user and INBOX", func(t *testing.T) {
		m, err := s.Deliver("bob", "", []byte("x"), time.Unix(0, 0))
		if err != nil || m.UID != 1 {
			t.Fatal(err, m)
		}
		if u := s.User("BOB", false); u == nil || len(u.Folder("inbox").Snapshot()) != 1 {
			t.Fatal("INBOX not found case-insensitively")
		}
	})
	t.Run("folders", func(t *testing.T) {
		u := s.User("bob", false)
		if err := u.Create("lunch"); err != nil {
			t.Fatal(err)
		}
		if err := u.Create("lunch"); err != ErrExists {
			t.Fatal(err)
		}
		if err := u.Delete("INBOX"); err == nil {
			t.Fatal("deleted INBOX")
		}
		if got := strings.Join(u.Folders(), ","); got != "INBOX,lunch" {
			t.Fatal(got)
		}
	})
	t.Run("remove returns sequence numbers", func(t *testing.T) {
		f := s.User("bob", false).Folder("lunch")
		a := f.Append([]byte("a"), time.Time{}, nil)
		f.Append([]byte("b"), time.Time{}, nil)
		c := f.Append([]byte("c"), time.Time{}, []string{`\seen`})
		seqs := f.Remove(map[*Message]bool{a: true, c: true})
		if len(seqs) != 2 || seqs[0] != 3 || seqs[1] != 1 || len(f.Snapshot()) != 1 {
			t.Fatal(seqs)
		}
		if _, ok := c.Flags[`\Seen`]; !ok {
			t.Fatal("flag not canonical")
		}
	})
	t.Run("spool", func(t *testing.T) {
		sp := s.Spool("crepes.fr")
		sp.Add(&QueueItem{ID: "1", To: []string{"x@y"}})
		if s.Spool("crepes.fr").Len() != 1 {
			t.Fatal("spool not shared")
		}
		sp.Remove("1")
		if sp.Len() != 0 {
			t.Fatal("not removed")
		}
	})
}

func FuzzParseReceived(f *testing.F) {
	f.Add("from crepes.fr ([127.0.0.1]) by hamburger.edu with SMTP id 1 for <bob@hamburger.edu>; Mon, 11 Mar 2013 11:44:05 +1100")
	f.Add("From a ((nested (deep)) \\) ) by b;")
	f.Add("(")
	f.Fuzz(func(t *testing.T, s string) {
		ParseReceived(s)
	})
}

func FuzzParse(f *testing.F) {
	raw, _ := Build(Spec{From: "a@b", To: []string{"c@d"}, Body: "x", Attachments: []Attachment{{"f", "image/png", []byte{0, 1, 2}}}})
	f.Add(raw)
	f.Add([]byte("Received: x\r\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n--x--"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Parse(b)
		splitHeader(b)
	})
}
