package mailmod

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// ServeArgs are the arguments of the servers over a mail store, pop3.serve
// and imap.serve: (address, mailboxes=None, users=None), with the listener
// already open.
type ServeArgs struct {
	Store *mail.Store
	Box   starlark.Value    // the mail.mailboxes value, for .mailboxes
	Users map[string]string // nil: anyone with any password
	Ln    net.Listener
	// IdleTimeout is idle_timeout= (0 when not given: the server's default).
	IdleTimeout time.Duration
}

// UnpackServe reads a mail-store server's arguments and opens its
// listener on st. extra are more name, pointer pairs for
// starlark.UnpackArgs, after idle_timeout.
func UnpackServe(th *starlark.Thread, st stack.Stack, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, extra ...any) (ServeArgs, error) {
	var a ServeArgs
	var addrV starlark.Value
	var boxV, usersV, idleV starlark.Value = starlark.None, starlark.None, starlark.None
	pairs := append([]any{"address", &addrV, "mailboxes?", &boxV, "users?", &usersV, "idle_timeout?", &idleV}, extra...)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
		return a, err
	}
	var err error
	if a.IdleTimeout, err = lang.DurationArg(b.Name(), "idle_timeout", idleV, 0); err != nil {
		return a, err
	}
	addr, err := lang.AddrArg(b.Name(), "address", addrV, 0)
	if err != nil {
		return a, err
	}
	if a.Store, a.Box, err = StoreOf(b.Name(), boxV); err != nil {
		return a, err
	}
	if a.Users, err = UsersArg(b.Name(), usersV); err != nil {
		return a, err
	}
	a.Ln, err = lang.ListenServer(th, st, b.Name(), addr)
	return a, err
}

// NewServer is the Starlark value of a server of type typ over a mail
// store: lang.Server with .mailboxes.
func (a ServeArgs) NewServer(typ string, methods lang.Methods) *lang.Server {
	return lang.NewServer(typ, methods, a.Ln.Addr(), starlark.StringDict{"mailboxes": a.Box})
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
