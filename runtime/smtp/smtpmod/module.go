// Package smtpmod is the Starlark module smtp: a thin binding over the
// engine in runtime/smtp (argument reading, handlers called in Starlark,
// the smtp.client, smtp.reply and smtp.server values, and their docs).
package smtpmod

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/mail/mailmod"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/smtp"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

const moduleDoc = `SMTP, the protocol mail servers push mail with (RFC 5321): a client that
sends one command per call, so a script walks through the course's dialogue
and sees every line, and a server with mailboxes, relay refusal, size limits,
a handler per message and a relaying queue.

    c = smtp.client("127.0.0.1:2525", trace=True)   # S: 220 hamburger.edu
    c.helo("crepes.fr")                              # C: HELO crepes.fr ...
    c.mail("alice@crepes.fr")
    c.rcpt("bob@hamburger.edu")
    c.data("Do you like ketchup?\nHow about pickles?")
    c.quit()

Replies (smtp.reply) are values with .code and .text, even 5xx ones; only
network failures are errors (catch() kinds "refused", "timeout", "closed").`

const defaultTimeout = 30 * time.Second

// New returns the smtp module over st.
func New(st stack.Stack) *lang.Module {
	return lang.NewModule("smtp", moduleDoc, starlark.StringDict{
		"client": lang.Func("smtp.client", clientDoc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			ca, err := lang.UnpackClient(b, args, kwargs, defaultTimeout)
			if err != nil {
				return nil, err
			}
			return dial(th, st, b.Name(), ca.Addr, ca.Trace, ca.Timeout)
		}),
		"send": lang.Func("smtp.send", sendDoc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return send(th, st, b, args, kwargs)
		}),
		"serve": lang.Func("smtp.serve", serveDoc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return serve(th, st, b, args, kwargs)
		}),
	}, clientMethods, serverMethods, replyType, queuedType, envelopeType)
}

const clientDoc = `client(address, trace=False, timeout=30) -> smtp.client

Connects to an SMTP server at address ("host:port" or (host, port)) and reads
its greeting (.greeting). Then each method sends one command and returns the
server's reply. With trace=True every line is printed as the course shows
it: "S: " for the server, "C: " for the client.

    c = smtp.client("127.0.0.1:2525", trace=True)
    r = c.helo("crepes.fr")
    print(r.code)   # 250`

// ClientValue is smtp.client.
type ClientValue = lang.Client[*smtp.Client]

func dial(th *starlark.Thread, st stack.Stack, op, addr string, trace bool, timeout time.Duration) (*ClientValue, error) {
	in := lang.InterpOf(th)
	var tr func(string)
	if trace {
		tr = func(line string) { in.Output().Println(line) }
	}
	var c *smtp.Client
	var greet smtp.Reply
	var err error
	ctx := lang.Context(th)
	lang.Unlocked(th, func() { c, greet, err = smtp.Dial(ctx, st, addr, timeout, tr) })
	if err != nil {
		return nil, lang.NetError(op, addr, err, timeout)
	}
	cv := lang.NewClient("smtp.client", clientMethods, c, addr, &ReplyValue{greet})
	in.Track(c)
	return cv, nil
}

// do runs one client step with the lock released.
func do(th *starlark.Thread, cv *ClientValue, op string, f func(ctx context.Context) (smtp.Reply, error)) (starlark.Value, error) {
	if cv.Closed {
		return nil, lang.Errorf(lang.KindClosed, op, cv.Addr, "the connection is closed")
	}
	var rep smtp.Reply
	var err error
	ctx := lang.Context(th)
	lang.Unlocked(th, func() { rep, err = f(ctx) })
	if err != nil {
		if strings.Contains(err.Error(), "malformed reply") || strings.Contains(err.Error(), "longer than") || strings.Contains(err.Error(), "line break") {
			return nil, lang.Errorf(lang.KindProtocol, op, cv.Addr, "%v", err)
		}
		return nil, lang.NetError(op, cv.Addr, err, cv.Conn.Timeout)
	}
	return &ReplyValue{rep}, nil
}

