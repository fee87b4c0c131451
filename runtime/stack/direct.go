package stack

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A script's socket loop is ping-pong: send, then wait for the answer. On
// Go's network poller the waiting goroutine parks, the poller's thread is
// woken by epoll and then hands the goroutine to a thread to run: two
// wake-ups per message where Python's blocking recvfrom has one, and a
// netplay client and server did about half of Python's round trips. So
// the sockets the script opens on the operating system's stack are
// direct: a call that must wait blocks its own thread in ppoll(2) on the
// socket, and the kernel wakes that thread when the answer arrives. The
// goroutine stays in a system call meanwhile, so other tasks run on other
// threads (the interpreter lock is released around it by the binding).
//
// Deadlines and closing must still end a wait at once (a timeout, the
// script ending, another task closing the socket). ppoll watches a second
// descriptor, an eventfd, for that: closing the socket, moving a deadline
// or the end of the waiting call's context (the script's end, Ctrl-C)
// writes to the eventfd of the call waiting in that direction, which then
// looks again. Eventfds are pooled, so a socket that never
// waits, or waits once (a TCP connection per exchange), costs no extra
// system calls for them.
//
// A socket has the same descriptor flags as Go's (non-blocking,
// close-on-exec) and options (SO_REUSEADDR on listeners, SO_BROADCAST on
// IPv4 datagram sockets, TCP_NODELAY on connections, IPV6_V6ONLY), and its
// errors are the *net.OpError values Go's net returns, so kinds and
// messages are unchanged.

// fd is a direct socket's descriptor and the state its calls share.
type fd struct {
	sysfd  int
	family int
	net    string // "tcp4", "udp6"…
	stream bool

	mu      sync.Mutex // guards the rest, and the fields of rd and wd it names
	refs    int        // calls in progress; the descriptor is closed after the last
	closing bool
	closed  chan struct{} // made by a close that waits for the calls in progress
	laddr   net.Addr      // nil until asked for (most connections never are)
	raddr   net.Addr
	rd, wd  waitDir
}

// waitDir is one direction (reading and accepting, or writing and
// connecting): one call at a time, as in Go's net.
type waitDir struct {
	call sync.Mutex // held by the direction's call in progress

	// ctx ends the call in progress (nil: only a deadline or close does).
	// pollFirst says whether the direction's last call had to wait. Only
	// the call in progress touches them.
	ctx       context.Context
	pollFirst bool

	// deadline is in Unix nanoseconds (0: none), set under fd.mu but read
	// without it by a setter that finds it unchanged.
	deadline atomic.Int64

	// Under fd.mu:
	wake  int  // the eventfd the waiting call polls; -1: none waits
	woken bool // wake was written to, so it must be drained
	// watched is the context an AfterFunc watches for this direction, so
	// that a thread making call after call on the socket (the usual case)
	// registers once, not once a call; stop ends the watch.
	watched context.Context
	stop    func() bool
}

func newFD(sysfd, family int, network string, stream bool) *fd {
	return &fd{sysfd: sysfd, family: family, net: network, stream: stream, rd: waitDir{wake: -1}, wd: waitDir{wake: -1}}
}

// begin starts a call in direction d that ctx (which may be nil) ends;
// end ends it.
func (f *fd) begin(d *waitDir, ctx context.Context) error {
	d.call.Lock()
	if ctx != nil && ctx.Done() == nil {
		ctx = nil
	}
	d.ctx = ctx
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		d.call.Unlock()
		return net.ErrClosed
	}
	f.refs++
	f.mu.Unlock()
	return nil
}

// watch makes d's context wake d's waiting call when it is done. A call
// that never waits (its data was there, or came while it spun) needs no
// watch; one that does keeps it for the next calls of the same thread.
// f.mu must be held.
func (f *fd) watch(d *waitDir) {
	if d.ctx == nil || d.watched == d.ctx {
		return
	}
	if d.stop != nil {
		d.stop()
	}
	d.watched = d.ctx
	d.stop = context.AfterFunc(d.ctx, func() {
		f.mu.Lock()
		d.signal()
		f.mu.Unlock()
	})
}

