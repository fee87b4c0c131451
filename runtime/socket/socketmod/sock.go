package socketmod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/socket"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// maxRecv bounds one recv's buffer, so recv(10**12) fails instead of
// allocating it.
const maxRecv = 64 << 20

// Socket is a socket.socket. Its fields are touched only under the
// interpreter lock; blocking calls copy what they need first.
type Socket struct {
	st      stack.Stack
	family  int
	typ     int
	timeout *time.Duration // nil: block forever

	ln     net.Listener   // a bound or listening stream socket
	conn   net.Conn       // a connected stream socket, or a connected datagram one
	pc     net.PacketConn // a bound datagram socket
	peer   net.Addr       // the default destination of a bound datagram socket after connect
	rbuf   []byte         // bytes read ahead by recvline, served first by recv
	closed bool

	lastFrom  netip.AddrPort // the sender of the last datagram received
	lastFromT starlark.Tuple // lastFrom as recvfrom returns it
	lastFromV starlark.Value // lastFromT, boxed once
	lastTo    literalAddr    // the last address given as a literal
	bound     lang.Bound     // the methods a loop calls, bound once
	untrack   func()
}

// literalAddr is an address argument whose host was an IP address (not a
// name, which must be looked up each time), and what it resolved to.
type literalAddr struct {
	host string
	port int64
	ap   netip.AddrPort
}

var _ starlark.HasAttrs = (*Socket)(nil)

func newSocket(th *starlark.Thread, st stack.Stack, family, typ int) *Socket {
	return &Socket{st: st, family: family, typ: typ}
}

var methods = lang.NewMethods("socket.socket", socketDoc,
	lang.Method("socket.bind", `bind(address)

Binds the socket to address, a (host, port) tuple: host "" means every
interface, port 0 a free port (getsockname() then tells which).`, sockBind),
	lang.Method("socket.listen", `listen(backlog=5)

Makes a bound stream socket accept connections.`, sockListen),
	lang.Method("socket.accept", `accept() -> (socket, address)

Waits for a connection and returns a new socket for it and the client's
(host, port).`, sockAccept),
	lang.Method("socket.connect", `connect(address)

Connects to address, a (host, port) tuple. A stream socket sets up a TCP
connection (failing with kind "refused" when nobody listens); a datagram
socket only fixes the destination of send().`, sockConnect),
	lang.Method("socket.send", `send(data) -> int

Sends data (str or bytes) on a connected socket and returns the number of
bytes sent.`, sockSend),
	lang.Method("socket.sendall", `sendall(data)

Sends all of data (str or bytes) on a connected socket.`, sockSendall),
	lang.Method("socket.recv", `recv(bufsize) -> bytes

Receives at most bufsize bytes. On a stream socket, returns b"" once the
peer has closed its side.`, sockRecv),
	lang.Method("socket.recvline", `recvline(max=65536) -> bytes

Receives one line from a stream socket, with its "\n"; at the end of the
stream, what is left (b"" when nothing). Fails with kind "limit" if the
line is longer than max.`, sockRecvline),
	lang.Method("socket.sendto", `sendto(data, address, source=None) -> int

Sends a datagram (str or bytes) to address, a (host, port) tuple. An
unbound socket is bound to a free port first. source=(ip, port) forges the
datagram's source address: only on a lab host made with
net.host(name, spoof=True), the attacker of a spoofing experiment (the
operating system's stack refuses).

    s.sendto(b"ping", ("10.0.0.2", 9000))
    evil.sendto(reply, (victim.addr, 33333), source=(ns.addr, 53))`, sockSendto),
	lang.Method("socket.recvfrom", `recvfrom(bufsize) -> (bytes, address)

Receives a datagram of at most bufsize bytes (the rest is discarded) and
returns it with the sender's (host, port).`, sockRecvfrom),
	lang.Method("socket.settimeout", `settimeout(seconds)

Bounds every later blocking call (accept, connect, recv, send…): seconds is
a number, a string such as "500ms", or None to block forever. A call that
runs out fails with kind "timeout".`, sockSettimeout),
	lang.Method("socket.gettimeout", `gettimeout() -> float or None

The timeout in seconds, or None.`, sockGettimeout),
	lang.Method("socket.setblocking", `setblocking(flag)

setblocking(True) is settimeout(None); setblocking(False) is settimeout(0).`, sockSetblocking),
	lang.Method("socket.setsockopt", `setsockopt(level, option, value)

Accepted for compatibility with Python programs (SO_REUSEADDR is always on
for listening sockets); has no effect.`, sockSetsockopt),
	lang.Method("socket.getsockname", `getsockname() -> address

The socket's own (host, port).`, sockGetsockname),
	lang.Method("socket.getpeername", `getpeername() -> address

The (host, port) of the connected peer.`, sockGetpeername),
	lang.Method("socket.shutdown", `shutdown(how)

Closes one direction of a stream connection: SHUT_WR sends end-of-stream
(the peer's recv returns b"") while still receiving.`, sockShutdown),
	lang.Method("socket.close", `close()

Closes the socket. Closing twice is harmless.`, sockClose),
)

