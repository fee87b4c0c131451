package lang

import (
	"errors"
	"fmt"
	"time"

	"github.com/netplay-dev/netplay/runtime/neterr"

	"go.starlark.net/starlark"
)

// The error model lives in runtime/neterr so that protocol engines can use
// it without importing Starlark; these names keep the bindings' spelling.
const (
	KindTimeout  = neterr.KindTimeout
	KindRefused  = neterr.KindRefused
	KindReset    = neterr.KindReset
	KindClosed   = neterr.KindClosed
	KindProtocol = neterr.KindProtocol
	KindLimit    = neterr.KindLimit
	KindScript   = neterr.KindScript
	KindNetwork  = neterr.KindNetwork
	KindArgument = neterr.KindArgument
)

// Error is neterr.Error.
type Error = neterr.Error

// Errorf is neterr.Errorf.
func Errorf(kind, op, peer, format string, args ...any) *Error {
	return neterr.Errorf(kind, op, peer, format, args...)
}

// NetError is neterr.New.
func NetError(op, peer string, err error, timeout time.Duration) error {
	return neterr.New(op, peer, err, timeout)
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