func angle(addr string) string {
	addr = strings.TrimSpace(addr)
	if strings.HasPrefix(addr, "<") {
		return addr
	}
	return "<" + addr + ">"
}

func cmdMethod(name, doc string, arg string, line func(a string) string) lang.MethodDoc {
	return lang.Method("smtp.client."+name, doc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, err := lang.Receiver[*ClientValue](b)
		if err != nil {
			return nil, err
		}
		var a string
		if arg != "" {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, arg, &a); err != nil {
				return nil, err
			}
		} else if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		l := line(a)
		if strings.ContainsAny(l, "\r\n") {
			return nil, fmt.Errorf("%s: %s must not contain a line break", b.Name(), arg)
		}
		v, err := do(th, cv, b.Name(), func(ctx context.Context) (smtp.Reply, error) { return cv.Conn.Cmd(ctx, l) })
		if err == nil && name == "quit" {
			cv.Conn.Close()
			cv.Closed = true
		}
		return v, err
	})
}

var clientMethods = lang.NewMethods("smtp.client", `smtp.client

An SMTP client connection (from smtp.client). Each method sends one command
and returns the server's smtp.reply. Attributes: greeting (the 220 reply),
address.`,
	cmdMethod("helo", `helo(name) -> smtp.reply

Sends "HELO name": the client says who it is.`, "name", func(a string) string { return "HELO " + a }),
	cmdMethod("ehlo", `ehlo(name) -> smtp.reply

Sends "EHLO name"; the reply lists the server's extensions (.lines).`, "name", func(a string) string { return "EHLO " + a }),
	cmdMethod("mail", `mail(sender) -> smtp.reply

Sends "MAIL FROM: <sender>", the envelope sender, as the course writes it.`, "sender", func(a string) string { return "MAIL FROM: " + angle(a) }),
	cmdMethod("rcpt", `rcpt(recipient) -> smtp.reply

Sends "RCPT TO: <recipient>", one envelope recipient; call once per
recipient.`, "recipient", func(a string) string { return "RCPT TO: " + angle(a) }),
	cmdMethod("rset", `rset() -> smtp.reply

Sends "RSET": forget the message being built.`, "", func(string) string { return "RSET" }),
	cmdMethod("noop", `noop() -> smtp.reply

Sends "NOOP".`, "", func(string) string { return "NOOP" }),
	cmdMethod("quit", `quit() -> smtp.reply

Sends "QUIT" and closes the connection after the reply.`, "", func(string) string { return "QUIT" }),
	cmdMethod("cmd", `cmd(line) -> smtp.reply

Sends any command line exactly as given (no line break allowed), as typed
into telnet, and returns the reply: c.cmd("VRFY bob").`, "line", func(a string) string { return a }),
	lang.Method("smtp.client.data", `data(message) -> smtp.reply

Sends "DATA"; if the server answers 354, sends the message (str, bytes or
mail.message) line by line, dot-stuffed (a line starting with "." gets
another "."), then "." on a line by itself, and returns the final reply.
Otherwise returns the DATA reply.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, err := lang.Receiver[*ClientValue](b)
		if err != nil {
			return nil, err
		}
		var msgV starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "message", &msgV); err != nil {
			return nil, err
		}
		raw, err := mailmod.MessageBytes(b.Name(), "message", msgV)
		if err != nil {
			return nil, err
		}
		return do(th, cv, b.Name(), func(ctx context.Context) (smtp.Reply, error) { return cv.Conn.Data(ctx, raw) })
	}),
	lang.Method("smtp.client.close", `close() -> None

Closes the connection without QUIT.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		cv, err := lang.Receiver[*ClientValue](b)
		if err != nil {
			return nil, err
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		cv.Conn.Close()
		cv.Closed = true
		return starlark.None, nil
	}),
)

// ReplyValue is smtp.reply.
type ReplyValue struct{ smtp.Reply }