func (f *fd) end(d *waitDir) {
	f.mu.Lock()
	f.refs--
	if f.closing && f.refs == 0 {
		unix.Close(f.sysfd)
		close(f.closed)
	}
	f.mu.Unlock()
	d.ctx = nil
	d.call.Unlock()
}

// close closes the socket once the calls in progress, which it wakes, have
// returned: as with Go's net, the port is free when close returns (a test
// that binds it next must find it so).
func (f *fd) close() error {
	f.mu.Lock()
	if f.closing {
		f.mu.Unlock()
		return net.ErrClosed
	}
	f.closing = true
	for _, d := range []*waitDir{&f.rd, &f.wd} {
		d.signal()
		if d.stop != nil {
			d.stop()
			d.stop, d.watched = nil, nil
		}
	}
	if f.refs == 0 {
		f.mu.Unlock()
		return os.NewSyscallError("close", unix.Close(f.sysfd))
	}
	f.closed = make(chan struct{})
	f.mu.Unlock()
	<-f.closed // the last call in progress closes it
	return nil
}

// signal wakes d's waiting call, if any. f.mu must be held.
func (d *waitDir) signal() {
	if d.wake >= 0 && !d.woken {
		d.woken = true
		unix.Write(d.wake, one[:])
	}
}

var one = [8]byte{1}

func (f *fd) setDeadline(d *waitDir, t time.Time) {
	var ns int64
	if !t.IsZero() {
		ns = max(t.UnixNano(), 1)
	}
	if d.deadline.Load() == ns {
		return // the binding sets the same deadline (none) call after call
	}
	f.mu.Lock()
	d.deadline.Store(ns)
	d.signal()
	f.mu.Unlock()
}

// ctxErr is what a call that ctx ended fails with: a timeout if ctx ran
// out of time (stack.WithTimeout's cause), else ctx's cause.
func ctxErr(ctx context.Context) error {
	c := context.Cause(ctx)
	if errors.Is(c, context.DeadlineExceeded) {
		return os.ErrDeadlineExceeded
	}
	return c
}

// wait blocks the calling thread until the socket reports one of events,
// d's deadline passes, d's context is done or the socket is closed; the
// last three are errors. revents is what the socket reported (none when
// the wait ended for a deadline that moved, or a signal).
func (f *fd) wait(d *waitDir, events int16) (revents int16, err error) {
	if d.ctx != nil && d.ctx.Err() != nil {
		return 0, ctxErr(d.ctx)
	}
	w, err := wakers.get()
	if err != nil {
		return 0, err
	}
	defer wakers.put(w)
	var ts *unix.Timespec
	f.mu.Lock()
	switch {
	case f.closing:
		err = net.ErrClosed
	case d.deadline.Load() != 0:
		left := d.deadline.Load() - time.Now().UnixNano()
		if left <= 0 {
			err = os.ErrDeadlineExceeded
			break
		}
		t := unix.NsecToTimespec(left)
		ts = &t
	}
	if err != nil {
		f.mu.Unlock()
		return 0, err
	}
	d.wake, d.woken = w, false
	f.watch(d)
	f.mu.Unlock()
	// The context may have ended before wake was set, and found nobody to wake.
	if d.ctx != nil && d.ctx.Err() != nil {
		ts = &unix.Timespec{}
	}

	pfd := [2]unix.PollFd{{Fd: int32(f.sysfd), Events: events}, {Fd: int32(w), Events: unix.POLLIN}}
	_, perr := unix.Ppoll(pfd[:], ts, nil)

	f.mu.Lock()
	d.wake = -1
	woken := d.woken
	f.mu.Unlock()
	if woken {
		var b [8]byte
		unix.Read(w, b[:])
	}
	if perr != nil && perr != unix.EINTR {
		return 0, os.NewSyscallError("ppoll", perr)
	}
	return pfd[0].Revents, nil
}

// wakers is the pool of eventfds that waiting calls poll: as many as
// calls have waited at the same time, up to maxWakers.
var wakers wakerPool

type wakerPool struct {
	mu   sync.Mutex
	free []int
}

func (p *wakerPool) get() (int, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		w := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return w, nil
	}
	p.mu.Unlock()
	w, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	return w, os.NewSyscallError("eventfd", err)
}

