package lang

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/netplay-dev/netplay/runtime/neterr"
	"go.starlark.net/starlark"
)

var spawnBuiltin = Func("spawn", `spawn(f, *args, **kwargs) -> task

Runs f(*args, **kwargs) in the background, as a new task, and returns at once.
Tasks share the script's globals; only one runs Starlark code at a time, and
a task waiting on the network, a sleep or a join lets the others run, as
Python threads do. The script ends when its main code ends, whatever tasks
are still running.

    def handle(conn):
        conn.sendall(conn.recv(1024).decode().upper())
        conn.close()

    while True:
        conn, addr = server.accept()
        spawn(handle, conn)   # the concurrent server: a task per client`, spawn)

func spawn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("spawn: missing function to run")
	}
	f, ok := args[0].(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("spawn: got %s, want a function", args[0].Type())
	}
	in := InterpOf(th)
	t := &Task{name: f.Name(), done: make(chan struct{})}
	args = append(starlark.Tuple(nil), args[1:]...)
	// The task counts as runnable from now, not from when its goroutine
	// first runs, so a virtual clock cannot move in between, and takes its
	// turn for the interpreter lock now, so tasks spawned one after another
	// first run in that order.
	in.changed(in.runnable.Add(1))
	turn := in.gil.reserve()
	go func() {
		<-turn
		tth := in.NewThread("task "+t.name, nil)
		v, err := starlark.Call(tth, f, args, kwargs)
		in.EndThread(tth)
		err = in.explain(err)
		if err != nil {
			t.err = err
		} else {
			t.val = v
		}
		in.unlock()
		close(t.done)
		if err != nil {
			if code, ok := ExitCode(err); ok {
				in.Abort(Exit(code))
			} else if !t.joining.Load() && in.ctx.Err() == nil && !neterr.Closed(err) {
				// (A task blocked on a lab network that the script closed
				// ends quietly: closing it is how an experiment stops its
				// peers.)
				// As Python does for a thread's uncaught exception: a server's
				// per-client task that fails should not fail silently.
				in.Fprintf("task %s failed: %s\n", t.name, FormatError(err))
			}
		}
	}()
	return t, nil
}

// Task is a running spawn().
type Task struct {
	name    string
	done    chan struct{}
	val     starlark.Value
	err     error
	joining atomic.Bool
}

var taskMethods = NewMethods("task", `task

A background task started by spawn(f, ...). Attributes: done (True once f
has returned or failed).`,
	Method("task.join", `join(timeout=None) -> value

Waits for the task to end and returns what its function returned. Fails
with the task's error if the task failed, and with a timeout error if
timeout (seconds or "500ms") passes first. catch(t.join) observes either.`, taskJoin),
)

var (
	_ starlark.HasAttrs = (*Task)(nil)
)

func (t *Task) String() string {
	state := "running"
	if t.isDone() {
		state = "done"
	}
	return fmt.Sprintf("<task %s %s>", t.name, state)
}
func (t *Task) Type() string          { return "task" }
func (t *Task) Freeze()               {}
func (t *Task) Truth() starlark.Bool  { return true }
func (t *Task) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: task") }
func (t *Task) AttrNames() []string   { return append(taskMethods.Names(), "done") }
func (t *Task) Attr(name string) (starlark.Value, error) {
	if name == "done" {
		return starlark.Bool(t.isDone()), nil
	}
	return taskMethods.Attr(t, name), nil
}

func (t *Task) isDone() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

func taskJoin(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	t, err := Receiver[*Task](b)
	if err != nil {
		return nil, err
	}
	var timeoutV starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timeout?", &timeoutV); err != nil {
		return nil, err
	}
	var timeout time.Duration
	if timeoutV != starlark.None {
		if timeout, err = Duration(timeoutV); err != nil {
			return nil, fmt.Errorf("%s: timeout: %v", b.Name(), err)
		}
	}
	t.joining.Store(true)
	ctx := Context(th)
	var waitErr error
	Unlocked(th, func() {
		var expired <-chan struct{}
		if timeoutV != starlark.None {
			ch := make(chan struct{})
			tm := InterpOf(th).Clock().AfterFunc(timeout, func() { close(ch) })
			defer tm.Stop()
			expired = ch
		}
		select {
		case <-t.done:
		case <-expired:
			waitErr = Errorf(KindTimeout, "task.join", t.name, "timeout after %s", FormatDuration(timeout))
		case <-ctx.Done():
			waitErr = context.Cause(ctx)
		}
	})
	if waitErr != nil {
		return nil, waitErr
	}
	if t.err != nil {
		return nil, &Error{Kind: ErrorKind(t.err), Op: "task.join", Peer: t.name, Msg: "task failed: " + errorMessage(t.err), Err: t.err}
	}
	return t.val, nil
}