func (s *Socket) String() string {
	kind := "SOCK_STREAM"
	if s.typ == SOCK_DGRAM {
		kind = "SOCK_DGRAM"
	}
	fam := "AF_INET"
	if s.family == AF_INET6 {
		fam = "AF_INET6"
	}
	str := fmt.Sprintf("<socket.socket family=%s type=%s", fam, kind)
	if s.closed {
		return str + " [closed]>"
	}
	if l := s.localAddr(); l != nil {
		str += fmt.Sprintf(" laddr=%s", addrValue(l))
	}
	if r := s.remoteAddr(); r != nil {
		str += fmt.Sprintf(" raddr=%s", addrValue(r))
	}
	return str + ">"
}
func (s *Socket) Type() string          { return "socket.socket" }
func (s *Socket) Freeze()               {}
func (s *Socket) Truth() starlark.Bool  { return true }
func (s *Socket) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: socket.socket") }
func (s *Socket) AttrNames() []string   { return append(methods.Names(), "family", "type") }
func (s *Socket) Attr(name string) (starlark.Value, error) {
	switch name {
	case "family":
		return starlark.MakeInt(s.family), nil
	case "type":
		return starlark.MakeInt(s.typ), nil
	}
	return s.bound.Attr(methods, s, name), nil
}

// addrValue is lang.AddrValue(a), without its round trip through text for
// the addresses sockets give (a received datagram's sender each time).
func addrValue(a net.Addr) starlark.Tuple {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	}
	if !ap.IsValid() {
		return lang.AddrValue(a)
	}
	return starlark.Tuple{starlark.String(ap.Addr().Unmap().String()), starlark.MakeInt(int(ap.Port()))}
}

func (s *Socket) localAddr() net.Addr {
	switch {
	case s.conn != nil:
		return s.conn.LocalAddr()
	case s.pc != nil:
		return s.pc.LocalAddr()
	case s.ln != nil:
		return s.ln.Addr()
	}
	return nil
}

func (s *Socket) remoteAddr() net.Addr {
	if s.conn != nil {
		return s.conn.RemoteAddr()
	}
	return s.peer
}

// peerName names the other side for error messages.
func (s *Socket) peerName() string {
	if r := s.remoteAddr(); r != nil {
		return r.String()
	}
	if l := s.localAddr(); l != nil {
		return l.String()
	}
	return ""
}

// listen, listenPacket and dial open the socket on its stack: a direct
// socket where the stack offers one (the machine's own stack; see
// stack.Direct), whose calls wait in their own thread as Python's do, and
// otherwise (the lab, a graded script's restricted stack) the stack's own.
func (s *Socket) listen(ctx context.Context, ap netip.AddrPort) (net.Listener, error) {
	if d, ok := s.st.(stack.Direct); ok {
		return d.ListenDirect(s.network(), ap)
	}
	return s.st.Listen(ctx, s.network(), ap.String())
}