var (
	replyType = lang.Document("smtp.reply", `smtp.reply

A server's reply: .code (int, 250), .text (str; lines joined by "\n"),
.lines (list of str), .ok (True for 2xx and 3xx). str(r) is the reply as
sent: "250 Hello crepes.fr, pleased to meet you".`)
	queuedType = lang.Document("smtp.queued", `smtp.queued

One message in a relaying server's outgoing queue (server.queue): id,
sender, to (recipients not yet delivered), attempts, next_retry (seconds
from now), last_error, size.`)
	envelopeType = lang.Document("smtp.envelope", `smtp.envelope

What the SMTP dialogue said about a message, given to a server's handler:
sender (MAIL FROM), to (the RCPT TO list), helo (the name the client gave),
peer ("ip:port" of the client), id (the server's id for the message).`)
)

func (r *ReplyValue) String() string        { return r.Reply.String() }
func (r *ReplyValue) Type() string          { return "smtp.reply" }
func (r *ReplyValue) Freeze()               {}
func (r *ReplyValue) Truth() starlark.Bool  { return starlark.Bool(r.Positive()) }
func (r *ReplyValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: smtp.reply") }
func (r *ReplyValue) AttrNames() []string   { return []string{"code", "lines", "ok", "text"} }
func (r *ReplyValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "code":
		return starlark.MakeInt(r.Code), nil
	case "text":
		return starlark.String(r.Text()), nil
	case "lines":
		var l []starlark.Value
		for _, s := range r.Lines {
			l = append(l, starlark.String(s))
		}
		return starlark.NewList(l), nil
	case "ok":
		return starlark.Bool(r.Positive()), nil
	}
	return nil, nil
}

const sendDoc = `send(server, sender, to, message, helo="localhost", trace=False, timeout=30) -> smtp.reply

The whole exchange with server ("host:port"): HELO, MAIL FROM, one RCPT TO
per recipient (to is a str or a list), DATA with the message (str, bytes or
mail.message), QUIT. Returns the reply to the message (250 when accepted),
or the first reply that stopped the exchange (a refused sender, every
recipient refused). trace=True prints the dialogue.

    r = smtp.send("127.0.0.1:2525", "alice@crepes.fr", "bob@hamburger.edu",
                  "Subject: hi\n\nDo you like ketchup?")
    print(r.code, r.text)`

func send(th *starlark.Thread, st stack.Stack, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var addrV, toV, msgV starlark.Value
	var sender string
	helo := "localhost"
	trace := false
	var timeoutV starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "server", &addrV, "sender", &sender, "to", &toV, "message", &msgV,
		"helo?", &helo, "trace?", &trace, "timeout?", &timeoutV); err != nil {
		return nil, err
	}
	addr, err := lang.AddrArg(b.Name(), "server", addrV, 0)
	if err != nil {
		return nil, err
	}
	timeout, err := lang.DurationArg(b.Name(), "timeout", timeoutV, defaultTimeout)
	if err != nil {
		return nil, err
	}
	to, err := recipients(b.Name(), toV)
	if err != nil {
		return nil, err
	}
	raw, err := mailmod.MessageBytes(b.Name(), "message", msgV)
	if err != nil {
		return nil, err
	}
	for _, s := range append([]string{helo, sender}, to...) {
		if strings.ContainsAny(s, "\r\n") {
			return nil, fmt.Errorf("%s: %q contains a line break", b.Name(), s)
		}
	}
	cv, err := dial(th, st, b.Name(), addr, trace, timeout)
	if err != nil {
		return nil, err
	}
	defer cv.Conn.Close()
	if greeting := cv.Greeting.(*ReplyValue); greeting.Code != 220 {
		return greeting, nil
	}
	return do(th, cv, b.Name(), func(ctx context.Context) (smtp.Reply, error) {
		return dialogue(ctx, cv.Conn, helo, sender, to, raw)
	})
}

