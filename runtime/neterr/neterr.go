// Package neterr is netplay's error model for protocol engines: a failure
// that names its operation and peer, and a kind a script can test in
// catch(...).error.kind. It imports no Starlark, so engines return these
// errors and bindings pass them on unchanged.
package neterr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Error kinds a script sees in catch(...).error.kind. Every module reports
// failures a script may want to handle with one of these, so a script can
// treat a DNS timeout and an HTTP timeout alike.
const (
	KindTimeout  = "timeout"  // no answer in time
	KindRefused  = "refused"  // nobody listening at the peer
	KindReset    = "reset"    // the peer aborted the connection
	KindClosed   = "closed"   // the connection or socket is closed, or input ended
	KindProtocol = "protocol" // the peer broke the protocol
	KindLimit    = "limit"    // a limit was hit (steps, time, size, files)
	KindScript   = "script"   // the script failed (fail(), a type error…)
	KindNetwork  = "network"  // any other network failure (unreachable, no such host…)
	KindArgument = "argument" // a builtin was called with a wrong argument
)

// ErrNetworkClosed is what an operation blocked on an emulated network
// fails with when the script closes that network on purpose (net.close()):
// a task that ends this way ends quietly, without a traceback.
var ErrNetworkClosed = errors.New("the network was closed")

// Closed reports whether err comes from a network closed on purpose.
func Closed(err error) bool { return errors.Is(err, ErrNetworkClosed) }

// Error is a failure that names its operation and peer:
// "socket.recv 127.0.0.1:12000: timeout after 2s".
type Error struct {
	Kind string // one of the Kind constants
	Op   string // the builtin or operation, "dns.query"
	Peer string // the address or name of the other side, if any
	Msg  string // what happened
	Err  error  // the underlying error, if any
}

func (e *Error) Error() string {
	s := e.Op
	if e.Peer != "" {
		if s != "" {
			s += " "
		}
		s += e.Peer
	}
	if s != "" {
		s += ": "
	}
	return s + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error of the given kind with a formatted message.
func Errorf(kind, op, peer, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Peer: peer, Msg: fmt.Sprintf(format, args...)}
}

// New classifies err, as returned by a network operation op with peer,
// into an Error with the right kind and a message that says what happened.
// timeout, if non-zero, is the limit that a timeout exceeded. An err that
// already is an *Error is returned unchanged.
func New(op, peer string, err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	var le *Error
	if errors.As(err, &le) {
		return err
	}
	e := &Error{Op: op, Peer: peer, Err: err}
	var ne net.Error
	switch {
	case errors.Is(err, ErrNetworkClosed):
		e.Kind, e.Msg = KindClosed, "the lab network was closed"
	case errors.Is(err, context.Canceled):
		e.Kind, e.Msg = KindLimit, "interrupted"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		e.Kind = KindTimeout
		if timeout > 0 {
			e.Msg = "timeout after " + FormatDuration(timeout)
		} else {
			e.Msg = "timeout"
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Kind, e.Msg = KindRefused, "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		e.Kind, e.Msg = KindReset, "connection reset by peer"
	case errors.Is(err, net.ErrClosed):
		e.Kind, e.Msg = KindClosed, "use of a closed socket"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		e.Kind, e.Msg = KindClosed, "connection closed by peer"
	default:
		e.Kind, e.Msg = KindNetwork, trimNetPrefix(err)
	}
	return e
}

// trimNetPrefix drops Go's "dial tcp 1.2.3.4:5: " prefix, which repeats
// what Op and Peer already say.
func trimNetPrefix(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err.Error()
		}
		return oe.Err.Error()
	}
	return err.Error()
}

// Kind says what kind of failure err is: its Error's kind, or "" when err
// is not an *Error.
func Kind(err error) string {
	var le *Error
	if errors.As(err, &le) {
		return le.Kind
	}
	return ""
}

// FormatDuration writes d the way scripts write durations: "2s", "1.5s",
// "50ms".
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return d.String()
}
