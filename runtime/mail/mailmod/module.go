// Package mailmod is the Starlark module mail over the engine in
// runtime/mail: messages built and parsed, Received: chains read, and the
// mail.mailboxes store value, which the smtp, pop3 and imap bindings share
// with it (StoreOf, NewMessageValue, UnpackServe).
package mailmod

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

const moduleDoc = `E-mail messages and mailboxes: build and parse RFC 5322 messages (MIME
multipart, base64 attachments), read the Received: chain, and keep users'
mailboxes that the smtp, pop3 and imap servers share.

    box = mail.mailboxes()
    msg = mail.message(sender="alice@crepes.fr", to=["bob@hamburger.edu"],
                       subject="Lunch", body="Do you like ketchup?")
    m = mail.parse(msg.raw)
    print(m.headers["Subject"], m.text)

The message format is not the SMTP envelope: From:/To: header lines are
what the message says; MAIL FROM/RCPT TO are what the servers act on.`

// New returns the mail module. It needs no network; st is unused but keeps
// every module's constructor alike.
func New(st stack.Stack) *lang.Module {
	return lang.NewModule("mail", moduleDoc, starlark.StringDict{
		"mailboxes": lang.Func("mail.mailboxes", `mailboxes() -> mail.mailboxes

A new, empty mailbox store: users, each with folders (INBOX first) of
messages. Give it to smtp.serve, pop3.serve and imap.serve as mailboxes= so
they share it. The store is kept in memory for as long as the script runs
(it is not written to disk); servers stopped and started again on the same
store keep its mail and its relay queues.

    box = mail.mailboxes()
    smtp.serve("127.0.0.1:0", "hamburger.edu", mailboxes=box)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			return &Mailboxes{Store: mail.NewStore()}, nil
		}),
		"message": lang.Func("mail.message", messageDoc, buildMessage),
		"parse": lang.Func("mail.parse", `parse(raw) -> mail.message

Takes a message (str or bytes, as received) apart: .headers, .text, .parts,
.attachments and .received (the Received: hops, oldest first).

    m = mail.parse(raw)
    for hop in m.received:
        print(hop.from_host, hop.ip, "->", hop.by)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var rawV starlark.Value
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "raw", &rawV); err != nil {
				return nil, err
			}
			if m, ok := rawV.(*MessageValue); ok {
				return m, nil
			}
			raw, err := lang.BytesOf(b.Name(), "raw", rawV)
			if err != nil {
				return nil, err
			}
			return NewMessageValue(raw, nil, ""), nil
		}),
	}, mailboxesMethods, messageMethods, headersMethods, partType, hopType)
}

const messageDoc = `message(sender="", to=[], subject="", body="", attachments=[], headers={}, cc=[], date=None) -> mail.message

Builds an RFC 5322 message, 7-bit safe as SMTP requires: plain ASCII text
goes as it is, other text quoted-printable; with attachments the message is
MIME multipart/mixed and each attachment is base64. to and cc are a str or a
list of addresses; attachments is a list of (filename, content_type, data)
tuples (data str or bytes); headers is a dict (or list of pairs) of extra
header fields; date is a Unix time in seconds (default: now).

    msg = mail.message(sender="alice@crepes.fr", to="bob@hamburger.edu",
                       subject="photo", body="see attached",
                       attachments=[("cat.png", "image/png", png)])
    print(msg)   # the message text`

