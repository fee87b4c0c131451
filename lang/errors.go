package lang

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"go.starlark.net/starlark"
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

// NetError classifies err, as returned by a network operation op with peer,
// into an Error with the right kind and a message that says what happened.
// timeout, if non-zero, is the limit that a timeout exceeded.
func NetError(op, peer string, err error, timeout time.Duration) error {
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

// ErrorKind says what kind of failure err is, for catch().
func ErrorKind(err error) string {
	var le *Error
	if errors.As(err, &le) {
		return le.Kind
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return KindLimit
	}
	return KindScript
}

// errorMessage is err's message without Starlark's traceback.
func errorMessage(err error) string {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return ee.Msg
	}
	return err.Error()
}

// exitError is how sys.exit unwinds the script.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("sys.exit(%d)", e.code) }

// ExitCode reports whether err is a sys.exit call, and its code.
func ExitCode(err error) (int, bool) {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, true
	}
	return 0, false
}

// Exit returns the error that makes the script end with the given code.
func Exit(code int) error { return &exitError{code} }