func (s *Socket) listenPacket(ctx context.Context, ap netip.AddrPort) (net.PacketConn, error) {
	if d, ok := s.st.(stack.Direct); ok {
		return d.ListenPacketDirect(s.network(), ap)
	}
	return s.st.ListenPacket(ctx, s.network(), ap.String())
}

func (s *Socket) dial(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
	if d, ok := s.st.(stack.Direct); ok {
		return d.DialDirect(ctx, s.network(), ap)
	}
	return s.st.Dial(ctx, s.network(), ap.String())
}

// wildcard is the address that binds to a free port on every interface.
func (s *Socket) wildcard() netip.AddrPort {
	if s.family == AF_INET6 {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	return netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
}

func (s *Socket) network() string {
	switch {
	case s.typ == SOCK_DGRAM && s.family == AF_INET6:
		return "udp6"
	case s.typ == SOCK_DGRAM:
		return "udp4"
	case s.family == AF_INET6:
		return "tcp6"
	}
	return "tcp4"
}

// track makes the interpreter close this socket when the script ends.
func (s *Socket) track(th *starlark.Thread, c io.Closer) {
	s.untrack = lang.InterpOf(th).Track(c)
}

func (s *Socket) check(op string) error {
	if s.closed {
		return lang.Errorf(lang.KindClosed, op, "", "use of a closed socket")
	}
	return nil
}

func (s *Socket) netErr(op string, err error) error {
	var t time.Duration
	if s.timeout != nil {
		t = *s.timeout
	}
	return lang.NetError(op, s.peerName(), err, t)
}

// resolveAddr turns a (host, port) argument into an address of the socket's family.
func (s *Socket) resolveAddr(th *starlark.Thread, op string, v starlark.Value) (netip.AddrPort, error) {
	if ap, ok := s.knownAddr(v); ok {
		return ap, nil
	}
	host, port, err := lang.AddrTuple(op, v)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if ip, ok := socket.Literal(host, s.family); ok {
		ap := netip.AddrPortFrom(ip, uint16(port))
		s.lastTo = literalAddr{host, int64(port), ap}
		return ap, nil
	}
	ip, err := resolve(th, s.st, op, host, s.family)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// knownAddr recognises the address a loop sends to again and again: the
// tuple recvfrom returned (a server's reply), or the same literal (host,
// port) as last time (a client's request), without parsing it again.
func (s *Socket) knownAddr(v starlark.Value) (netip.AddrPort, bool) {
	t, ok := v.(starlark.Tuple)
	if !ok || len(t) != 2 {
		return netip.AddrPort{}, false
	}
	if len(s.lastFromT) == 2 && &t[0] == &s.lastFromT[0] {
		return s.lastFrom, true
	}
	host, ok := t[0].(starlark.String)
	if !ok || s.lastTo.host == "" || string(host) != s.lastTo.host {
		return netip.AddrPort{}, false
	}
	port, ok := t[1].(starlark.Int)
	if !ok {
		return netip.AddrPort{}, false
	}
	if p, ok := port.Int64(); !ok || p != s.lastTo.port {
		return netip.AddrPort{}, false
	}
	return s.lastTo.ap, true
}

func sockBind(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var addrV starlark.Value
	s, err := openSocket(b, starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &addrV))
	if err != nil {
		return nil, err
	}
	if s.ln != nil || s.pc != nil || s.conn != nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), s.peerName(), "socket is already bound")
	}
	ap, err := s.resolveAddr(th, b.Name(), addrV)
	if err != nil {
		return nil, err
	}
	ctx := lang.Context(th)
	// A stream socket listens as soon as it is bound: the OS needs both to
	// give the port, and getsockname() must tell it right after bind.
	lang.Unlocked(th, func() {
		if s.typ == SOCK_STREAM {
			s.ln, err = s.listen(ctx, ap)
		} else {
			s.pc, err = s.listenPacket(ctx, ap)
		}
	})
	if err != nil {
		return nil, lang.NetError(b.Name(), ap.String(), err, 0)
	}
	if s.ln != nil {
		s.track(th, s.ln)
	} else {
		s.track(th, s.pc)
	}
	return starlark.None, nil
}