func buildMessage(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var spec mail.Spec
	var toV, ccV, attV, hdrV, dateV starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "sender?", &spec.From, "to?", &toV, "subject?", &spec.Subject,
		"body?", &spec.Body, "attachments?", &attV, "headers?", &hdrV, "cc?", &ccV, "date?", &dateV); err != nil {
		return nil, err
	}
	var err error
	if spec.To, err = addrList(b.Name(), "to", toV); err != nil {
		return nil, err
	}
	if spec.Cc, err = addrList(b.Name(), "cc", ccV); err != nil {
		return nil, err
	}
	if attV != starlark.None {
		it, ok := attV.(starlark.Iterable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter attachments: got %s, want a list of (filename, content_type, data)", b.Name(), attV.Type())
		}
		iter := it.Iterate()
		defer iter.Done()
		var x starlark.Value
		for iter.Next(&x) {
			t, ok := x.(starlark.Tuple)
			if !ok || len(t) != 3 {
				return nil, fmt.Errorf("%s: for parameter attachments: got %s, want (filename, content_type, data) tuples", b.Name(), x.Type())
			}
			name, _ := starlark.AsString(t[0])
			ct, _ := starlark.AsString(t[1])
			data, err := lang.BytesOf(b.Name(), "attachments", t[2])
			if err != nil {
				return nil, err
			}
			spec.Attachments = append(spec.Attachments, mail.Attachment{Filename: name, ContentType: ct, Data: data})
		}
	}
	switch h := hdrV.(type) {
	case starlark.NoneType:
	case *starlark.Dict:
		for _, kv := range h.Items() {
			k, ok1 := starlark.AsString(kv[0])
			v, ok2 := starlark.AsString(kv[1])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s: for parameter headers: want str names and values", b.Name())
			}
			spec.Headers = append(spec.Headers, [2]string{k, v})
		}
	case starlark.Iterable:
		it := h.Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			t, ok := x.(starlark.Tuple)
			if !ok || len(t) != 2 {
				return nil, fmt.Errorf("%s: for parameter headers: want a dict or (name, value) pairs", b.Name())
			}
			k, _ := starlark.AsString(t[0])
			v, _ := starlark.AsString(t[1])
			spec.Headers = append(spec.Headers, [2]string{k, v})
		}
	default:
		return nil, fmt.Errorf("%s: for parameter headers: got %s, want dict", b.Name(), hdrV.Type())
	}
	in := lang.InterpOf(th)
	spec.Date = in.Clock().Now()
	if dateV != starlark.None {
		f, ok := starlark.AsFloat(dateV)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter date: got %s, want seconds since 1970", b.Name(), dateV.Type())
		}
		spec.Date = unixTime(f)
	}
	raw, err := mail.Build(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return NewMessageValue(raw, nil, ""), nil
}

// Mailboxes is the Starlark value of a Store.
type Mailboxes struct{ Store *mail.Store }

var mailboxesMethods = lang.NewMethods("mail.mailboxes", `mail.mailboxes

A store of users' mailboxes shared by smtp.serve, pop3.serve and imap.serve
(from mail.mailboxes()). User names are lower case; a user exists once mail
arrives for them or once deliver or create names them.`,
	lang.Method("mail.mailboxes.get", `get(user, folder="INBOX") -> list of mail.message

The messages in a user's folder, oldest first, each parsed (a mail.message
with .raw bytes exactly as stored, .uid and .flags too). An unknown user or
folder gives [].

    for m in box.get("bob"):
        print(m.uid, m.headers["Subject"])`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mb, _ := lang.Receiver[*Mailboxes](b)
		var user string
		folder := mail.Inbox
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "user", &user, "folder?", &folder); err != nil {
			return nil, err
		}
		var out []starlark.Value
		if u := mb.Store.User(mail.UserOf(user), false); u != nil {
			if f := u.Folder(folder); f != nil {
				f.Mu.Lock()
				msgs := append([]*mail.Message(nil), f.Msgs...)
				flags := make([][]string, len(msgs))
				for i, m := range msgs {
					flags[i] = m.FlagList()
				}
				f.Mu.Unlock()
				for i, m := range msgs {
					v := NewMessageValue(m.Raw, flags[i], "")
					v.UID = m.UID
					out = append(out, v)
				}
			}
		}
		return starlark.NewList(out), nil
	}),
	lang.Method("mail.mailboxes.users", `users() -> list of str

The users that have a mailbox, sorted.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mb, _ := lang.Receiver[*Mailboxes](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return strList(mb.Store.Users()), nil
	}),
	lang.Method("mail.mailboxes.folders", `folders(user) -> list of str

A user's folders, INBOX first ([] for an unknown user).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mb, _ := lang.Receiver[*Mailboxes](b)
		var user string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "user", &user); err != nil {
			return nil, err
		}
		u := mb.Store.User(mail.UserOf(user), false)
		if u == nil {
			return starlark.NewList(nil), nil
		}
		return strList(u.Folders()), nil
	}),
	lang.Method("mail.mailboxes.create", `create(user, folder="INBOX") -> None

Creates a user (with an INBOX) and, if named, a folder. Creating what
exists already is not an error.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mb, _ := lang.Receiver[*Mailboxes](b)
		var user string
		folder := mail.Inbox
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "user", &user, "folder?", &folder); err != nil {
			return nil, err
		}
		u := mb.Store.User(mail.UserOf(user), true)
		if err := u.Create(folder); err != nil && err != mail.ErrExists {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return starlark.None, nil
	}),
	lang.Method("mail.mailboxes.deliver", `deliver(user, message, folder="INBOX") -> int

Puts a message (str, bytes or mail.message) straight into a user's folder,
as a local delivery agent would, and returns its UID.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mb, _ := lang.Receiver[*Mailboxes](b)
		var user string
		var msgV starlark.Value
		folder := mail.Inbox
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "user", &user, "message", &msgV, "folder?", &folder); err != nil {
			return nil, err
		}
		raw, err := MessageBytes(b.Name(), "message", msgV)
		if err != nil {
			return nil, err
		}
		m, err := mb.Store.Deliver(mail.UserOf(user), folder, mail.CRLF(raw), lang.InterpOf(th).Clock().Now())
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return starlark.MakeUint64(uint64(m.UID)), nil
	}),
)

