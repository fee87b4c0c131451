package imapmod_test

import (
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

func TestStarlark(t *testing.T) {
	t.Run("move between folders", func(t *testing.T) {
		out := startest.MustRun(t, `
box = mail.mailboxes()
box.deliver("bob", mail.message(sender="alice@crepes.fr", to="bob@hamburger.edu", subject="ketchup", body="Do you like ketchup?"))
box.deliver("bob", mail.message(sender="carol@x.org", to="bob@hamburger.edu", subject="other", body="hi"))
srv = imap.serve("127.0.0.1:0", mailboxes=box, users={"bob": "hungry"})
c = imap.client(srv.address)
print(catch(c.login, "bob", "bad").error.kind)
c.login("bob", "hungry")
c.create("lunch")
print(c.list())
print(c.select("INBOX").messages)
found = c.search(subject="ketchup")
print(found)
c.store(found, "\\Flagged")
print(c.search(flags=["\\Flagged"]), c.search(not_flags=["\\Seen"]))
c.move(found, "lunch")
print(c.select().messages, [m.subject for m in c.fetch("1:*", peek=True)])
print(c.select("lunch").messages)
m = c.fetch(1)[0]
print(m.subject, sorted(m.flags))
c.logout()
print([m.subject for m in box.get("bob", "lunch")], [m.subject for m in box.get("bob")], box.folders("bob"))
srv.stop()
`)
		want := "protocol\n[\"INBOX\", \"lunch\"]\n2\n[1]\n[1] [1, 2]\n1 [\"other\"]\n1\nketchup [\"\\\\Flagged\", \"\\\\Seen\"]\n[\"ketchup\"] [\"other\"] [\"INBOX\", \"lunch\"]\n"
		if out != want {
			t.Fatalf("got:\n%s\nwant:\n%s", out, want)
		}
	})
	t.Run("mail delivered by smtp is seen by imap", func(t *testing.T) {
		out := startest.MustRun(t, `
box = mail.mailboxes()
s = smtp.serve("127.0.0.1:0", "hamburger.edu", mailboxes=box)
i = imap.serve("127.0.0.1:0", mailboxes=box)
c = imap.client(i.address)
c.login("bob", "anything")
c.select("INBOX")
smtp.send(s.address, "alice@crepes.fr", "bob@hamburger.edu", "Subject: new\n\nhi")
print(c.search(subject="new"), c.noop(), c.search(subject="new"), c.fetch(1)[0].received[0].by)
`)
		if out != "[] 1 [1] hamburger.edu\n" {
			t.Fatalf("got:\n%s", out)
		}
	})
	t.Run("a message without headers keeps its body", func(t *testing.T) {
		// The course's SMTP session sends DATA with no header at all; POP3
		// returned it whole, IMAP used to send BODY[] {0}.
		out := startest.MustRun(t, `
box = mail.mailboxes()
s = smtp.serve("127.0.0.1:0", "hamburger.edu", mailboxes=box)
i = imap.serve("127.0.0.1:0", mailboxes=box, users={"bob": "hungry"})
c = smtp.client(s.address)
c.helo("crepes.fr")
c.mail("alice@crepes.fr")
c.rcpt("bob@hamburger.edu")
c.data("Do you like ketchup?\nHow about pickles?")
c.quit()
m = imap.client(i.address)
m.login("bob", "hungry")
print(m.select("INBOX").first_unseen)
got = m.fetch(1, peek=True)[0]
print(b"ketchup" in got.raw, b"pickles" in got.raw)
`)
		if out != "1\nTrue True\n" {
			t.Fatalf("got:\n%s", out)
		}
	})
}