func (p *wakerPool) put(w int) {
	p.mu.Lock()
	if len(p.free) >= maxWakers {
		p.mu.Unlock()
		unix.Close(w) // after a crowd of waits: keep only so many
		return
	}
	p.free = append(p.free, w)
	p.mu.Unlock()
}

const maxWakers = 64

// retry runs call until it no longer reports EAGAIN, waiting for events
// in between. call's other errors (EINTR retried) are returned as
// *os.SyscallError named name.
//
// Before it blocks, retry spins: it tries again for up to spinFor,
// yielding the processor between tries, so that a peer on the same core
// runs. A ping-pong's answer usually comes within that time, and taking it
// without sleeping saves the wake-up, which on a virtual machine costs
// more than the rest of the round trip (the kernel must interrupt an idle
// processor and the hypervisor resume it). Whether it spins is learned
// (see spinScore): when answers are slow (an idle peer, or a busy machine
// whose other work the yields would let in), calls wait at once.
//
// When the direction's last call had to wait, this one most likely must
// too (a server waiting for its next request), so retry waits before the
// first try, saving the system call that would find nothing: it polls, or
// if it spins it yields first (a peer on the same core then answers before
// the try). A wait that ends at once means the data was there after all,
// and the next call tries first.
func (f *fd) retry(d *waitDir, events int16, name string, call func() error) error {
	spin := spinScore.Load() > 0
	if d.pollFirst {
		start := time.Now()
		if spin {
			yield()
		} else {
			f.wait(d, events) // an error (deadline, close) shows again below
		}
		waited := time.Since(start)
		d.pollFirst = waited > pollFirstMin
		if !spin {
			learn(waited)
		}
	}
	var first time.Time // of the first EAGAIN
	for {
		err := call()
		switch err {
		case nil:
			if !first.IsZero() {
				learn(time.Since(first))
			}
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if first.IsZero() {
				first = time.Now()
			}
			if spin && time.Since(first) < spinFor && !f.stopping(d) {
				yield()
				continue
			}
			d.pollFirst = true
			if _, err := f.wait(d, events); err != nil {
				return err
			}
			continue
		}
		return os.NewSyscallError(name, err)
	}
}

// spinFor bounds a call's spin.
const spinFor = 40 * time.Microsecond

// spinScore says whether spinning pays: calls spin while it is positive.
// Each call whose answer took no more than spinFor to come adds one, up to
// spinMax; each whose answer took longer takes spinMiss off, down to
// -spinMax, so that after a miss it takes several quick answers in a row
// to spin again.
var spinScore atomic.Int32

const (
	spinMax  = 16
	spinMiss = 4
)

func init() { spinScore.Store(spinMiss) }

// learn records how long a call waited for its answer.
func learn(waited time.Duration) {
	for {
		old := spinScore.Load()
		score := min(old+1, spinMax)
		if waited > spinFor {
			score = max(old-spinMiss, -spinMax)
		}
		if score == old || spinScore.CompareAndSwap(old, score) {
			return
		}
	}
}

// yield lets another thread of this processor run. (runtime.Gosched
// would wake an idle thread of the runtime each time, which costs a
// wake-up again.)
func yield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// stopping says whether a spinning call must stop at once: the socket is
// closed, d's deadline has passed, or the call's context is done. (wait
// says which.)
func (f *fd) stopping(d *waitDir) bool {
	if d.ctx != nil && d.ctx.Err() != nil {
		return true
	}
	f.mu.Lock()
	dl := d.deadline.Load()
	stop := f.closing || dl != 0 && dl <= time.Now().UnixNano()
	f.mu.Unlock()
	return stop
}

// pollFirstMin is how long a poll before the first try must have waited
// for the next call to poll first again: a poll that finds data at once
// takes a microsecond or two.
const pollFirstMin = 5 * time.Microsecond

func (f *fd) read(ctx context.Context, p []byte) (n int, err error) {
	if err := f.begin(&f.rd, ctx); err != nil {
		return 0, err
	}
	defer f.end(&f.rd)
	err = f.retry(&f.rd, unix.POLLIN, "read", func() (err error) {
		n, err = unix.Read(f.sysfd, p)
		return err
	})
	return max(n, 0), err
}