func strList(l []string) *starlark.List {
	out := make([]starlark.Value, len(l))
	for i, s := range l {
		out[i] = starlark.String(s)
	}
	return starlark.NewList(out)
}

func (m *Mailboxes) String() string {
	return fmt.Sprintf("<mail.mailboxes %d users>", len(m.Store.Users()))
}
func (m *Mailboxes) Type() string          { return "mail.mailboxes" }
func (m *Mailboxes) Freeze()               {}
func (m *Mailboxes) Truth() starlark.Bool  { return true }
func (m *Mailboxes) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: mail.mailboxes") }
func (m *Mailboxes) AttrNames() []string   { return mailboxesMethods.Names() }
func (m *Mailboxes) Attr(name string) (starlark.Value, error) {
	return mailboxesMethods.Attr(m, name), nil
}

// StoreOf returns the store behind a mailboxes= argument; None makes a new one.
func StoreOf(fn string, v starlark.Value) (*mail.Store, starlark.Value, error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		mb := &Mailboxes{Store: mail.NewStore()}
		return mb.Store, mb, nil
	case *Mailboxes:
		return v.Store, v, nil
	}
	return nil, nil, fmt.Errorf("%s: for parameter mailboxes: got %s, want mail.mailboxes", fn, v.Type())
}

// MessageBytes accepts a message argument: str, bytes or mail.message.
func MessageBytes(fn, param string, v starlark.Value) ([]byte, error) {
	if m, ok := v.(*MessageValue); ok {
		return m.Raw, nil
	}
	return lang.BytesOf(fn, param, v)
}

// MessageValue is a message seen from Starlark: mail.message.
type MessageValue struct {
	Raw    []byte
	UID    uint32
	Flags  []string
	Number int // POP3 message number, if any
	parsed *mail.Parsed
}

// NewMessageValue wraps raw message bytes.
func NewMessageValue(raw []byte, flags []string, _ string) *MessageValue {
	return &MessageValue{Raw: raw, Flags: flags}
}

func (m *MessageValue) p() *mail.Parsed {
	if m.parsed == nil {
		m.parsed, _ = mail.Parse(m.Raw)
	}
	return m.parsed
}