// recipients reads smtp.send's to=: one address or a list of them.
func recipients(fn string, toV starlark.Value) ([]string, error) {
	to, err := lang.StringsArg(fn, "to", toV)
	if err != nil {
		return nil, err
	}
	if len(to) == 0 {
		return nil, fmt.Errorf("%s: no recipients", fn)
	}
	return to, nil
}

// dialogue sends one message after the greeting: HELO, MAIL FROM, a RCPT
// TO per recipient, DATA unless every recipient was refused, then QUIT. It
// returns the reply that decided: the first refusal, or DATA's.
func dialogue(ctx context.Context, c *smtp.Client, helo, sender string, to []string, raw []byte) (smtp.Reply, error) {
	rep, err := c.Cmd(ctx, "HELO "+helo)
	if err != nil || rep.Code != 250 {
		return rep, err
	}
	rep, err = c.Cmd(ctx, "MAIL FROM: "+angle(sender))
	if err != nil || rep.Code != 250 {
		c.Cmd(ctx, "QUIT")
		return rep, err
	}
	accepted := 0
	var refused smtp.Reply
	for _, r := range to {
		rep, err = c.Cmd(ctx, "RCPT TO: "+angle(r))
		if err != nil {
			return rep, err
		}
		if rep.Code/100 == 2 {
			accepted++
		} else if refused.Code == 0 {
			refused = rep
		}
	}
	if accepted == 0 {
		c.Cmd(ctx, "QUIT")
		return refused, nil
	}
	final, err := c.Data(ctx, raw)
	if err != nil {
		return final, err
	}
	c.Cmd(ctx, "QUIT")
	return final, nil
}

const serveDoc = `serve(address, domain, mailboxes=None, relay=None, max_bytes="10MiB", handler=None, resolver=None, users=None, local_domains=[], retry=1, max_retry=60, mx_port=25, timeout=30, idle_timeout="5m") -> smtp.server

Starts an SMTP server (github.com/emersion/go-smtp) for domain on address
("host:port", port 0 picks one). Mail for domain (and local_domains) goes
into mailboxes (a mail.mailboxes; a new one if None), INBOX of the address's
local part; users, if given, lists the only local users (others get 550).
Each accepted message gets a Received: line on top. The server answers in
the course's words ("250 alice@crepes.fr... Sender ok").

Mail for other domains is refused ("550 ... Relaying denied") unless relay is
set: a "host:port" to send everything to, a dict {domain: "host:port"} ("*"
for the rest), or True to find the next server by MX lookup through resolver
(a Starlark function f(domain) -> list of "host" or "host:port", or a
resolver object offering MX lookup; hosts without a port use mx_port).
Relayed mail waits in the server's outgoing queue (kept in mailboxes, so a
server started again on the same store carries on) and is retried after
retry seconds, doubling up to max_retry, while the next server is down.
A 250 is only sent once the message is stored or queued.

max_bytes refuses larger messages with 552 (10 MiB by default, as real
servers; 0 for no limit). A client silent for idle_timeout (RFC 5321's five
minutes by default, on the network's clock) is disconnected. handler(envelope, message), if
given, is called for each message before delivery (envelope: smtp.envelope,
message: mail.message); it returns None or True to deliver, False to refuse
with 550, a code, or (code, text): a 4xx/5xx refuses, a 2xx accepts with
that text, and (250, text, False) accepts without delivering.

    box = mail.mailboxes()
    bob = smtp.serve("127.0.0.1:0", "hamburger.edu", mailboxes=box)
    alice = smtp.serve("127.0.0.1:0", "crepes.fr",
                       relay={"hamburger.edu": bob.address})`

