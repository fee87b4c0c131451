// Package stack is the one network interface of netplay: every protocol
// module gets its connections, listeners, datagram sockets, name resolution
// and clock from a Stack, so the same module runs unchanged on the real
// operating-system stack (OS) and on the emulated lab network.
//
// Protocol code must not call net.Dial, net.Listen, net.ListenPacket or
// time.Now itself: it asks its Stack. Deadlines set on the connections a
// Stack returns are read in that stack's clock, so code that wants "two
// seconds from now" writes conn.SetDeadline(st.Now().Add(2*time.Second)).
package stack

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// A Stack is a network a script's protocol code runs on.
type Stack interface {
	// Name says which network this is ("os", "lab:h1"), for error messages.
	Name() string
	// Hostname is this host's name on the network.
	Hostname() string

	// Dial opens a stream ("tcp", "tcp4", "tcp6") or connected datagram
	// ("udp", "udp4", "udp6") socket to address ("host:port").
	Dial(ctx context.Context, network, address string) (net.Conn, error)
	// Listen opens a stream listener on address; port 0 picks a free port.
	Listen(ctx context.Context, network, address string) (net.Listener, error)
	// ListenPacket opens an unconnected datagram socket on address.
	ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error)
	// LookupHost resolves a host name to its addresses.
	LookupHost(ctx context.Context, host string) ([]netip.Addr, error)
	// Rand returns random bits for the numbers a peer must not guess (DNS
	// query ids, source ports): crypto-random on the OS stack, drawn from
	// the network's seed on the lab, so a lab run repeats exactly.
	Rand() uint64

	Clock
}

// A Direct stack also opens sockets whose blocking calls wait in the
// calling thread for the kernel to wake it, as Python's do, instead of in
// Go's network poller (direct.go). The socket module opens a script's own
// sockets this way where the stack offers it (the operating system's
// stack): a ping-pong loop then costs one wake-up per message, not two.
// Servers keep the poller: a direct call holds an OS thread while it waits.
type Direct interface {
	DialDirect(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error)
	ListenDirect(network string, ap netip.AddrPort) (net.Listener, error)
	ListenPacketDirect(network string, ap netip.AddrPort) (net.PacketConn, error)
}

// A Clock is the time a stack runs on: real time on the OS stack, lab time
// on an emulated network.
type Clock interface {
	Now() time.Time
	// Sleep waits for d in this clock, or until ctx is done (then it
	// returns ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
	// AfterFunc calls f in its own goroutine once d has passed in this
	// clock. Stop on the returned timer cancels it.
	AfterFunc(d time.Duration, f func()) Timer
}

// A Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started, reporting whether it did.
	Stop() bool
}

// WithTimeout is context.WithTimeout in clock's time: lab time on a lab
// host, so a timeout there does not depend on the machine's speed.
func WithTimeout(ctx context.Context, clock Clock, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := clock.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() { t.Stop(); cancel(nil) }
}

// A Wake lets protocol code wake one of its own goroutines that waits for
// work (a connection's writer, a choker): Signal marks work and wakes the
// waiter, several Signals before it runs wake it once, Wait returns once
// work was signalled (or ctx is done) and clears the mark. It is what a
// channel of capacity one does, except on the lab: there the wake-up goes
// through the lab's scheduler, which hands wake-ups out one at a time, so
// goroutines woken at one lab instant run in the same order in every run.
type Wake interface {
	Signal()
	Wait(ctx context.Context) error
}

// NewWake returns a Wake for goroutines that run on clock's stack.
func NewWake(clock Clock) Wake {
	if w, ok := clock.(interface{ NewWake() Wake }); ok {
		return w.NewWake()
	}
	return make(chanWake, 1)
}

type chanWake chan struct{}

func (w chanWake) Signal() {
	select {
	case w <- struct{}{}:
	default:
	}
}

func (w chanWake) Wait(ctx context.Context) error {
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