var messageMethods = lang.NewMethods("mail.message", `mail.message

A message (from mail.message, mail.parse, mailboxes.get, pop3 retr or imap
fetch). str(m) is its text. Attributes:
- raw: bytes, exactly as stored or received;
- headers: the header fields, m.headers["Subject"] (case-insensitive, the
  first such field), m.headers.get_all("Received"), m.headers.items() for
  every (name, value) in order;
- subject, sender, to, date: shortcuts for those header fields (str);
- text: the message's text (its first text/plain part), \n line ends;
- parts: every leaf MIME part (mail.part), in order;
- attachments: the parts that are attachments (mail.part);
- received: the Received: hops (mail.hop), oldest first;
- size: len(raw);
- uid, flags: for stored messages, the IMAP UID and flags ("\\Seen"…).`,
	lang.Method("mail.message.header", `header(name, default=None) -> str

The first header field called name (case-insensitive), or default.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m, _ := lang.Receiver[*MessageValue](b)
		var name string
		var def starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
			return nil, err
		}
		for _, kv := range m.p().Headers {
			if strings.EqualFold(kv[0], name) {
				return starlark.String(kv[1]), nil
			}
		}
		return def, nil
	}),
)

func (m *MessageValue) String() string        { return string(m.Raw) }
func (m *MessageValue) Type() string          { return "mail.message" }
func (m *MessageValue) Freeze()               {}
func (m *MessageValue) Truth() starlark.Bool  { return true }
func (m *MessageValue) Hash() (uint32, error) { return starlark.String(m.Raw).Hash() }
func (m *MessageValue) AttrNames() []string {
	return append(messageMethods.Names(), "attachments", "date", "flags", "headers", "parts", "raw", "received", "sender", "size", "subject", "text", "to", "uid")
}
func (m *MessageValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "raw":
		return starlark.Bytes(m.Raw), nil
	case "size":
		return starlark.MakeInt(len(m.Raw)), nil
	case "uid":
		return starlark.MakeUint64(uint64(m.UID)), nil
	case "flags":
		return strList(m.Flags), nil
	case "headers":
		return &Headers{fields: m.p().Headers}, nil
	case "subject":
		return starlark.String(m.p().Header("Subject")), nil
	case "sender":
		return starlark.String(m.p().Header("From")), nil
	case "to":
		return starlark.String(m.p().Header("To")), nil
	case "date":
		return starlark.String(m.p().Header("Date")), nil
	case "text":
		return starlark.String(m.p().Text), nil
	case "parts":
		return partList(m.p().Parts), nil
	case "attachments":
		return partList(m.p().Attachments), nil
	case "received":
		var out []starlark.Value
		for _, h := range m.p().Received {
			out = append(out, &HopValue{h})
		}
		return starlark.NewList(out), nil
	}
	return messageMethods.Attr(m, name), nil
}

func partList(ps []mail.Part) *starlark.List {
	var out []starlark.Value
	for _, p := range ps {
		out = append(out, &PartValue{p})
	}
	return starlark.NewList(out)
}

// Headers is a message's header fields: a case-insensitive mapping to the
// first value of each name, iterable over names in order.
type Headers struct{ fields [][2]string }

var headersMethods = lang.NewMethods("mail.headers", `mail.headers

A message's header fields. h["Subject"] is the first Subject field
(case-insensitive; a missing name fails, use h.get), "To" in h tests for one,
for name in h goes over the names in order, len(h) counts fields.`,
	lang.Method("mail.headers.get", `get(name, default=None) -> str

The first field called name, or default.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*Headers](b)
		var name string
		var def starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
			return nil, err
		}
		if v, ok := h.lookup(name); ok {
			return starlark.String(v), nil
		}
		return def, nil
	}),
	lang.Method("mail.headers.get_all", `get_all(name) -> list of str

Every field called name, in order (Received: fields newest first, as in the
message).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*Headers](b)
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
			return nil, err
		}
		var out []string
		for _, kv := range h.fields {
			if strings.EqualFold(kv[0], name) {
				out = append(out, kv[1])
			}
		}
		return strList(out), nil
	}),
	lang.Method("mail.headers.items", `items() -> list of (str, str)

Every (name, value) field, in order.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*Headers](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var out []starlark.Value
		for _, kv := range h.fields {
			out = append(out, starlark.Tuple{starlark.String(kv[0]), starlark.String(kv[1])})
		}
		return starlark.NewList(out), nil
	}),
	lang.Method("mail.headers.keys", `keys() -> list of str

The field names, in order, without repeats.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		h, _ := lang.Receiver[*Headers](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return strList(h.names()), nil
	}),
)

func (h *Headers) lookup(name string) (string, bool) {
	for _, kv := range h.fields {
		if strings.EqualFold(kv[0], name) {
			return kv[1], true
		}
	}
	return "", false
}

func (h *Headers) names() []string {
	seen := map[string]bool{}
	var out []string
	for _, kv := range h.fields {
		if k := strings.ToLower(kv[0]); !seen[k] {
			seen[k] = true
			out = append(out, kv[0])
		}
	}
	return out
}

func (h *Headers) String() string {
	var b strings.Builder
	b.WriteString("{")
	for i, kv := range h.fields {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %q", kv[0], kv[1])
	}
	b.WriteString("}")
	return b.String()
}
func (h *Headers) Type() string          { return "mail.headers" }
func (h *Headers) Freeze()               {}
func (h *Headers) Truth() starlark.Bool  { return len(h.fields) > 0 }
func (h *Headers) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: mail.headers") }
func (h *Headers) Len() int              { return len(h.fields) }
func (h *Headers) AttrNames() []string   { return headersMethods.Names() }
func (h *Headers) Attr(name string) (starlark.Value, error) {
	return headersMethods.Attr(h, name), nil
}
func (h *Headers) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := starlark.AsString(k)
	if !ok {
		return nil, false, fmt.Errorf("mail.headers: key must be str, got %s", k.Type())
	}
	v, found := h.lookup(s)
	if !found {
		return nil, false, nil
	}
	return starlark.String(v), true, nil
}
func (h *Headers) Iterate() starlark.Iterator {
	names := h.names()
	vals := make([]starlark.Value, len(names))
	for i, n := range names {
		vals[i] = starlark.String(n)
	}
	return starlark.NewList(vals).Iterate()
}

var (
	_ starlark.Mapping  = (*Headers)(nil)
	_ starlark.Iterable = (*Headers)(nil)
	_ starlark.HasAttrs = (*MessageValue)(nil)
)

// PartValue is mail.part.
type PartValue struct{ mail.Part }

var (
	partType = lang.Document("mail.part", `mail.part

One MIME part of a message: .content_type ("image/png"), .filename ("" if
none), .disposition ("attachment", "inline" or ""), .data (bytes, decoded
from base64 or quoted-printable), .text (data as str), .headers (list of
(name, value)).`)
	hopType = lang.Document("mail.hop", `mail.hop

One Received: header field: a server's own note of where it got the message.
Attributes: from_host (the name the sender gave, as claimed), ip (the address
the receiving server saw, "" if none), comment (the receiver's note in
parentheses after the from name), by (the receiving server), protocol (the
"with" clause: SMTP, ESMTP), id, recipient (the "for" clause), date (str),
time (Unix seconds, or None), raw (the whole field). A forged message shows
up as a chain whose hops do not connect: a hop's from_host/ip is not the
previous hop's by, or a claimed name does not match the ip.`)
)

