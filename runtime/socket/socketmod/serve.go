package socketmod

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/lineio"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// Server is what socket.serve and socket.serve_lines return.
type Server struct {
	ln      net.Listener
	kind    string
	clients atomic.Int64
	stopped atomic.Bool
	wg      sync.WaitGroup
	conns   sync.Map // net.Conn -> struct{}
	untrack func()
}

var serverMethods = lang.NewMethods("socket.server", `socket.server

A TCP server running in the background, from socket.serve or
socket.serve_lines. Attributes: address ((host, port)), port, clients (how
many connections it has accepted).`,
	lang.Method("socket.server.stop", `stop()

Stops accepting, closes every open connection and waits for the handlers
to return.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		s, _ := lang.Receiver[*Server](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, s.stop)
		return starlark.None, nil
	}),
)

func (s *Server) String() string        { return fmt.Sprintf("<socket.server %s %s>", s.kind, s.ln.Addr()) }
func (s *Server) Type() string          { return "socket.server" }
func (s *Server) Freeze()               {}
func (s *Server) Truth() starlark.Bool  { return true }
func (s *Server) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: socket.server") }
func (s *Server) AttrNames() []string {
	return append(serverMethods.Names(), "address", "clients", "port")
}
func (s *Server) Attr(name string) (starlark.Value, error) {
	switch name {
	case "address":
		return lang.AddrValue(s.ln.Addr()), nil
	case "port":
		return lang.AddrValue(s.ln.Addr())[1], nil
	case "clients":
		return starlark.MakeInt64(s.clients.Load()), nil
	}
	return serverMethods.Attr(s, name), nil
}

// Close stops the server (for the interpreter's shutdown).
func (s *Server) Close() error { s.stop(); return nil }

func (s *Server) stop() {
	if s.stopped.Swap(true) {
		return
	}
	s.ln.Close()
	s.conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
	s.wg.Wait()
	if s.untrack != nil {
		s.untrack()
	}
}

// listen opens a server's listener for an address argument.
func listen(th *starlark.Thread, st stack.Stack, op string, addrV starlark.Value) (net.Listener, error) {
	host, port, err := lang.AddrTuple(op, addrV)
	if err != nil {
		return nil, err
	}
	family := AF_INET
	if strings.Contains(host, ":") {
		family = AF_INET6
	}
	ip, err := resolve(th, st, op, host, family)
	if err != nil {
		return nil, err
	}
	return lang.Listen(th, st, op, net.TCPAddrFromAddrPort(netipAddrPort(ip, port)).String())
}

// serveConns runs handle for each connection on its own goroutine.
func (s *Server) serveConns(in *lang.Interp, handle func(c net.Conn)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := s.ln.Accept()
			if err != nil {
				if s.stopped.Load() || in.Context().Err() != nil || neterr.Closed(err) {
					return // stopped, or its lab network was closed: quietly
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				in.Fprintf("%s %s: accept: %v\n", s.kind, s.ln.Addr(), err)
				return
			}
			s.clients.Add(1)
			s.conns.Store(c, struct{}{})
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.conns.Delete(c)
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

func serveBuiltin(st stack.Stack) *lang.Builtin {
	return lang.Func("socket.serve", `serve(address, handler) -> socket.server

Starts a TCP server on address ((host, port); port 0 picks one) that calls
handler(conn, address) for each client on its own task: the course's
concurrent server in one line. The connection is closed when handler
returns. A handler that fails is reported and the server goes on.

    def upper(conn, addr):
        conn.sendall(conn.recv(1024).decode().upper())

    srv = socket.serve(("127.0.0.1", 0), upper)
    print("listening on", srv.port)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var addrV starlark.Value
		var handler starlark.Callable
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "address", &addrV, "handler", &handler); err != nil {
			return nil, err
		}
		ln, err := listen(th, st, b.Name(), addrV)
		if err != nil {
			return nil, err
		}
		in := lang.InterpOf(th)
		s := &Server{ln: ln, kind: "socket.serve"}
		s.untrack = in.Track(s)
		s.serveConns(in, func(c net.Conn) {
			conn := &Socket{st: st, family: AF_INET, typ: SOCK_STREAM, conn: c}
			_, err := in.Call("handler "+handler.Name(), handler, starlark.Tuple{conn, lang.AddrValue(c.RemoteAddr())}, nil)
			if err != nil && in.Context().Err() == nil && !s.stopped.Load() && !neterr.Closed(err) {
				in.Fprintf("socket.serve %s: handler for %s failed: %s\n", ln.Addr(), c.RemoteAddr(), lang.FormatError(err))
			}
		})
		return s, nil
	})
}

func serveLinesBuiltin(st stack.Stack) *lang.Builtin {
	return lang.Func("socket.serve_lines", `serve_lines(address, handler, max_line=65536) -> socket.server

Starts a line-oriented TCP server on address: for each line a client sends,
handler(line) is called with the line as a str (without its newline) and
what it returns (str or bytes) is sent back, with a newline added if it has
none; None sends nothing. Each client is served on its own task until it
closes. Lines longer than max_line close that client's connection.

    srv = socket.serve_lines(("127.0.0.1", 0), lambda line: line.upper())`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var addrV starlark.Value
		var handler starlark.Callable
		maxLine := 65536
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "address", &addrV, "handler", &handler, "max_line?", &maxLine); err != nil {
			return nil, err
		}
		ln, err := listen(th, st, b.Name(), addrV)
		if err != nil {
			return nil, err
		}
		in := lang.InterpOf(th)
		s := &Server{ln: ln, kind: "socket.serve_lines"}
		s.untrack = in.Track(s)
		s.serveConns(in, func(c net.Conn) {
			r := bufio.NewReaderSize(c, 4096)
			for {
				line, err := lineio.ReadLine(r, maxLine)
				if err != nil && !(errors.Is(err, io.ErrUnexpectedEOF) && line != "") {
					return // the client closed, or sent a line longer than max_line
				}
				v, err := in.Call("handler "+handler.Name(), handler, starlark.Tuple{starlark.String(line)}, nil)
				if err != nil {
					if in.Context().Err() == nil && !s.stopped.Load() && !neterr.Closed(err) {
						in.Fprintf("socket.serve_lines %s: handler for %s failed: %s\n", ln.Addr(), c.RemoteAddr(), lang.FormatError(err))
					}
					return
				}
				var reply []byte
				switch v := v.(type) {
				case starlark.NoneType:
					continue
				case starlark.String:
					reply = []byte(v)
				case starlark.Bytes:
					reply = []byte(v)
				default:
					reply = []byte(v.String())
				}
				if len(reply) == 0 || reply[len(reply)-1] != '\n' {
					reply = append(reply, '\n')
				}
				if _, err := c.Write(reply); err != nil {
					return
				}
			}
		})
		return s, nil
	})
}
