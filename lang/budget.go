package lang

import (
	"context"
	"errors"
	"time"

	"go.starlark.net/starlark"
)

// Budget bounds one call of a Starlark function from Go: a server handler
// that loops or blocks for good must not hold the interpreter, and with it
// every other handler, forever.
type Budget struct {
	Timeout time.Duration // wall time; 0: none
	Steps   uint64        // execution steps; 0: none
	// Exceeded is the error the call ends with when it runs out.
	Exceeded func(what string) error
}

// errBudget marks a cancellation by a Budget.
type errBudget struct{ err error }

func (e *errBudget) Error() string { return e.err.Error() }
func (e *errBudget) Unwrap() error { return e.err }

// CallBudget calls fn on th within b. The caller holds the interpreter lock.
// When the budget runs out the call is ended: Starlark code stops at its
// next step and blocking builtins return, and CallBudget returns
// b.Exceeded's error with spent true. th is then cancelled for good: the
// caller must EndThread it rather than reuse it.
func CallBudget(th *starlark.Thread, fn starlark.Callable, args starlark.Tuple, kwargs []starlark.Tuple, b Budget) (v starlark.Value, err error, spent bool) {
	st := state(th)
	parent := st.ctx
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	end := func(what string) {
		cancel(&errBudget{b.Exceeded(what)})
	}
	if b.Timeout > 0 {
		// Wall time on purpose: the budget bounds how long the interpreter
		// is held, which a lab's virtual clock does not measure.
		t := time.AfterFunc(b.Timeout, func() { end("time") })
		defer t.Stop()
	}
	stop := context.AfterFunc(ctx, func() {
		if errors.As(context.Cause(ctx), new(*errBudget)) {
			th.Cancel(context.Cause(ctx).Error())
		}
	})
	defer stop()
	st.ctx = ctx
	if b.Steps > 0 {
		st.stepLimit = th.Steps + b.Steps
		st.endCall = end
		th.SetMaxExecutionSteps(min(th.Steps+stepChunk, st.stepLimit))
	}
	defer func() {
		st.ctx, st.stepLimit, st.endCall = parent, 0, nil
	}()
	v, err = starlark.Call(th, fn, args, kwargs)
	var eb *errBudget
	if errors.As(context.Cause(ctx), &eb) && parent.Err() == nil {
		return nil, eb.err, true
	}
	return v, err, false
}