func (f *fd) write(ctx context.Context, p []byte) (n int, err error) {
	if err := f.begin(&f.wd, ctx); err != nil {
		return 0, err
	}
	defer f.end(&f.wd)
	if len(p) == 0 && f.stream {
		return 0, nil
	}
	for {
		var k int
		err = f.retry(&f.wd, unix.POLLOUT, "write", func() (err error) {
			k, err = unix.Write(f.sysfd, p[n:])
			return err
		})
		n += max(k, 0)
		if err != nil || n == len(p) || !f.stream {
			return n, err
		}
	}
}

func (f *fd) localAddr() net.Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.laddr == nil && !f.closing {
		if sa, err := syscall.Getsockname(f.sysfd); err == nil {
			f.laddr = f.addr(sa)
		}
	}
	return f.laddr
}

// addr is the address sa, as Go's net gives it for this kind of socket.
func (f *fd) addr(sa syscall.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netAddr(f.stream, netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)))
	case *syscall.SockaddrInet6:
		return netAddr(f.stream, netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)))
	}
	return nil
}

func netAddr(stream bool, ap netip.AddrPort) net.Addr {
	if stream {
		return net.TCPAddrFromAddrPort(ap)
	}
	return net.UDPAddrFromAddrPort(ap)
}

func (f *fd) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: f.net, Addr: f.raddr, Err: err}
}

// sockaddr is ap as the socket's family wants it (an IPv4 address is
// mapped into IPv6 for an unix.AF_INET6 socket).
func sockaddr(family int, ap netip.AddrPort) (syscall.Sockaddr, error) {
	a := ap.Addr()
	if family == unix.AF_INET6 {
		return &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}, nil
	}
	a = a.Unmap()
	if !a.Is4() {
		return nil, &net.AddrError{Err: "non-IPv4 address", Addr: a.String()}
	}
	return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}, nil
}