func sockListen(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	backlog := 5
	s, err := openSocket(b, starlark.UnpackArgs(b.Name(), args, kwargs, "backlog?", &backlog))
	if err != nil {
		return nil, err
	}
	if s.typ != SOCK_STREAM {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "listen needs a SOCK_STREAM socket; a SOCK_DGRAM socket receives with recvfrom after bind")
	}
	if s.conn != nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), s.peerName(), "socket is connected")
	}
	if s.ln == nil {
		wild := s.wildcard()
		var err error
		ctx := lang.Context(th)
		lang.Unlocked(th, func() { s.ln, err = s.listen(ctx, wild) })
		if err != nil {
			return nil, lang.NetError(b.Name(), wild.String(), err, 0)
		}
		s.track(th, s.ln)
	}
	return starlark.None, nil
}

func sockAccept(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := openSocket(b, starlark.UnpackArgs(b.Name(), args, kwargs))
	if err != nil {
		return nil, err
	}
	if s.ln == nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "socket is not listening: call bind and listen first")
	}
	ln := s.ln
	var c net.Conn
	err = block(th, s.st, s.timeout, ln, both, func(ctx context.Context) (err error) {
		c, err = stack.AcceptContext(ctx, ln)
		return err
	})
	if err != nil {
		return nil, lang.NetError(b.Name(), ln.Addr().String(), err, deref(s.timeout))
	}
	cs := &Socket{st: s.st, family: s.family, typ: SOCK_STREAM, conn: c, timeout: s.timeout}
	cs.track(th, c)
	return starlark.Tuple{cs, addrValue(c.RemoteAddr())}, nil
}

func deref(d *time.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return *d
}

func sockConnect(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var addrV starlark.Value
	s, err := openSocket(b, starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &addrV))
	if err != nil {
		return nil, err
	}
	if s.conn != nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), s.peerName(), "socket is already connected")
	}
	ap, err := s.resolveAddr(th, b.Name(), addrV)
	if err != nil {
		return nil, err
	}
	if s.typ == SOCK_DGRAM && s.pc != nil {
		// A bound datagram socket keeps its port and just remembers the peer.
		s.peer = net.UDPAddrFromAddrPort(ap)
		return starlark.None, nil
	}
	if s.ln != nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), ap.String(), "a bound stream socket listens; connect from a new socket")
	}
	ctx := lang.Context(th)
	lang.Unlocked(th, func() {
		dctx := ctx
		if s.timeout != nil {
			var cancel func()
			dctx, cancel = stack.WithTimeout(ctx, s.st, *s.timeout)
			defer cancel()
		}
		s.conn, err = s.dial(dctx, ap)
	})
	if ctx.Err() != nil {
		return nil, lang.NetError(b.Name(), ap.String(), ctx.Err(), 0)
	}
	if err != nil {
		return nil, lang.NetError(b.Name(), ap.String(), err, deref(s.timeout))
	}
	s.track(th, s.conn)
	return starlark.None, nil
}