func serve(th *starlark.Thread, st stack.Stack, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var addrV starlark.Value
	var domain string
	var boxV, relayV, handlerV, resolverV, usersV, localsV starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
	var maxBytesV starlark.Value = starlark.String("10MiB")
	var retryV, maxRetryV, timeoutV, idleV starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
	mxPort := 25
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "address", &addrV, "domain", &domain, "mailboxes?", &boxV,
		"relay?", &relayV, "max_bytes?", &maxBytesV, "handler?", &handlerV, "resolver?", &resolverV, "users?", &usersV,
		"local_domains?", &localsV, "retry?", &retryV, "max_retry?", &maxRetryV, "mx_port?", &mxPort, "timeout?", &timeoutV, "idle_timeout?", &idleV); err != nil {
		return nil, err
	}
	addr, err := lang.AddrArg(b.Name(), "address", addrV, 0)
	if err != nil {
		return nil, err
	}
	store, boxVal, err := mailmod.StoreOf(b.Name(), boxV)
	if err != nil {
		return nil, err
	}
	maxBytes, err := lang.Size(maxBytesV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter max_bytes: %v", b.Name(), err)
	}
	cfg := smtp.Config{Domain: domain, Store: store, MaxBytes: maxBytes}
	for _, d := range []struct {
		param string
		v     starlark.Value
		def   time.Duration
		to    *time.Duration
	}{
		{"retry", retryV, time.Second, &cfg.RetryBase},
		{"max_retry", maxRetryV, 60 * time.Second, &cfg.RetryMax},
		{"timeout", timeoutV, defaultTimeout, &cfg.Timeout},
		{"idle_timeout", idleV, smtp.DefaultIdleTimeout, &cfg.IdleTimeout},
	} {
		if *d.to, err = lang.DurationArg(b.Name(), d.param, d.v, d.def); err != nil {
			return nil, err
		}
	}
	if cfg.Users, err = lang.StringsArg(b.Name(), "users", usersV); err != nil {
		return nil, err
	}
	if cfg.Locals, err = lang.StringsArg(b.Name(), "local_domains", localsV); err != nil {
		return nil, err
	}
	in := lang.InterpOf(th)
	mx, err := mxResolverArg(in, b.Name(), resolverV)
	if err != nil {
		return nil, err
	}
	if cfg.Relay, err = relayArg(b.Name(), relayV, mx, mxPort); err != nil {
		return nil, err
	}
	if cfg.Handler, err = handlerArg(in, b.Name(), domain, handlerV); err != nil {
		return nil, err
	}
	ln, err := lang.ListenServer(th, st, b.Name(), addr)
	if err != nil {
		return nil, err
	}
	srv := smtp.Serve(st, ln, cfg)
	sv := &ServerValue{srv: srv, box: boxVal}
	sv.untrack = in.Track(sv)
	return sv, nil
}

// mxResolverArg reads smtp.serve's resolver=: a dns.resolver, which the
// relay asks directly (engine to engine, under the relay's context), or a
// Starlark function f(domain) -> list of hosts; nil for None.
func mxResolverArg(in *lang.Interp, fn string, v starlark.Value) (smtp.MXResolver, error) {
	switch r := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case smtp.MXResolver:
		return r, nil
	case starlark.Callable:
		return smtp.MXFunc(func(ctx context.Context, d string) ([]string, error) {
			v, err := in.Call("smtp resolver "+r.Name(), r, starlark.Tuple{starlark.String(d)}, nil)
			if err != nil {
				return nil, err
			}
			return lang.StringsArg("resolver", "result", v)
		}), nil
	}
	return nil, fmt.Errorf("%s: for parameter resolver: got %s, want a function f(domain) -> list of hosts, or a resolver offering MX lookup", fn, v.Type())
}

