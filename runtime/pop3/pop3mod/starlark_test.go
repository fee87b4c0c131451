package pop3mod_test

import (
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

func TestStarlark(t *testing.T) {
	t.Run("download and delete vs keep", func(t *testing.T) {
		out := startest.MustRun(t, `
box = mail.mailboxes()
box.deliver("bob", "Subject: one\n\nDo you like ketchup?\n")
box.deliver("bob", "Subject: two\n\nHow about pickles?\n")
srv = pop3.serve("127.0.0.1:0", mailboxes=box, users={"bob": "hungry"})
# download and keep
c = pop3.client(srv.address)
print(c.login("bob", "hungry").ok)
print(c.stat(), [n for n, size in c.list()])
print(c.retr(1).subject)
c.quit()
print(len(box.get("bob")))
# download and delete: nothing goes before quit
c = pop3.client(srv.address)
c.login("bob", "hungry")
for n, size in c.list():
    c.retr(n)
    print(c.dele(n))
print(len(box.get("bob")), c.stat())
print(catch(c.retr, 1).error.kind)
print(c.quit())
print(len(box.get("bob")))
c = pop3.client(srv.address)
print(c.login("bob", "nope").ok, c.cmd("stat").ok)
srv.stop()
`)
		want := "True\n(2, 74) [1, 2]\none\n2\n+OK message 1 deleted\n+OK message 2 deleted\n2 (0, 0)\nprotocol\n+OK POP3 server signing off\n0\nFalse False\n"
		if out != want {
			t.Fatalf("got:\n%s\nwant:\n%s", out, want)
		}
	})
}
