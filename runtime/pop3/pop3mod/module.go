// Package pop3mod is the Starlark module pop3: a thin binding over the
// engine in runtime/pop3 (argument reading, the pop3.client, pop3.reply and
// pop3.server values, and their docs).
package pop3mod

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/mail/mailmod"
	"github.com/netplay-dev/netplay/runtime/pop3"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

const moduleDoc = `POP3 (RFC 1939), the simple mail access protocol: a user agent logs in,
lists, retrieves and deletes the messages of its INBOX. Deletions happen
only when the client QUITs ("download and delete"); a client that retrieves
without deleting keeps the mail on the server ("download and keep").

    srv = pop3.serve("127.0.0.1:0", mailboxes=box, users={"bob": "hungry"})
    c = pop3.client(srv.address, trace=True)   # S: +OK POP3 server ready
    c.login("bob", "hungry")
    for n, size in c.list():
        m = c.retr(n)
        c.dele(n)
    c.quit()`

const defaultTimeout = 30 * time.Second

// New returns the pop3 module over st.
func New(st stack.Stack) *lang.Module {
	return lang.NewModule("pop3", moduleDoc, starlark.StringDict{
		"serve": lang.Func("pop3.serve", `serve(address, mailboxes=None, users=None, idle_timeout="10m") -> pop3.server

Starts a POP3 server on address ("host:port", port 0 picks one) serving the
INBOX folders of mailboxes (a mail.mailboxes, shared with smtp.serve).
users is a dict of user names to passwords ({"bob": "hungry"}); None lets
anyone in with any password. A maildrop is locked while a session has it
open; deleted messages are removed only at QUIT. A session silent for
idle_timeout (RFC 1939's ten minutes by default, on the network's clock) is
closed without its deletions, and its lock is released.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			a, err := mailmod.UnpackServe(th, st, b, args, kwargs)
			if err != nil {
				return nil, err
			}
			sv := a.NewServer("pop3.server", serverMethods)
			srv := pop3.NewServer(pop3.Config{Store: a.Store, Users: a.Users, Logf: sv.Logf, IdleTimeout: a.IdleTimeout, Clock: st})
			srv.Serve(a.Ln)
			sv.Start(th, srv.Close)
			return sv, nil
		}),
		"client": lang.Func("pop3.client", `client(address, trace=False, timeout=30) -> pop3.client

Connects to a POP3 server and reads its greeting (.greeting). Each method
sends one command, in lower case as the course writes them ("user bob");
trace=True prints every line as "S: " / "C: ".`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			ca, err := lang.UnpackClient(b, args, kwargs, defaultTimeout)
			if err != nil {
				return nil, err
			}
			addr, trace, timeout := ca.Addr, ca.Trace, ca.Timeout
			in := lang.InterpOf(th)
			var tr func(string)
			if trace {
				tr = func(l string) { in.Output().Println(l) }
			}
			var c *pop3.Client
			var greet pop3.Reply
			ctx := lang.Context(th)
			lang.Unlocked(th, func() { c, greet, err = pop3.Dial(ctx, st, addr, timeout, tr) })
			if err != nil {
				return nil, netErr(b.Name(), addr, err, timeout)
			}
			in.Track(c)
			return lang.NewClient("pop3.client", clientMethods, c, addr, &ReplyValue{greet}), nil
		}),
	}, serverMethods, clientMethods, replyType)
}

func netErr(op, addr string, err error, timeout time.Duration) error {
	if strings.Contains(err.Error(), "malformed") || strings.Contains(err.Error(), "longer than") {
		return lang.Errorf(lang.KindProtocol, op, addr, "%v", err)
	}
	return lang.NetError(op, addr, err, timeout)
}

var serverMethods = lang.NewMethods("pop3.server", `pop3.server

A running POP3 server (from pop3.serve). Attributes: address ("host:port"),
port, mailboxes, log (list of str: logins, retrievals, deletions).`,
	lang.StopMethod("pop3.server.stop", `stop() -> None

Stops the server and ends its sessions; sessions that had not QUIT delete
nothing.`),
)

// ClientValue is pop3.client.
type ClientValue = lang.Client[*pop3.Client]

func run(th *starlark.Thread, cv *ClientValue, op string, f func(ctx context.Context) error) error {
	if cv.Closed {
		return lang.Errorf(lang.KindClosed, op, cv.Addr, "the connection is closed")
	}
	var err error
	ctx := lang.Context(th)
	lang.Unlocked(th, func() { err = f(ctx) })
	if err != nil {
		return netErr(op, cv.Addr, err, cv.Conn.Timeout)
	}
	return nil
}

func simple(th *starlark.Thread, cv *ClientValue, op, line string) (starlark.Value, error) {
	if strings.ContainsAny(line, "\r\n") {
		return nil, fmt.Errorf("%s: argument must not contain a line break", op)
	}
	var rep pop3.Reply
	if err := run(th, cv, op, func(ctx context.Context) (err error) { rep, err = cv.Conn.Cmd(ctx, line); return }); err != nil {
		return nil, err
	}
	return &ReplyValue{rep}, nil
}

func refused(op, addr string, rep pop3.Reply) error {
	return lang.Errorf(lang.KindProtocol, op, addr, "server said %s", rep)
}

func noArgs(name, doc, line string) lang.MethodDoc {
	return lang.Method("pop3.client."+name, doc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, err := lang.Receiver[*ClientValue](b)
		if err != nil {
			return nil, err
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		v, err := simple(th, cv, b.Name(), line)
		if err == nil && name == "quit" {
			cv.Conn.Close()
			cv.Closed = true
		}
		return v, err
	})
}

var clientMethods = lang.NewMethods("pop3.client", `pop3.client

A POP3 client connection (from pop3.client). Attributes: greeting (the
server's first pop3.reply), address.`,
	lang.Method("pop3.client.user", `user(name) -> pop3.reply

Sends "user name".`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
			return nil, err
		}
		return simple(th, cv, b.Name(), "user "+name)
	}),
	lang.Method("pop3.client.password", `password(secret) -> pop3.reply

Sends "pass secret" (pass is a reserved word in Starlark, hence the name).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var pw string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "secret", &pw); err != nil {
			return nil, err
		}
		return simple(th, cv, b.Name(), "pass "+pw)
	}),
	lang.Method("pop3.client.login", `login(user, password) -> pop3.reply

Sends "user" then "pass" and returns the reply to pass (.ok is False if
the login was refused).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var user, pw string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "user", &user, "password", &pw); err != nil {
			return nil, err
		}
		if strings.ContainsAny(user+pw, "\r\n") {
			return nil, fmt.Errorf("%s: arguments must not contain a line break", b.Name())
		}
		var rep pop3.Reply
		err := run(th, cv, b.Name(), func(ctx context.Context) error {
			r, err := cv.Conn.Cmd(ctx, "user "+user)
			if err != nil || !r.OK {
				rep = r
				return err
			}
			rep, err = cv.Conn.Cmd(ctx, "pass "+pw)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &ReplyValue{rep}, nil
	}),
	lang.Method("pop3.client.stat", `stat() -> (count, size)

Sends "stat": how many messages the maildrop holds and their total size in
octets (deleted ones not counted). Fails with kind "protocol" on -ERR.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var rep pop3.Reply
		if err := run(th, cv, b.Name(), func(ctx context.Context) (err error) { rep, err = cv.Conn.Cmd(ctx, "stat"); return }); err != nil {
			return nil, err
		}
		if !rep.OK {
			return nil, refused(b.Name(), cv.Addr, rep)
		}
		var n, size int
		if _, err := fmt.Sscanf(rep.Text, "%d %d", &n, &size); err != nil {
			return nil, lang.Errorf(lang.KindProtocol, b.Name(), cv.Addr, "malformed STAT reply %q", rep.Text)
		}
		return starlark.Tuple{starlark.MakeInt(n), starlark.MakeInt(size)}, nil
	}),
	lang.Method("pop3.client.list", `list() -> list of (number, size)

Sends "list": the message numbers and sizes in octets, deleted ones left
out. Fails with kind "protocol" on -ERR.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var rep pop3.Reply
		var lines []string
		if err := run(th, cv, b.Name(), func(ctx context.Context) (err error) { rep, lines, err = cv.Conn.MultiCmd(ctx, "list"); return }); err != nil {
			return nil, err
		}
		if !rep.OK {
			return nil, refused(b.Name(), cv.Addr, rep)
		}
		pairs, err := pop3.ParseScanList(lines)
		if err != nil {
			return nil, lang.Errorf(lang.KindProtocol, b.Name(), cv.Addr, "%v", err)
		}
		var out []starlark.Value
		for _, p := range pairs {
			out = append(out, starlark.Tuple{starlark.MakeInt(p[0]), starlark.MakeInt(p[1])})
		}
		return starlark.NewList(out), nil
	}),
	lang.Method("pop3.client.retr", `retr(n) -> mail.message

Sends "retr n" and returns message n (with .raw, .text, .headers…). Fails
with kind "protocol" on -ERR (no such message, or deleted).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return retr(th, b, args, kwargs, false)
	}),
	lang.Method("pop3.client.top", `top(n, lines=0) -> mail.message

Sends "top n lines": message n's header and its first lines of body.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return retr(th, b, args, kwargs, true)
	}),
	lang.Method("pop3.client.dele", `dele(n) -> pop3.reply

Sends "dele n": marks message n deleted. It is removed when the session
ends with quit(); rset() unmarks it.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var n int
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &n); err != nil {
			return nil, err
		}
		return simple(th, cv, b.Name(), fmt.Sprintf("dele %d", n))
	}),
	lang.Method("pop3.client.uidl", `uidl() -> list of (number, str)

Sends "uidl": each message's unique id, which stays the same across
sessions (how a download-and-keep client knows what it has seen).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var rep pop3.Reply
		var lines []string
		if err := run(th, cv, b.Name(), func(ctx context.Context) (err error) { rep, lines, err = cv.Conn.MultiCmd(ctx, "uidl"); return }); err != nil {
			return nil, err
		}
		if !rep.OK {
			return nil, refused(b.Name(), cv.Addr, rep)
		}
		var out []starlark.Value
		for _, l := range lines {
			var n int
			var id string
			if _, err := fmt.Sscanf(l, "%d %s", &n, &id); err != nil {
				return nil, lang.Errorf(lang.KindProtocol, b.Name(), cv.Addr, "malformed UIDL line %q", l)
			}
			out = append(out, starlark.Tuple{starlark.MakeInt(n), starlark.String(id)})
		}
		return starlark.NewList(out), nil
	}),
	noArgs("rset", `rset() -> pop3.reply

Sends "rset": unmarks every message marked deleted in this session.`, "rset"),
	noArgs("noop", `noop() -> pop3.reply

Sends "noop".`, "noop"),
	noArgs("quit", `quit() -> pop3.reply

Sends "quit": the server removes the messages marked deleted, then closes.`, "quit"),
	lang.Method("pop3.client.cmd", `cmd(line) -> pop3.reply

Sends any command line as typed and returns the status line. For commands
with multi-line answers use the methods above.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var line string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "line", &line); err != nil {
			return nil, err
		}
		return simple(th, cv, b.Name(), line)
	}),
	lang.Method("pop3.client.close", `close() -> None

Closes the connection without quit: nothing marked deleted is removed.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		cv.Conn.Close()
		cv.Closed = true
		return starlark.None, nil
	}),
)