var catchBuiltin = Func("catch", `catch(f, *args, **kwargs) -> result

Calls f(*args, **kwargs) and returns a result instead of failing: result.ok
is True and result.value is what f returned, or result.ok is False and
result.error says what went wrong: error.kind is one of "timeout", "refused",
"reset", "closed", "protocol", "network", "limit", "argument" or "script"
(a fail() or a bug), error.message the whole message.

    r = catch(sock.recv, 2048)
    if not r.ok and r.error.kind == "timeout":
        print("no reply: the packet was lost?")

A script's time or step limit, and Ctrl-C, cannot be caught.`, catch)

func catch(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("catch: missing function to call")
	}
	if _, ok := args[0].(starlark.Callable); !ok {
		return nil, fmt.Errorf("catch: got %s, want a function", args[0].Type())
	}
	v, err := starlark.Call(th, args[0], args[1:], kwargs)
	if err == nil {
		return &Result{ok: true, value: v}, nil
	}
	if Context(th).Err() != nil {
		return nil, err // interrupted, or a limit: not the script's to catch
	}
	if st := state(th); st.tooDeep {
		// Runaway recursion is the script's own error, as in Python: the
		// deep frames are gone now, so the thread may go on.
		st.tooDeep = false
		th.Uncancel()
		if ctx := Context(th); ctx.Err() != nil { // a limit came meanwhile
			th.Cancel(context.Cause(ctx).Error())
			return nil, context.Cause(ctx)
		}
		err = fmt.Errorf("%s (more than %s calls deep)", recursionMsg, groupThousands(MaxDepth))
	}
	if _, ok := ExitCode(err); ok {
		return nil, err
	}
	return &Result{value: starlark.None, err: NewErrorValue(err)}, nil
}

// Result is what catch returns.
type Result struct {
	ok    bool
	value starlark.Value
	err   *ErrorValue
}

// The types of what catch returns.
var (
	resultDoc = Document("result", `result

What catch(f, ...) returns. Attributes: ok (bool), value (what f returned,
or None), error (an error, or None). A result is true when ok.`)
	errorDoc = Document("error", `error

A failure observed by catch. Attributes: kind ("timeout", "refused",
"reset", "closed", "protocol", "network", "limit", "argument", "script"),
message (the whole message), op (the operation, such as "socket.recv") and
peer (the address of the other side, or "").`)
)

func (r *Result) String() string {
	if r.ok {
		return fmt.Sprintf("result(ok=True, value=%s)", r.value)
	}
	return fmt.Sprintf("result(ok=False, error=%s)", r.err)
}
func (r *Result) Type() string          { return "result" }
func (r *Result) Freeze()               { r.value.Freeze() }
func (r *Result) Truth() starlark.Bool  { return starlark.Bool(r.ok) }
func (r *Result) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: result") }
func (r *Result) AttrNames() []string   { return []string{"error", "ok", "value"} }
func (r *Result) Attr(name string) (starlark.Value, error) {
	switch name {
	case "ok":
		return starlark.Bool(r.ok), nil
	case "value":
		return r.value, nil
	case "error":
		if r.err == nil {
			return starlark.None, nil
		}
		return r.err, nil
	}
	return nil, nil
}

// ErrorValue is a failure as a Starlark value.
type ErrorValue struct {
	Kind, Message, Op, Peer string
}

// NewErrorValue describes err for a script.
func NewErrorValue(err error) *ErrorValue {
	ev := &ErrorValue{Kind: ErrorKind(err), Message: errorMessage(err)}
	var le *Error
	if errors.As(err, &le) {
		ev.Op, ev.Peer = le.Op, le.Peer
	}
	return ev
}

func (e *ErrorValue) String() string {
	return fmt.Sprintf("error(kind=%q, message=%q)", e.Kind, e.Message)
}
func (e *ErrorValue) Type() string          { return "error" }
func (e *ErrorValue) Freeze()               {}
func (e *ErrorValue) Truth() starlark.Bool  { return true }
func (e *ErrorValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: error") }
func (e *ErrorValue) AttrNames() []string   { return []string{"kind", "message", "op", "peer"} }
func (e *ErrorValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "kind":
		return starlark.String(e.Kind), nil
	case "message":
		return starlark.String(e.Message), nil
	case "op":
		return starlark.String(e.Op), nil
	case "peer":
		return starlark.String(e.Peer), nil
	}
	return nil, nil
}

var sleepBuiltin = Func("sleep", `sleep(seconds)

Waits: seconds is a number or a string such as "50ms". Other tasks run
meanwhile. Inside a lab network, the wait is in lab time.`, sleep)

func sleep(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	d, err := Duration(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, Sleep(th, d)
}

// Sleep waits d in the script's clock with the interpreter lock released.
func Sleep(th *starlark.Thread, d time.Duration) error {
	ctx := Context(th)
	clock := InterpOf(th).Clock()
	var err error
	Unlocked(th, func() { err = clock.Sleep(ctx, d) })
	if err != nil {
		return context.Cause(ctx)
	}
	return nil
}