func sockSend(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n, err := send(th, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.MakeInt(n), nil
}

func sockSendall(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	_, err := send(th, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func send(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (int, error) {
	s, _ := lang.Receiver[*Socket](b)
	dataV, err := oneArg(b, args, kwargs)
	if err != nil {
		return 0, err
	}
	data, err := s.payload(b.Name(), dataV)
	if err != nil {
		return 0, err
	}
	if err := s.check(b.Name()); err != nil {
		return 0, err
	}
	if s.conn == nil {
		if s.pc != nil && s.peer != nil {
			return s.writeTo(th, b.Name(), data, s.peer.(*net.UDPAddr).AddrPort(), nil)
		}
		if s.typ == SOCK_DGRAM {
			return 0, lang.Errorf(lang.KindArgument, b.Name(), "", "socket is not connected: use sendto(data, (host, port)), or connect first")
		}
		return 0, lang.Errorf(lang.KindArgument, b.Name(), "", "socket is not connected: call connect((host, port)) first, or send on the socket accept returned")
	}
	c := s.conn
	var n int
	err = block(th, s.st, s.timeout, c, writing, func(ctx context.Context) (err error) {
		n, err = stack.WriteContext(ctx, c, data)
		return err
	})
	if err != nil {
		return n, s.netErr(b.Name(), err)
	}
	return n, nil
}

// spoofer is a datagram socket that can forge its source address (a lab
// host made with spoof=True).
type spoofer interface {
	CanSpoof() bool
	WriteFromTo(p []byte, to, source net.Addr) (int, error)
}

func (s *Socket) writeTo(th *starlark.Thread, op string, data []byte, to netip.AddrPort, source net.Addr) (int, error) {
	pc := s.pc
	var n int
	err := block(th, s.st, s.timeout, pc, writing, func(ctx context.Context) (err error) {
		switch d, direct := pc.(*stack.DirectConn); {
		case source != nil:
			n, err = pc.(spoofer).WriteFromTo(data, net.UDPAddrFromAddrPort(to), source)
		case direct:
			n, err = d.WriteToAddrPort(ctx, data, to)
		default:
			n, err = pc.WriteTo(data, net.UDPAddrFromAddrPort(to))
		}
		return err
	})
	if err != nil {
		return n, lang.NetError(op, to.String(), err, deref(s.timeout))
	}
	return n, nil
}

func bufsizeArg(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (int, error) {
	// recv(2048), the usual call, without UnpackArgs's cost (and its
	// allocations) in a round-trip loop.
	n, ok := oneInt(args, kwargs)
	if !ok {
		var err error
		if n, err = unpackInt(b, args, kwargs, "bufsize"); err != nil {
			return 0, err
		}
	}
	if n < 0 || n > maxRecv {
		return 0, fmt.Errorf("%s: bufsize %d out of range 0..%d", b.Name(), n, maxRecv)
	}
	return n, nil
}

// payload is the bytes of data, a str or bytes. A direct socket's system
// call only reads them while it runs, so it gets a view of the value's
// own; other stacks may keep them (a lab link's queue) and get a copy.
func (s *Socket) payload(op string, data starlark.Value) ([]byte, error) {
	if stack.IsDirect(s.conn) || stack.IsDirect(s.pc) {
		return lang.BytesView(op, "data", data)
	}
	return lang.BytesOf(op, "data", data)
}

// oneArg is the argument of a call that takes one, without
// UnpackPositionalArgs's allocation when it is the usual send(data).
func oneArg(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 1 && len(kwargs) == 0 {
		return args[0], nil
	}
	var v starlark.Value
	err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v)
	return v, err
}

func unpackInt(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, name string) (int, error) {
	var n int
	err := starlark.UnpackArgs(b.Name(), args, kwargs, name, &n)
	return n, err
}

// oneInt is the argument of a call with a single positional int.
func oneInt(args starlark.Tuple, kwargs []starlark.Tuple) (int, bool) {
	if len(args) != 1 || len(kwargs) != 0 {
		return 0, false
	}
	i, ok := args[0].(starlark.Int)
	if !ok {
		return 0, false
	}
	n, ok := i.Int64()
	return int(n), ok && n == int64(int(n))
}

func sockRecv(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n, err := bufsizeArg(b, args, kwargs)
	s, err := openSocket(b, err)
	if err != nil {
		return nil, err
	}
	if len(s.rbuf) > 0 {
		k := min(n, len(s.rbuf))
		out := starlark.Bytes(s.rbuf[:k])
		s.rbuf = s.rbuf[k:]
		return out, nil
	}
	if s.conn == nil && s.pc != nil {
		data, _, err := s.readFrom(th, b.Name(), n)
		return data, err
	}
	if s.conn == nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "socket is not connected: a listening socket accepts; a datagram socket binds and uses recvfrom")
	}
	data, err := s.readConn(th, n)
	if err != nil && !(errors.Is(err, io.EOF) && s.typ == SOCK_STREAM) {
		return nil, s.netErr(b.Name(), err)
	}
	return starlark.Bytes(data), nil
}

// readConn reads at most n bytes from the connection, bounded by the
// socket's timeout; the error is the connection's own (io.EOF at the end).
// The bytes are read into a pooled buffer and copied out at their size:
// recv(1024) mostly gets a few bytes, for which a fresh buffer of bufsize
// would cost more (cleared, then collected) than the copy.
func (s *Socket) readConn(th *starlark.Thread, n int) (starlark.Bytes, error) {
	c := s.conn
	// recv may return fewer bytes than asked, so a huge n does not need a
	// huge buffer.
	bp := dgramBufs.Get().(*[]byte)
	defer dgramBufs.Put(bp)
	buf := (*bp)[:min(n, len(*bp))]
	var k int
	err := block(th, s.st, s.timeout, c, reading, func(ctx context.Context) (err error) {
		k, err = stack.ReadContext(ctx, c, buf)
		return err
	})
	return starlark.Bytes(buf[:k]), err
}

func sockRecvline(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	max := 65536
	s, err := openSocket(b, starlark.UnpackArgs(b.Name(), args, kwargs, "max?", &max))
	if err != nil {
		return nil, err
	}
	if s.conn == nil || s.typ != SOCK_STREAM {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "recvline needs a connected SOCK_STREAM socket")
	}
	line, err := s.readLine(th, b.Name(), max)
	if err != nil {
		return nil, err
	}
	return starlark.Bytes(line), nil
}

// readLine reads up to and including "\n", keeping what follows in rbuf.
func (s *Socket) readLine(th *starlark.Thread, op string, max int) ([]byte, error) {
	for {
		for i, c := range s.rbuf {
			if c == '\n' {
				line := s.rbuf[: i+1 : i+1]
				s.rbuf = s.rbuf[i+1:]
				return line, nil
			}
		}
		if len(s.rbuf) > max {
			return nil, lang.Errorf(lang.KindLimit, op, s.peerName(), "line longer than %d bytes", max)
		}
		data, err := s.readConn(th, 4096)
		s.rbuf = append(s.rbuf, data...)
		if errors.Is(err, io.EOF) {
			rest := s.rbuf
			s.rbuf = nil
			return rest, nil
		}
		if err != nil {
			return nil, s.netErr(op, err)
		}
	}
}

// sendtoArgs unpacks sendto's arguments: sendto(data, address), the usual
// call, without UnpackArgs's cost in a round-trip loop.
func sendtoArgs(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (dataV, addrV, sourceV starlark.Value, err error) {
	if len(args) == 2 && len(kwargs) == 0 {
		return args[0], args[1], starlark.None, nil
	}
	return unpackSendto(b, args, kwargs)
}

func unpackSendto(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (dataV, addrV, sourceV starlark.Value, err error) {
	sourceV = starlark.None
	err = starlark.UnpackArgs(b.Name(), args, kwargs, "data", &dataV, "address", &addrV, "source?", &sourceV)
	return dataV, addrV, sourceV, err
}

func sockSendto(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, _ := lang.Receiver[*Socket](b)
	dataV, addrV, sourceV, err := sendtoArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	data, err := s.payload(b.Name(), dataV)
	if err != nil {
		return nil, err
	}
	if err := s.check(b.Name()); err != nil {
		return nil, err
	}
	if s.typ != SOCK_DGRAM {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "sendto needs a SOCK_DGRAM socket; a stream socket connects and uses send")
	}
	ap, err := s.resolveAddr(th, b.Name(), addrV)
	if err != nil {
		return nil, err
	}
	if s.conn != nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), ap.String(), "socket is connected: use send")
	}
	if s.pc == nil {
		// Like the OS, bind an unbound datagram socket to a free port, so
		// the reply finds its way back to recvfrom.
		wild := s.wildcard()
		ctx := lang.Context(th)
		lang.Unlocked(th, func() { s.pc, err = s.listenPacket(ctx, wild) })
		if err != nil {
			return nil, lang.NetError(b.Name(), ap.String(), err, 0)
		}
		s.track(th, s.pc)
	}
	var source net.Addr
	if sourceV != starlark.None {
		sp, err := s.resolveAddr(th, b.Name(), sourceV)
		if err != nil {
			return nil, err
		}
		if sp, ok := s.pc.(spoofer); !ok {
			return nil, lang.Errorf(lang.KindArgument, b.Name(), ap.String(), "source= forges the source address, which the operating system's stack does not allow: use a lab host made with net.host(name, spoof=True)")
		} else if !sp.CanSpoof() {
			return nil, lang.Errorf(lang.KindArgument, b.Name(), ap.String(), "source= forges the source address: only a lab host made with net.host(name, spoof=True) may")
		}
		source = net.UDPAddrFromAddrPort(sp)
	}
	n, err := s.writeTo(th, b.Name(), data, ap, source)
	if err != nil {
		return nil, err
	}
	return starlark.MakeInt(n), nil
}