func (p *PartValue) String() string {
	return fmt.Sprintf("<mail.part %s %q %d bytes>", p.ContentType, p.Filename, len(p.Data))
}
func (p *PartValue) Type() string          { return "mail.part" }
func (p *PartValue) Freeze()               {}
func (p *PartValue) Truth() starlark.Bool  { return true }
func (p *PartValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: mail.part") }
func (p *PartValue) AttrNames() []string {
	return []string{"content_type", "data", "disposition", "filename", "headers", "text"}
}
func (p *PartValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "content_type":
		return starlark.String(p.ContentType), nil
	case "filename":
		return starlark.String(p.Filename), nil
	case "disposition":
		return starlark.String(p.Disposition), nil
	case "data":
		return starlark.Bytes(p.Data), nil
	case "text":
		return starlark.String(strings.ReplaceAll(string(p.Data), "\r\n", "\n")), nil
	case "headers":
		var out []starlark.Value
		for _, kv := range p.Headers {
			out = append(out, starlark.Tuple{starlark.String(kv[0]), starlark.String(kv[1])})
		}
		return starlark.NewList(out), nil
	}
	return nil, nil
}

// HopValue is mail.hop.
type HopValue struct{ mail.Hop }

func (h *HopValue) String() string {
	return fmt.Sprintf("<mail.hop from %s [%s] by %s>", h.From, h.IP, h.By)
}
func (h *HopValue) Type() string          { return "mail.hop" }
func (h *HopValue) Freeze()               {}
func (h *HopValue) Truth() starlark.Bool  { return true }
func (h *HopValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: mail.hop") }
func (h *HopValue) AttrNames() []string {
	names := []string{"by", "comment", "date", "from_", "from_host", "id", "ip", "protocol", "raw", "recipient", "time"}
	sort.Strings(names)
	return names
}
func (h *HopValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "from_host", "from_":
		return starlark.String(h.From), nil
	case "ip":
		return starlark.String(h.IP), nil
	case "comment":
		return starlark.String(h.FromComment), nil
	case "by":
		return starlark.String(h.By), nil
	case "protocol":
		return starlark.String(h.With), nil
	case "id":
		return starlark.String(h.ID), nil
	case "recipient":
		return starlark.String(h.For), nil
	case "date":
		return starlark.String(h.Date), nil
	case "raw":
		return starlark.String(h.Raw), nil
	case "time":
		if h.Time.IsZero() {
			return starlark.None, nil
		}
		return starlark.MakeInt64(h.Time.Unix()), nil
	}
	return nil, nil
}

func unixTime(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}

// addrList reads a list of addresses (a str alone is one, "" none).
func addrList(fn, param string, v starlark.Value) ([]string, error) {
	if v == starlark.String("") {
		return nil, nil
	}
	return lang.StringsArg(fn, param, v)
}