// relayArg reads smtp.serve's relay=: None (no relaying), True (by MX
// lookup through mx), one "host:port" for every domain, or a dict of them
// by domain ("*" for the rest).
func relayArg(fn string, v starlark.Value, mx smtp.MXResolver, mxPort int) (*smtp.Relay, error) {
	switch r := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		if !r {
			return nil, nil
		}
		if mx == nil {
			return nil, fmt.Errorf("%s: relay=True needs resolver= for MX lookups", fn)
		}
		return &smtp.Relay{MX: mx, MXPort: mxPort}, nil
	case starlark.String, starlark.Tuple:
		hop, err := lang.AddrArg(fn, "relay", r, 0)
		if err != nil {
			return nil, err
		}
		return &smtp.Relay{Routes: map[string]string{"*": hop}, MX: mx, MXPort: mxPort}, nil
	case *starlark.Dict:
		routes := map[string]string{}
		for _, kv := range r.Items() {
			d, ok := starlark.AsString(kv[0])
			if !ok {
				return nil, fmt.Errorf("%s: for parameter relay: domains must be str", fn)
			}
			hop, err := lang.AddrArg(fn, "relay", kv[1], 0)
			if err != nil {
				return nil, err
			}
			routes[strings.ToLower(d)] = hop
		}
		return &smtp.Relay{Routes: routes, MX: mx, MXPort: mxPort}, nil
	}
	return nil, fmt.Errorf("%s: for parameter relay: got %s, want None, True, \"host:port\" or a dict", fn, v.Type())
}

// handlerArg reads smtp.serve's handler=: a function called as
// handler(envelope, message) for each message, whose answer is the
// verdict; nil for None.
func handlerArg(in *lang.Interp, fn, domain string, v starlark.Value) (func(smtp.Envelope, []byte) (smtp.Verdict, error), error) {
	h, ok := v.(starlark.Callable)
	if !ok {
		if v != starlark.None {
			return nil, fmt.Errorf("%s: for parameter handler: got %s, want a function", fn, v.Type())
		}
		return nil, nil
	}
	return func(env smtp.Envelope, raw []byte) (smtp.Verdict, error) {
		to := make([]starlark.Value, len(env.To))
		for i, t := range env.To {
			to[i] = starlark.String(t)
		}
		ev := starlarkstruct.FromStringDict(starlark.String("smtp.envelope"), starlark.StringDict{
			"sender": starlark.String(env.From), "to": starlark.NewList(to), "helo": starlark.String(env.Helo),
			"peer": starlark.String(env.Peer), "id": starlark.String(env.ID),
		})
		v, err := in.Call("smtp handler "+h.Name(), h, starlark.Tuple{ev, mailmod.NewMessageValue(raw, nil, "")}, nil)
		if err != nil {
			if in.Context().Err() == nil && !neterr.Closed(err) {
				in.Fprintf("smtp.serve %s: handler failed: %s\n", domain, lang.FormatError(err))
			}
			return smtp.Verdict{}, err
		}
		return verdictOf(v)
	}, nil
}

func verdictOf(v starlark.Value) (smtp.Verdict, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return smtp.Verdict{}, nil
	case starlark.Bool:
		if v {
			return smtp.Verdict{}, nil
		}
		return smtp.Verdict{Code: 550, Text: "Message rejected"}, nil
	case starlark.Int:
		code, _ := starlark.AsInt32(v)
		return checkVerdict(smtp.Verdict{Code: code, Text: defaultText(code)})
	case starlark.Tuple:
		if len(v) >= 2 && len(v) <= 3 {
			code, err := starlark.AsInt32(v[0])
			text, ok := starlark.AsString(v[1])
			if err == nil && ok {
				vd := smtp.Verdict{Code: code, Text: text}
				if len(v) == 3 && !bool(v[2].Truth()) {
					vd.Drop = true
				}
				return checkVerdict(vd)
			}
		}
	}
	return smtp.Verdict{}, fmt.Errorf("handler returned %s; want None, a bool, a code or (code, text)", v.Type())
}

func checkVerdict(v smtp.Verdict) (smtp.Verdict, error) {
	if v.Code < 200 || v.Code > 599 || (v.Code >= 300 && v.Code < 400) {
		return smtp.Verdict{}, fmt.Errorf("handler returned code %d; want 2xx, 4xx or 5xx", v.Code)
	}
	if strings.ContainsAny(v.Text, "\r\n") {
		v.Text = strings.Join(strings.Fields(v.Text), " ")
	}
	return v, nil
}

func defaultText(code int) string {
	switch code / 100 {
	case 2:
		return "Message accepted for delivery"
	case 4:
		return "Requested action aborted: try again later"
	}
	return "Message rejected"
}