func sockRecvfrom(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n, err := bufsizeArg(b, args, kwargs)
	s, err := openSocket(b, err)
	if err != nil {
		return nil, err
	}
	if s.typ == SOCK_STREAM {
		if s.conn == nil {
			return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "socket is not connected")
		}
		v, err := sockRecv(th, b, starlark.Tuple{starlark.MakeInt(n)}, nil)
		if err != nil {
			return nil, err
		}
		return starlark.Tuple{v, addrValue(s.conn.RemoteAddr())}, nil
	}
	if s.conn != nil {
		data, err := s.readConn(th, n)
		if err != nil {
			return nil, s.netErr(b.Name(), err)
		}
		return starlark.Tuple{starlark.Bytes(data), addrValue(s.conn.RemoteAddr())}, nil
	}
	if s.pc == nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "socket is not bound: bind((host, port)) first, or sendto before recvfrom")
	}
	data, from, err := s.readFrom(th, b.Name(), n)
	if err != nil {
		return nil, err
	}
	return starlark.Tuple{data, from}, nil
}

// readFrom receives a datagram of at most n bytes and says who sent it.
func (s *Socket) readFrom(th *starlark.Thread, op string, n int) (starlark.Bytes, starlark.Value, error) {
	pc := s.pc
	// A datagram is read whole: one larger than bufsize is cut, as in Python.
	bp := dgramBufs.Get().(*[]byte)
	defer dgramBufs.Put(bp)
	buf := *bp
	var k int
	var from net.Addr
	var ap netip.AddrPort
	err := block(th, s.st, s.timeout, pc, reading, func(ctx context.Context) (err error) {
		if d, direct := pc.(*stack.DirectConn); direct {
			k, ap, err = d.ReadFromAddrPort(ctx, buf)
		} else {
			k, from, err = pc.ReadFrom(buf)
		}
		return err
	})
	if err != nil {
		return "", nil, lang.NetError(op, pc.LocalAddr().String(), err, deref(s.timeout))
	}
	if !ap.IsValid() {
		return starlark.Bytes(buf[:min(k, n)]), addrValue(from), nil
	}
	// A server mostly hears from the same client again: its address is
	// made into a tuple once.
	if ap != s.lastFrom || s.lastFromV == nil {
		s.lastFrom = ap
		s.lastFromT = starlark.Tuple{starlark.String(ap.Addr().Unmap().String()), starlark.MakeInt(int(ap.Port()))}
		s.lastFromV = s.lastFromT
	}
	return starlark.Bytes(buf[:min(k, n)]), s.lastFromV, nil
}

