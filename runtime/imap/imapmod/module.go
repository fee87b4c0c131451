// Package imapmod is the Starlark module imap: a thin binding over the
// engine in runtime/imap and go-imap's imapclient (argument reading, the
// imap.client and imap.server values, and their docs).
package imapmod

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/imap"
	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/mail/mailmod"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

const moduleDoc = `IMAP (RFC 3501/9051), the mail access protocol that keeps mail on the
server in folders, with flags: a server on go-imap's imapserver over a
mail.mailboxes store (shared with smtp and pop3), and a client.

    srv = imap.serve("127.0.0.1:0", mailboxes=box, users={"bob": "hungry"})
    c = imap.client(srv.address)
    c.login("bob", "hungry")
    c.create("lunch")
    c.select("INBOX")
    for n in c.search(subject="ketchup"):
        c.move(n, "lunch")
    c.logout()`

// New returns the imap module over st.
func New(st stack.Stack) *lang.Module {
	return lang.NewModule("imap", moduleDoc, starlark.StringDict{
		"serve": lang.Func("imap.serve", `serve(address, mailboxes=None, users=None, idle_timeout="30m", max_bytes="10MiB") -> imap.server

Starts an IMAP server on address ("host:port", port 0 picks one) over the
folders of mailboxes (a mail.mailboxes). users is a dict of names to
passwords; None lets anyone in with any password. LOGIN is allowed without
TLS (a lab on loopback). Supports IMAP4rev1 and IMAP4rev2 with MOVE,
UIDPLUS, NAMESPACE, ESEARCH. A connection silent for idle_timeout (RFC
9051's thirty minutes by default, on the network's clock) is closed, and
APPEND refuses messages over max_bytes.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var maxV starlark.Value = starlark.String("10MiB")
			a, err := mailmod.UnpackServe(th, st, b, args, kwargs, "max_bytes?", &maxV)
			if err != nil {
				return nil, err
			}
			maxBytes, err := lang.Size(maxV)
			if err != nil || maxBytes == 0 {
				a.Ln.Close()
				return nil, fmt.Errorf("%s: for parameter max_bytes: want a size such as \"10MiB\"", b.Name())
			}
			sv := a.NewServer("imap.server", serverMethods)
			sv.Start(th, imap.Serve(a.Ln, imap.Config{Store: a.Store, Users: a.Users, Clock: st, Logf: sv.Logf, IdleTimeout: a.IdleTimeout, MaxBytes: maxBytes}).Close)
			return sv, nil
		}),
		"client": lang.Func("imap.client", `client(address, trace=False, timeout=30) -> imap.client

Connects to an IMAP server (imapclient) and waits for its greeting.
trace=True prints the protocol lines as "S: " / "C: ".`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			ca, err := lang.UnpackClient(b, args, kwargs, 30*time.Second)
			if err != nil {
				return nil, err
			}
			addr, trace, timeout := ca.Addr, ca.Trace, ca.Timeout
			in := lang.InterpOf(th)
			ctx := lang.Context(th)
			var tr func(string)
			if trace {
				tr = func(s string) { in.Output().Println(s) }
			}
			var conn net.Conn
			lang.Unlocked(th, func() { conn, err = imap.Dial(ctx, st, addr, timeout, tr) })
			if err != nil {
				return nil, lang.NetError(b.Name(), addr, err, timeout)
			}
			cv := &ClientValue{conn: conn, addr: addr, st: st, timeout: timeout}
			cv.c = imapclient.New(conn, nil)
			in.Track(cv.c)
			if err := cv.run(th, b.Name(), func() error { return cv.c.WaitGreeting() }); err != nil {
				cv.c.Close()
				return nil, err
			}
			return cv, nil
		}),
	}, serverMethods, clientMethods)
}

var serverMethods = lang.NewMethods("imap.server", `imap.server

A running IMAP server (from imap.serve). Attributes: address, port,
mailboxes, log (list of str: logins, folders created, moves).`,
	lang.StopMethod("imap.server.stop", `stop() -> None

Stops the server and closes its connections.`),
)

// ClientValue is imap.client.
type ClientValue struct {
	c       *imapclient.Client
	conn    net.Conn
	addr    string
	st      stack.Stack
	timeout time.Duration
}

// run runs f with the lock released, bounded by the timeout and the
// script's context (closing the connection ends a blocked command).
func (cv *ClientValue) run(th *starlark.Thread, op string, f func() error) error {
	var err error
	ctx := lang.Context(th)
	lang.Unlocked(th, func() {
		cv.conn.SetDeadline(cv.st.Now().Add(cv.timeout))
		stop := context.AfterFunc(ctx, func() { cv.conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		err = f()
	})
	if err == nil {
		return nil
	}
	var ie *goimap.Error
	if errors.As(err, &ie) {
		return lang.Errorf(lang.KindProtocol, op, cv.addr, "server said %s %s", ie.Type, ie.Text)
	}
	return lang.NetError(op, cv.addr, err, cv.timeout)
}

// numSetArg accepts an int, a list of ints or a set string ("1:*").
func numSetArg(fn string, v starlark.Value, uid bool) (goimap.NumSet, error) {
	var ranges [][2]uint32
	switch v := v.(type) {
	case starlark.Int:
		n, err := starlark.AsInt32(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: message number must be positive, got %s", fn, v)
		}
		ranges = [][2]uint32{{uint32(n), uint32(n)}}
	case starlark.String:
		r, err := imap.ParseNumSet(string(v))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		ranges = r
	case starlark.Iterable:
		it := v.Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			n, err := starlark.AsInt32(x)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%s: want positive message numbers, got %s", fn, x)
			}
			ranges = append(ranges, [2]uint32{uint32(n), uint32(n)})
		}
		if len(ranges) == 0 {
			return nil, fmt.Errorf("%s: no messages given", fn)
		}
	default:
		return nil, fmt.Errorf("%s: got %s for messages, want int, list of int or a set such as \"1:*\"", fn, v.Type())
	}
	if uid {
		var s goimap.UIDSet
		for _, r := range ranges {
			s.AddRange(goimap.UID(r[0]), goimap.UID(r[1]))
		}
		return s, nil
	}
	var s goimap.SeqSet
	for _, r := range ranges {
		s.AddRange(r[0], r[1])
	}
	return s, nil
}

func strList(l []string) *starlark.List {
	out := make([]starlark.Value, len(l))
	for i, s := range l {
		out[i] = starlark.String(s)
	}
	return starlark.NewList(out)
}

var clientMethods = lang.NewMethods("imap.client", `imap.client

An IMAP client connection (from imap.client). Messages are named by
sequence number (1…n in the selected folder) or, with uid=True, by UID
(which never changes). A message set is an int, a list of ints or a string
such as "1:*". A NO or BAD answer fails with kind "protocol".`,
	lang.Method("imap.client.login", `login(user, password) -> None

Logs in with LOGIN.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var user, pw string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "user", &user, "password", &pw); err != nil {
			return nil, err
		}
		return starlark.None, cv.run(th, b.Name(), func() error { return cv.c.Login(user, pw).Wait() })
	}),
	lang.Method("imap.client.list", `list(pattern="*") -> list of str

The folders whose names match pattern ("*" all, "%" one level).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		pattern := "*"
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern?", &pattern); err != nil {
			return nil, err
		}
		var names []string
		err := cv.run(th, b.Name(), func() error {
			l, err := cv.c.List("", pattern, nil).Collect()
			for _, d := range l {
				names = append(names, d.Mailbox)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return strList(names), nil
	}),
	lang.Method("imap.client.create", `create(folder) -> None

Creates a folder.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "folder", &name); err != nil {
			return nil, err
		}
		return starlark.None, cv.run(th, b.Name(), func() error { return cv.c.Create(name, nil).Wait() })
	}),
	lang.Method("imap.client.delete", `delete(folder) -> None

Deletes a folder and its messages.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "folder", &name); err != nil {
			return nil, err
		}
		return starlark.None, cv.run(th, b.Name(), func() error { return cv.c.Delete(name).Wait() })
	}),
	lang.Method("imap.client.select", `select(folder="INBOX") -> struct

Selects a folder; later commands act on it. Returns a struct with messages
(how many), uid_validity, uid_next, first_unseen (0 if none), flags.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		name := "INBOX"
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "folder?", &name); err != nil {
			return nil, err
		}
		var d *goimap.SelectData
		if err := cv.run(th, b.Name(), func() (err error) {
			if d, err = cv.c.Select(name, nil).Wait(); err != nil || d.FirstUnseenSeqNum != 0 || d.NumMessages == 0 {
				return err
			}
			// go-imap's client drops the [UNSEEN n] response code; n is
			// the first message without \Seen, which SEARCH UNSEEN finds.
			sd, err := cv.c.Search(&goimap.SearchCriteria{NotFlag: []goimap.Flag{goimap.FlagSeen}}, nil).Wait()
			if err != nil {
				return err
			}
			if seqs := sd.AllSeqNums(); len(seqs) > 0 {
				d.FirstUnseenSeqNum = slices.Min(seqs)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		var flags []string
		for _, f := range d.Flags {
			flags = append(flags, string(f))
		}
		return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"messages": starlark.MakeUint64(uint64(d.NumMessages)), "uid_validity": starlark.MakeUint64(uint64(d.UIDValidity)),
			"uid_next": starlark.MakeUint64(uint64(d.UIDNext)), "first_unseen": starlark.MakeUint64(uint64(d.FirstUnseenSeqNum)),
			"flags": strList(flags),
		}), nil
	}),
	lang.Method("imap.client.search", `search(text="", subject="", sender="", to="", body="", flags=[], not_flags=[], uid=False) -> list of int

The messages of the selected folder that match every criterion given
(case-insensitive substring matches; flags such as "\\Seen" must be set,
not_flags must not be). No criteria: every message. Returns sequence
numbers, or UIDs with uid=True.

    c.search(subject="ketchup", not_flags=["\\Seen"])`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var text, subject, sender, to, body string
		var flagsV, notV starlark.Value = starlark.None, starlark.None
		uid := false
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "text?", &text, "subject?", &subject, "sender?", &sender, "to?", &to,
			"body?", &body, "flags?", &flagsV, "not_flags?", &notV, "uid?", &uid); err != nil {
			return nil, err
		}
		crit := &goimap.SearchCriteria{}
		if text != "" {
			crit.Text = []string{text}
		}
		if body != "" {
			crit.Body = []string{body}
		}
		for _, h := range [][2]string{{"Subject", subject}, {"From", sender}, {"To", to}} {
			if h[1] != "" {
				crit.Header = append(crit.Header, goimap.SearchCriteriaHeaderField{Key: h[0], Value: h[1]})
			}
		}
		fl, err := flagsArg(b.Name(), "flags", flagsV)
		if err != nil {
			return nil, err
		}
		nf, err := flagsArg(b.Name(), "not_flags", notV)
		if err != nil {
			return nil, err
		}
		crit.Flag, crit.NotFlag = fl, nf
		var nums []starlark.Value
		err = cv.run(th, b.Name(), func() error {
			var cmd *imapclient.SearchCommand
			if uid {
				cmd = cv.c.UIDSearch(crit, nil)
			} else {
				cmd = cv.c.Search(crit, nil)
			}
			d, err := cmd.Wait()
			if err != nil {
				return err
			}
			if uid {
				for _, u := range d.AllUIDs() {
					nums = append(nums, starlark.MakeUint64(uint64(u)))
				}
			} else {
				for _, n := range d.AllSeqNums() {
					nums = append(nums, starlark.MakeUint64(uint64(n)))
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return starlark.NewList(nums), nil
	}),
	lang.Method("imap.client.fetch", `fetch(messages, uid=False, peek=False) -> list of mail.message

The messages in full (BODY[]), each a mail.message with .uid and .flags.
Fetching marks them \Seen unless peek=True.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var setV starlark.Value
		uid, peek := false, false
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "messages", &setV, "uid?", &uid, "peek?", &peek); err != nil {
			return nil, err
		}
		set, err := numSetArg(b.Name(), setV, uid)
		if err != nil {
			return nil, err
		}
		section := &goimap.FetchItemBodySection{Peek: peek}
		var msgs []*imapclient.FetchMessageBuffer
		err = cv.run(th, b.Name(), func() (err error) {
			msgs, err = cv.c.Fetch(set, &goimap.FetchOptions{UID: true, Flags: true, BodySection: []*goimap.FetchItemBodySection{section}}).Collect()
			return
		})
		if err != nil {
			return nil, err
		}
		var out []starlark.Value
		for _, m := range msgs {
			var flags []string
			for _, f := range m.Flags {
				flags = append(flags, string(f))
			}
			if !peek && !hasFlag(flags, `\Seen`) {
				flags = append(flags, `\Seen`)
			}
			mv := mailmod.NewMessageValue(m.FindBodySection(section), flags, "")
			mv.UID = uint32(m.UID)
			mv.Number = int(m.SeqNum)
			out = append(out, mv)
		}
		return starlark.NewList(out), nil
	}),
	lang.Method("imap.client.store", `store(messages, flags, op="+", uid=False) -> None

Changes the messages' flags: op "+" adds flags, "-" removes them, "="
replaces them. flags is a str or a list ("\\Seen", "\\Flagged",
"\\Deleted", or a keyword of your own).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		var setV, flagsV starlark.Value
		op := "+"
		uid := false
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "messages", &setV, "flags", &flagsV, "op?", &op, "uid?", &uid); err != nil {
			return nil, err
		}
		set, err := numSetArg(b.Name(), setV, uid)
		if err != nil {
			return nil, err
		}
		fl, err := flagsArg(b.Name(), "flags", flagsV)
		if err != nil {
			return nil, err
		}
		sf := &goimap.StoreFlags{Flags: fl, Silent: true}
		switch op {
		case "+":
			sf.Op = goimap.StoreFlagsAdd
		case "-":
			sf.Op = goimap.StoreFlagsDel
		case "=":
			sf.Op = goimap.StoreFlagsSet
		default:
			return nil, fmt.Errorf("%s: op must be \"+\", \"-\" or \"=\", got %q", b.Name(), op)
		}
		return starlark.None, cv.run(th, b.Name(), func() error { return cv.c.Store(set, sf, nil).Close() })
	}),
	lang.Method("imap.client.move", `move(messages, folder, uid=False) -> None

Moves the messages to another folder (MOVE): they leave the selected one.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return moveCopy(th, b, args, kwargs, true)
	}),
	lang.Method("imap.client.copy", `copy(messages, folder, uid=False) -> None

Copies the messages to another folder.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return moveCopy(th, b, args, kwargs, false)
	}),
	lang.Method("imap.client.expunge", `expunge() -> None

Removes the selected folder's messages flagged \Deleted.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return starlark.None, cv.run(th, b.Name(), func() error { return cv.c.Expunge().Close() })
	}),
	lang.Method("imap.client.noop", `noop() -> int

Sends NOOP, which is how a client checks for new mail: the server reports
messages that arrived since the folder was selected. Returns how many
messages the selected folder now has (0 if none is selected).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		if err := cv.run(th, b.Name(), func() error { return cv.c.Noop().Wait() }); err != nil {
			return nil, err
		}
		n := uint32(0)
		if m := cv.c.Mailbox(); m != nil {
			n = m.NumMessages
		}
		return starlark.MakeUint64(uint64(n)), nil
	}),
	lang.Method("imap.client.logout", `logout() -> None

Logs out and closes the connection.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, _ := lang.Receiver[*ClientValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		err := cv.run(th, b.Name(), func() error { return cv.c.Logout().Wait() })
		cv.c.Close()
		return starlark.None, err
	}),
)

func hasFlag(l []string, f string) bool {
	for _, x := range l {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

func flagsArg(fn, param string, v starlark.Value) ([]goimap.Flag, error) {
	names, err := lang.StringsArg(fn, param, v)
	if err != nil {
		return nil, err
	}
	var out []goimap.Flag
	for _, n := range names {
		out = append(out, goimap.Flag(mail.CanonFlag(n)))
	}
	return out, nil
}

func moveCopy(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, move bool) (starlark.Value, error) {
	cv, _ := lang.Receiver[*ClientValue](b)
	var setV starlark.Value
	var folder string
	uid := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "messages", &setV, "folder", &folder, "uid?", &uid); err != nil {
		return nil, err
	}
	set, err := numSetArg(b.Name(), setV, uid)
	if err != nil {
		return nil, err
	}
	return starlark.None, cv.run(th, b.Name(), func() error {
		if move {
			_, err := cv.c.Move(set, folder).Wait()
			return err
		}
		_, err := cv.c.Copy(set, folder).Wait()
		return err
	})
}

func (cv *ClientValue) String() string        { return fmt.Sprintf("<imap.client %s>", cv.addr) }
func (cv *ClientValue) Type() string          { return "imap.client" }
func (cv *ClientValue) Freeze()               {}
func (cv *ClientValue) Truth() starlark.Bool  { return true }
func (cv *ClientValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: imap.client") }
func (cv *ClientValue) AttrNames() []string   { return append(clientMethods.Names(), "address") }
func (cv *ClientValue) Attr(name string) (starlark.Value, error) {
	if name == "address" {
		return starlark.String(cv.addr), nil
	}
	return clientMethods.Attr(cv, name), nil
}