// newSocket makes a non-blocking socket for network ("tcp4", "udp6"…)
// with Go's options.
func newSocket(network string) (*fd, error) {
	family, stream := unix.AF_INET, network[:3] == "tcp"
	if network[len(network)-1] == '6' {
		family = unix.AF_INET6
	}
	typ := unix.SOCK_DGRAM
	if stream {
		typ = unix.SOCK_STREAM
	}
	s, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := newFD(s, family, network, stream)
	if family == unix.AF_INET6 {
		err = unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	switch {
	case err != nil:
	case stream:
		// Set on a listener too: the connections it accepts inherit it,
		// which saves a system call per connection.
		err = unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	case family == unix.AF_INET:
		err = unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
	}
	if err != nil {
		unix.Close(s)
		return nil, os.NewSyscallError("setsockopt", err)
	}
	return f, nil
}

// bind binds f to ap and learns the port the system picked.
func (f *fd) bind(ap netip.AddrPort) error {
	sa, err := sockaddr(f.family, ap)
	if err != nil {
		return err
	}
	if err := syscall.Bind(f.sysfd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	f.localAddr()
	return nil
}

// Listen opens a direct TCP listener on ap; network is "tcp4" or "tcp6".
func (OSStack) ListenDirect(network string, ap netip.AddrPort) (net.Listener, error) {
	f, err := newSocket(network)
	if err != nil {
		return nil, listenErr(network, ap, err)
	}
	err = unix.SetsockoptInt(f.sysfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err != nil {
		err = os.NewSyscallError("setsockopt", err)
	} else if err = f.bind(ap); err == nil {
		err = os.NewSyscallError("listen", unix.Listen(f.sysfd, unix.SOMAXCONN))
	}
	if err != nil {
		unix.Close(f.sysfd)
		return nil, listenErr(network, ap, err)
	}
	return &DirectListener{f}, nil
}

// ListenPacket opens a direct UDP socket bound to ap; network is "udp4"
// or "udp6".
func (OSStack) ListenPacketDirect(network string, ap netip.AddrPort) (net.PacketConn, error) {
	f, err := newSocket(network)
	if err != nil {
		return nil, listenErr(network, ap, err)
	}
	if err := f.bind(ap); err != nil {
		unix.Close(f.sysfd)
		return nil, listenErr(network, ap, err)
	}
	return &DirectConn{f}, nil
}

func listenErr(network string, ap netip.AddrPort, err error) error {
	return &net.OpError{Op: "listen", Net: network, Addr: netAddr(network[:3] == "tcp", ap), Err: err}
}

// Dial opens a direct connection to ap: a TCP connection ("tcp4",
// "tcp6"), or a datagram socket whose peer is ap ("udp4", "udp6"). It
// gives up when ctx is done: with a timeout error if context.Cause(ctx)
// is context.DeadlineExceeded.
func (OSStack) DialDirect(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	f, err := newSocket(network)
	if err == nil {
		f.raddr = netAddr(f.stream, ap)
		if err = f.connect(ctx, ap); err != nil {
			unix.Close(f.sysfd)
		}
	}
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: netAddr(network[:3] == "tcp", ap), Err: err}
	}
	return &DirectConn{f}, nil
}

func (f *fd) connect(ctx context.Context, ap netip.AddrPort) error {
	sa, err := sockaddr(f.family, ap)
	if err != nil {
		return err
	}
	for {
		err = syscall.Connect(f.sysfd, sa)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.EINPROGRESS {
		// On loopback the handshake is usually over by the time connect
		// returns; connecting again says so (0, or the refusal) in one
		// system call, and EALREADY if it is still going on.
		switch err = syscall.Connect(f.sysfd, sa); err {
		case unix.EISCONN:
			err = nil
		case unix.EALREADY, unix.EINTR:
			err = unix.EINPROGRESS
		}
	}
	if err != unix.EINPROGRESS {
		return os.NewSyscallError("connect", err)
	}
	if err := f.begin(&f.wd, ctx); err != nil {
		return err
	}
	defer f.end(&f.wd)
	for {
		revents, err := f.wait(&f.wd, unix.POLLOUT)
		switch {
		case err != nil:
			return err
		case revents == 0:
			continue // woken for a deadline or a context: wait looks again
		case revents == unix.POLLOUT:
			return nil // connected; a failure would also say POLLERR
		}
		switch e, err := unix.GetsockoptInt(f.sysfd, unix.SOL_SOCKET, unix.SO_ERROR); {
		case err != nil:
			return os.NewSyscallError("getsockopt", err)
		case e == 0:
			return nil
		case unix.Errno(e) != unix.EINPROGRESS && unix.Errno(e) != unix.EALREADY && unix.Errno(e) != unix.EINTR:
			return os.NewSyscallError("connect", unix.Errno(e))
		}
	}
}

// DirectConn is a direct connection, or a direct datagram socket (bound with
// ListenPacket, or with a peer from Dial). It is a net.Conn and a
// net.PacketConn.
type DirectConn struct{ f *fd }

func (c *DirectConn) Read(p []byte) (int, error) { return c.ReadContext(context.Background(), p) }

// ReadContext is Read, ended also when ctx is done.
func (c *DirectConn) ReadContext(ctx context.Context, p []byte) (int, error) {
	n, err := c.f.read(ctx, p)
	if err == nil && n == 0 && len(p) > 0 && c.f.stream {
		err = io.EOF
	}
	return n, c.f.opErr("read", err)
}

func (c *DirectConn) Write(p []byte) (int, error) { return c.WriteContext(context.Background(), p) }

// WriteContext is Write, ended also when ctx is done.
func (c *DirectConn) WriteContext(ctx context.Context, p []byte) (int, error) {
	n, err := c.f.write(ctx, p)
	return n, c.f.opErr("write", err)
}

// ReadFrom receives a datagram and says who sent it.
func (c *DirectConn) ReadFrom(p []byte) (int, net.Addr, error) {
	return c.ReadFromContext(context.Background(), p)
}

// ReadFromContext is ReadFrom, ended also when ctx is done.
func (c *DirectConn) ReadFromContext(ctx context.Context, p []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(ctx, p)
	if err != nil {
		return 0, nil, err
	}
	return n, netAddr(false, from), nil
}

// WriteTo sends a datagram to to, a *net.UDPAddr.
func (c *DirectConn) WriteTo(p []byte, to net.Addr) (int, error) {
	return c.WriteToContext(context.Background(), p, to)
}

// WriteToContext is WriteTo, ended also when ctx is done.
func (c *DirectConn) WriteToContext(ctx context.Context, p []byte, to net.Addr) (int, error) {
	ua, ok := to.(*net.UDPAddr)
	if !ok {
		return 0, c.f.opErr("write", &net.AddrError{Err: "not a UDP address", Addr: to.String()})
	}
	return c.WriteToAddrPort(ctx, p, ua.AddrPort())
}

func (c *DirectConn) Close() error                       { return c.f.opErr("close", c.f.close()) }
func (c *DirectConn) LocalAddr() net.Addr                { return c.f.localAddr() }
func (c *DirectConn) RemoteAddr() net.Addr               { return c.f.raddr }
func (c *DirectConn) SetReadDeadline(t time.Time) error  { c.f.setDeadline(&c.f.rd, t); return nil }
func (c *DirectConn) SetWriteDeadline(t time.Time) error { c.f.setDeadline(&c.f.wd, t); return nil }
func (c *DirectConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// CloseRead and CloseWrite shut one direction of a TCP connection down.
func (c *DirectConn) CloseRead() error  { return c.shutdown(unix.SHUT_RD) }
func (c *DirectConn) CloseWrite() error { return c.shutdown(unix.SHUT_WR) }

func (c *DirectConn) shutdown(how int) error {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return f.opErr("shutdown", net.ErrClosed)
	}
	return f.opErr("shutdown", os.NewSyscallError("shutdown", unix.Shutdown(f.sysfd, how)))
}

// DirectListener is a direct TCP listener.
type DirectListener struct{ f *fd }

func (l *DirectListener) Accept() (net.Conn, error) { return l.AcceptContext(context.Background()) }

// AcceptContext is Accept, ended also when ctx is done.
func (l *DirectListener) AcceptContext(ctx context.Context) (net.Conn, error) {
	f := l.f
	if err := f.begin(&f.rd, ctx); err != nil {
		return nil, f.opErr("accept", err)
	}
	defer f.end(&f.rd)
	var s int
	var sa syscall.Sockaddr
	err := f.retry(&f.rd, unix.POLLIN, "accept", func() (err error) {
		s, sa, err = syscall.Accept4(f.sysfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == unix.ECONNABORTED {
			err = unix.EAGAIN // the client gave up before we took it: take the next
		}
		return err
	})
	if err != nil {
		return nil, f.opErr("accept", err)
	}
	c := newFD(s, f.family, f.net, true)
	c.raddr = c.addr(sa)
	return &DirectConn{c}, nil
}

func (l *DirectListener) Close() error                  { return l.f.opErr("close", l.f.close()) }
func (l *DirectListener) Addr() net.Addr                { return l.f.localAddr() }
func (l *DirectListener) SetDeadline(t time.Time) error { l.f.setDeadline(&l.f.rd, t); return nil }

// The calls a binding makes on a socket of any stack. A direct socket's
// call ends when ctx is done; for the others the caller must arrange that
// (with a deadline in the past, which direct sockets honour as well).

// IsDirect reports whether x is a direct socket (a *DirectConn or a *DirectListener).
func IsDirect(x any) bool {
	switch x.(type) {
	case *DirectConn, *DirectListener:
		return true
	}
	return false
}

// ReadContext is c.Read.
func ReadContext(ctx context.Context, c net.Conn, p []byte) (int, error) {
	if d, ok := c.(*DirectConn); ok {
		return d.ReadContext(ctx, p)
	}
	return c.Read(p)
}

// WriteContext is c.Write.
func WriteContext(ctx context.Context, c net.Conn, p []byte) (int, error) {
	if d, ok := c.(*DirectConn); ok {
		return d.WriteContext(ctx, p)
	}
	return c.Write(p)
}

// AcceptContext is ln.Accept.
func AcceptContext(ctx context.Context, ln net.Listener) (net.Conn, error) {
	if d, ok := ln.(*DirectListener); ok {
		return d.AcceptContext(ctx)
	}
	return ln.Accept()
}