// dgramBufs hold whole datagrams while they are read.
var dgramBufs = sync.Pool{New: func() any { b := make([]byte, 65536); return &b }}

func sockSettimeout(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, _ := lang.Receiver[*Socket](b)
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	if v == starlark.None {
		s.timeout = nil
		return starlark.None, nil
	}
	d, err := lang.Duration(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	s.timeout = &d
	return starlark.None, nil
}

func sockGettimeout(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, _ := lang.Receiver[*Socket](b)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	if s.timeout == nil {
		return starlark.None, nil
	}
	return starlark.Float(s.timeout.Seconds()), nil
}

func sockSetblocking(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, _ := lang.Receiver[*Socket](b)
	var flag bool
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &flag); err != nil {
		return nil, err
	}
	if flag {
		s.timeout = nil
	} else {
		var zero time.Duration
		s.timeout = &zero
	}
	return starlark.None, nil
}

func sockSetsockopt(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var level, option int
	var value starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 3, &level, &option, &value); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func sockGetsockname(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := openSocket(b, starlark.UnpackArgs(b.Name(), args, kwargs))
	if err != nil {
		return nil, err
	}
	l := s.localAddr()
	if l == nil {
		if s.family == AF_INET6 {
			return starlark.Tuple{starlark.String("::"), starlark.MakeInt(0)}, nil
		}
		return starlark.Tuple{starlark.String("0.0.0.0"), starlark.MakeInt(0)}, nil
	}
	return addrValue(l), nil
}

