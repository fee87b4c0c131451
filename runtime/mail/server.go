package mail

import (
	"fmt"
	"net"
	"sync"

	"github.com/netplay-dev/netplay/lang"
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

// Logf appends a line to the server's log (logins, retrievals, moves…).
func (sv *ServerValue) Logf(s string) {
	sv.mu.Lock()
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