// ServerValue is smtp.server.
type ServerValue struct {
	srv     *smtp.Server
	box     starlark.Value
	untrack func()
}

var serverMethods = lang.NewMethods("smtp.server", `smtp.server

A running SMTP server (from smtp.serve). Attributes: address ("host:port"),
port, domain, mailboxes, log (list of str: every accepted, delivered,
queued, relayed, deferred or refused message), queue (list of smtp.queued:
what waits to be relayed).`,
	lang.Method("smtp.server.stop", `stop() -> None

Stops the server: closes its listener and connections and pauses relaying.
Queued messages stay in the mailboxes store; a server started again for the
same domain on the same store delivers them.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sv, _ := lang.Receiver[*ServerValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { sv.Close() })
		return starlark.None, nil
	}),
	lang.Method("smtp.server.flush", `flush() -> None

Retries every queued message now instead of waiting for its next retry.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sv, _ := lang.Receiver[*ServerValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		sv.srv.Flush()
		return starlark.None, nil
	}),
	lang.Method("smtp.server.wait", `wait(timeout=10) -> bool

Waits until the outgoing queue is empty (True) or timeout passes (False).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sv, _ := lang.Receiver[*ServerValue](b)
		var timeoutV starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timeout?", &timeoutV); err != nil {
			return nil, err
		}
		d, err := lang.DurationArg(b.Name(), "timeout", timeoutV, 10*time.Second)
		if err != nil {
			return nil, err
		}
		var ok bool
		ctx := lang.Context(th)
		lang.Unlocked(th, func() {
			c, cancel := stack.WithTimeout(ctx, sv.srv.Clock(), d)
			defer cancel()
			ok = sv.srv.WaitQueue(c)
		})
		return starlark.Bool(ok), nil
	}),
)

// Close stops the server (for the interpreter's shutdown too).
func (sv *ServerValue) Close() error {
	sv.srv.Stop()
	if sv.untrack != nil {
		sv.untrack()
	}
	return nil
}

func (sv *ServerValue) String() string {
	return fmt.Sprintf("<smtp.server %s %s>", sv.srv.Domain(), sv.srv.Addr())
}
func (sv *ServerValue) Type() string          { return "smtp.server" }
func (sv *ServerValue) Freeze()               {}
func (sv *ServerValue) Truth() starlark.Bool  { return true }
func (sv *ServerValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: smtp.server") }
func (sv *ServerValue) AttrNames() []string {
	return append(serverMethods.Names(), "address", "domain", "log", "mailboxes", "port", "queue")
}
func (sv *ServerValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "address":
		return starlark.String(sv.srv.Addr().String()), nil
	case "port":
		return starlark.MakeInt(lang.Port(sv.srv.Addr())), nil
	case "domain":
		return starlark.String(sv.srv.Domain()), nil
	case "mailboxes":
		return sv.box, nil
	case "log":
		var l []starlark.Value
		for _, s := range sv.srv.Log() {
			l = append(l, starlark.String(s))
		}
		return starlark.NewList(l), nil
	case "queue":
		now := sv.srv.Clock().Now()
		var l []starlark.Value
		for _, it := range sv.srv.Queue() {
			to := make([]starlark.Value, len(it.To))
			for i, t := range it.To {
				to[i] = starlark.String(t)
			}
			next := it.Next.Sub(now).Seconds()
			if next < 0 {
				next = 0
			}
			l = append(l, starlarkstruct.FromStringDict(starlark.String("smtp.queued"), starlark.StringDict{
				"id": starlark.String(it.ID), "sender": starlark.String(it.From), "to": starlark.NewList(to),
				"attempts": starlark.MakeInt(it.Attempts), "next_retry": starlark.Float(next),
				"last_error": starlark.String(it.LastError), "size": starlark.MakeInt(len(it.Raw)),
			}))
		}
		return starlark.NewList(l), nil
	}
	return serverMethods.Attr(sv, name), nil
}