func sockGetpeername(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := openSocket(b, starlark.UnpackArgs(b.Name(), args, kwargs))
	if err != nil {
		return nil, err
	}
	r := s.remoteAddr()
	if r == nil {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "socket is not connected")
	}
	return addrValue(r), nil
}

func sockShutdown(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var how int
	s, err := openSocket(b, starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &how))
	if err != nil {
		return nil, err
	}
	if s.conn == nil || s.typ != SOCK_STREAM {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), "", "shutdown needs a connected SOCK_STREAM socket")
	}
	type halfCloser interface {
		CloseWrite() error
		CloseRead() error
	}
	hc, ok := s.conn.(halfCloser)
	if !ok {
		return nil, lang.Errorf(lang.KindArgument, b.Name(), s.peerName(), "this connection cannot be half-closed")
	}
	switch how {
	case 0:
		err = hc.CloseRead()
	case 1:
		err = hc.CloseWrite()
	case 2:
		if err = hc.CloseRead(); err == nil {
			err = hc.CloseWrite()
		}
	default:
		return nil, fmt.Errorf("%s: how %d: want SHUT_RD, SHUT_WR or SHUT_RDWR", b.Name(), how)
	}
	if err != nil {
		return nil, s.netErr(b.Name(), err)
	}
	return starlark.None, nil
}

func sockClose(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, _ := lang.Receiver[*Socket](b)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	s.close()
	return starlark.None, nil
}

func (s *Socket) close() {
	if s.closed {
		return
	}
	s.closed = true
	for _, c := range []io.Closer{s.conn, s.pc, s.ln} {
		if c != nil {
			c.Close()
		}
	}
	if s.untrack != nil {
		s.untrack()
	}
}

// openSocket is the receiver of a socket method whose arguments unpacked
// with unpackErr, checked to be open: the start of most methods.
func openSocket(b *starlark.Builtin, unpackErr error) (*Socket, error) {
	if unpackErr != nil {
		return nil, unpackErr
	}
	s, _ := lang.Receiver[*Socket](b)
	if err := s.check(b.Name()); err != nil {
		return nil, err
	}
	return s, nil
}
