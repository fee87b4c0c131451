package lang

import (
	"fmt"
	"net"
	"sort"
	"sync"

	"go.starlark.net/starlark"
)

// Server is a running protocol server as a Starlark value of type typ
// ("pop3.server"): address ("host:port"), port, log (list of str), stop(),
// and the fixed attributes its binding adds (mailboxes …).
type Server struct {
	typ     string
	methods Methods
	addr    net.Addr
	attrs   starlark.StringDict
	stop    func()
	untrack func()
	mu      sync.Mutex
	log     []string
}

// NewServer describes a server of type typ listening on addr; methods must
// include StopMethod's, attrs are the binding's further attributes.
func NewServer(typ string, methods Methods, addr net.Addr, attrs starlark.StringDict) *Server {
	return &Server{typ: typ, methods: methods, addr: addr, attrs: attrs}
}

// Start records how to stop the running protocol server, for stop(), and
// has the interpreter stop it when the script ends.
func (s *Server) Start(th *starlark.Thread, stop func()) {
	s.stop = stop
	s.untrack = InterpOf(th).Track(s)
}

// MaxLog is how many lines a server's log keeps; past it the older half
// goes.
const MaxLog = 10000

// Logf appends a line to the server's log (logins, retrievals, moves…).
func (s *Server) Logf(line string) {
	s.mu.Lock()
	// Capped as the other servers' logs: a long-running server must not
	// grow without bound.
	if len(s.log) >= MaxLog {
		s.log = append(s.log[:0], s.log[len(s.log)-MaxLog/2:]...)
	}
	s.log = append(s.log, line)
	s.mu.Unlock()
}

// StopMethod is the stop() method of a Server type, documented by doc.
func StopMethod(name, doc string) MethodDoc {
	return Method(name, doc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		s, err := Receiver[*Server](b)
		if err != nil {
			return nil, err
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		Unlocked(th, func() { s.Close() })
		return starlark.None, nil
	})
}

// Close stops the server.
func (s *Server) Close() error {
	if s.stop != nil {
		s.stop()
	}
	if s.untrack != nil {
		s.untrack()
	}
	return nil
}

func (s *Server) String() string        { return fmt.Sprintf("<%s %s>", s.typ, s.addr) }
func (s *Server) Type() string          { return s.typ }
func (s *Server) Freeze()               {}
func (s *Server) Truth() starlark.Bool  { return true }
func (s *Server) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", s.typ) }
func (s *Server) AttrNames() []string {
	names := append(s.methods.Names(), "address", "log", "port")
	for k := range s.attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
func (s *Server) Attr(name string) (starlark.Value, error) {
	switch name {
	case "address":
		return starlark.String(s.addr.String()), nil
	case "port":
		return starlark.MakeInt(Port(s.addr)), nil
	case "log":
		s.mu.Lock()
		defer s.mu.Unlock()
		l := make([]starlark.Value, len(s.log))
		for i, line := range s.log {
			l[i] = starlark.String(line)
		}
		return starlark.NewList(l), nil
	}
	if v, ok := s.attrs[name]; ok {
		return v, nil
	}
	return s.methods.Attr(s, name), nil
}
