package mail

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// ServerValue is a server over a mail store (pop3.server, imap.server) as
// a Starlark value: address, port, mailboxes, log, and stop().
type ServerValue struct {
	typ     string
	methods lang.Methods
	ln      net.Listener
	box     starlark.Value
	stop    func()
	untrack func()
	mu      sync.Mutex
	log     []string
}

// NewServerValue describes a server of type typ ("pop3.server") listening
// on ln over the store box; methods must include StopMethod's.
func NewServerValue(typ string, methods lang.Methods, ln net.Listener, box starlark.Value) *ServerValue {
	return &ServerValue{typ: typ, methods: methods, ln: ln, box: box}
}

// Start records how to stop the running protocol server, for stop(), and
// has the interpreter stop it when the script ends.
func (sv *ServerValue) Start(th *starlark.Thread, stop func()) {
	sv.stop = stop
	sv.untrack = lang.InterpOf(th).Track(sv)
}

// MaxLog is how many lines a server's log keeps; past it the older half
// goes.
const MaxLog = 10000

// Logf appends a line to the server's log (logins, retrievals, moves…).
func (sv *ServerValue) Logf(s string) {
	sv.mu.Lock()
	// Capped as the other servers' logs: a long-running server must not
	// grow without bound.
	if len(sv.log) >= MaxLog {
		sv.log = append(sv.log[:0], sv.log[len(sv.log)-MaxLog/2:]...)
	}
	sv.log = append(sv.log, s)
	sv.mu.Unlock()
}

// StopMethod is the stop() method of a server type, documented by doc.
func StopMethod(name, doc string) lang.MethodDoc {
	return lang.Method(name, doc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sv, err := lang.Receiver[*ServerValue](b)
		if err != nil {
			return nil, err
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { sv.Close() })
		return starlark.None, nil
	})
}

// Close stops the server.
func (sv *ServerValue) Close() error {
	if sv.stop != nil {
		sv.stop()
	}
	if sv.untrack != nil {
		sv.untrack()
	}
	return nil
}

func (sv *ServerValue) String() string        { return fmt.Sprintf("<%s %s>", sv.typ, sv.ln.Addr()) }
func (sv *ServerValue) Type() string          { return sv.typ }
func (sv *ServerValue) Freeze()               {}
func (sv *ServerValue) Truth() starlark.Bool  { return true }
func (sv *ServerValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", sv.typ) }
func (sv *ServerValue) AttrNames() []string {
	return append(sv.methods.Names(), "address", "log", "mailboxes", "port")
}
func (sv *ServerValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "address":
		return starlark.String(sv.ln.Addr().String()), nil
	case "port":
		return starlark.MakeInt(Port(sv.ln.Addr())), nil
	case "mailboxes":
		return sv.box, nil
	case "log":
		sv.mu.Lock()
		defer sv.mu.Unlock()
		l := make([]starlark.Value, len(sv.log))
		for i, s := range sv.log {
			l[i] = starlark.String(s)
		}
		return starlark.NewList(l), nil
	}
	return sv.methods.Attr(sv, name), nil
}

// ServeArgs are the arguments pop3.serve and imap.serve share:
// (address, mailboxes=None, users=None), with the listener already open.
type ServeArgs struct {
	Store *Store
	Box   starlark.Value    // the mail.mailboxes value, for .mailboxes
	Users map[string]string // nil: anyone with any password
	Ln    net.Listener
	// IdleTimeout is idle_timeout= (0 when not given: the server's default).
	IdleTimeout time.Duration
}

// UnpackServe reads a mail-store server's arguments and opens its
// listener on st.
// extra are more name, pointer pairs for starlark.UnpackArgs, after
// idle_timeout.
func UnpackServe(th *starlark.Thread, st stack.Stack, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, extra ...any) (ServeArgs, error) {
	var a ServeArgs
	var addrV starlark.Value
	var boxV, usersV, idleV starlark.Value = starlark.None, starlark.None, starlark.None
	pairs := append([]any{"address", &addrV, "mailboxes?", &boxV, "users?", &usersV, "idle_timeout?", &idleV}, extra...)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
		return a, err
	}
	var err error
	if a.IdleTimeout, err = DurationArg(b.Name(), "idle_timeout", idleV, 0); err != nil {
		return a, err
	}
	addr, err := AddrArg(b.Name(), addrV)
	if err != nil {
		return a, err
	}
	if a.Store, a.Box, err = StoreOf(b.Name(), boxV); err != nil {
		return a, err
	}
	if a.Users, err = UsersArg(b.Name(), usersV); err != nil {
		return a, err
	}
	ctx := lang.Context(th)
	addr = lang.ServerAddr(th, st, addr)
	lang.Unlocked(th, func() { a.Ln, err = st.Listen(ctx, "tcp", addr) })
	if err != nil {
		return a, lang.NetError(b.Name(), addr, err, 0)
	}
	lang.Listening(th, st, b.Name(), a.Ln.Addr())
	return a, nil
}

// UsersArg reads a users= dict of name -> password (None: nil). Names are
// compared in lower case.
func UsersArg(fn string, v starlark.Value) (map[string]string, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case *starlark.Dict:
		users := map[string]string{}
		for _, kv := range v.Items() {
			u, ok1 := starlark.AsString(kv[0])
			p, ok2 := starlark.AsString(kv[1])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s: for parameter users: want a dict of str names to str passwords", fn)
			}
			users[strings.ToLower(u)] = p
		}
		return users, nil
	}
	return nil, fmt.Errorf("%s: for parameter users: got %s, want a dict {name: password}", fn, v.Type())
}