func retr(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, isTop bool) (starlark.Value, error) {
	cv, _ := lang.Receiver[*ClientValue](b)
	var n, lines int
	if isTop {
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &n, "lines?", &lines); err != nil {
			return nil, err
		}
	} else if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &n); err != nil {
		return nil, err
	}
	line := fmt.Sprintf("retr %d", n)
	if isTop {
		line = fmt.Sprintf("top %d %d", n, lines)
	}
	var rep pop3.Reply
	var body []string
	if err := run(th, cv, b.Name(), func(ctx context.Context) (err error) { rep, body, err = cv.Conn.MultiCmd(ctx, line); return }); err != nil {
		return nil, err
	}
	if !rep.OK {
		return nil, refused(b.Name(), cv.Addr, rep)
	}
	raw := strings.Join(body, "\r\n")
	if len(body) > 0 {
		raw += "\r\n"
	}
	m := mailmod.NewMessageValue([]byte(raw), nil, "")
	m.Number = n
	return m, nil
}

// ReplyValue is pop3.reply.
type ReplyValue struct{ pop3.Reply }

var (
	replyType = lang.Document("pop3.reply", `pop3.reply

A POP3 status line: .ok (True for +OK, False for -ERR) and .text (what
follows). str(r) is the line as sent: "+OK user successfully logged on".`)
)

func (r *ReplyValue) String() string        { return r.Reply.String() }
func (r *ReplyValue) Type() string          { return "pop3.reply" }
func (r *ReplyValue) Freeze()               {}
func (r *ReplyValue) Truth() starlark.Bool  { return starlark.Bool(r.OK) }
func (r *ReplyValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: pop3.reply") }
func (r *ReplyValue) AttrNames() []string   { return []string{"ok", "text"} }
func (r *ReplyValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "ok":
		return starlark.Bool(r.OK), nil
	case "text":
		return starlark.String(r.Text), nil
	}
	return nil, nil
}
