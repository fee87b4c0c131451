package grade

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/netplay-dev/netplay/lang"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// failure ends a test that an assertion failed.
type failure struct {
	pos syntax.Position
	msg string
}

func (f *failure) Error() string { return f.pos.String() + ": " + f.msg }

// skipped ends a test that skipped itself.
type skipped struct{ reason string }

func (s *skipped) Error() string { return "skipped: " + s.reason }

// T is the t a test function receives.
type T struct {
	s          *session
	fn         string
	name       string
	logs       []string
	points     float64
	credit     float64
	visibility string
	tags       []string
	ports      []*portLease
	children   []*Process
}

func newT(s *session) *T { return &T{s: s, points: 1, visibility: "visible"} }

func (t *T) displayName() string {
	if t.name != "" {
		return t.name
	}
	return t.fn
}

// folder is where the paths given to t.start, t.run and t.load are: the
// submission, or the test file's folder in netplay test.
func (t *T) folder() string {
	if t.s.opts.Submission != "" {
		abs, _ := filepath.Abs(t.s.opts.Submission)
		return abs
	}
	abs, _ := filepath.Abs(t.s.file)
	return filepath.Dir(abs)
}

// Docs documents the types a test meets besides the modules': testing.t,
// and what its t.start, t.run and t.load return, for help() and the
// reference (modules.Docs(grade.Docs()...)).
func Docs() []lang.Documented {
	return []lang.Documented{tMethods, processMethods, completedDoc, moduleDoc}
}

var tMethods = lang.NewMethods("testing.t", `testing.t

What each test_* function of a *_test.star file receives: assertions that
end the test with a message naming the line, skip, log and, for grading,
points, partial credit and the submission's programs run in sandboxed child
processes. Attribute: submission (the folder being graded; in netplay test,
the test file's folder).

    def test_upper(t):
        t.eq("abc".upper(), "ABC")`,
	equality("t.eq", `eq(got, want, msg="")

Fails the test unless got == want.`, "want", true, func(want starlark.Value) string { return want.String() }),
	equality("t.ne", `ne(got, unwanted, msg="")

Fails the test if got == unwanted.`, "unwanted", false, func(starlark.Value) string { return "anything else" }),
	truth("t.true", `true(x, msg="")

Fails the test unless x is true.`, true),
	truth("t.false", `false(x, msg="")

Fails the test unless x is false.`, false),
	lang.Method("t.fail", `fail(msg="failed")

Fails the test with msg.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		msg := "failed"
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg?", &msg); err != nil {
			return nil, err
		}
		return nil, fail(th, "", "%s", msg)
	}),
	lang.Method("t.skip", `skip(reason="")

Ends the test, counted as skipped (it earns what t.credit granted).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		reason := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "reason?", &reason); err != nil {
			return nil, err
		}
		return nil, &skipped{reason}
	}),
	lang.Method("t.log", `log(*args)

Records a line shown under the test's result (and in its grading output).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		parts := make([]string, len(args))
		for i, a := range args {
			if s, ok := starlark.AsString(a); ok {
				parts[i] = s
			} else {
				parts[i] = a.String()
			}
		}
		t.logs = append(t.logs, strings.Join(parts, " "))
		return starlark.None, nil
	}),
	lang.Method("t.errors", `errors() -> list

The failures of the test's background work so far, as text with their
tracebacks: a server handler or a spawned task that crashed. A client that
got b"" from a crashed handler can show why:

    reply = sock.recv(1024)
    if reply == b"":
        t.fail("no reply: " + "\n".join(t.errors()))`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var list []starlark.Value
		for _, d := range t.s.diag.entries() {
			list = append(list, starlark.String(strings.TrimRight(d, "\n")))
		}
		return starlark.NewList(list), nil
	}),
	lang.Method("t.points", `points(n)

Sets the test's maximum score (default 1). A passing test earns it; a
failing one earns what t.credit granted before the failure.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		n, err := numberArg(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, fmt.Errorf("%s: points must not be negative, got %g", b.Name(), n)
		}
		t.points = n
		return starlark.None, nil
	}),
	lang.Method("t.credit", `credit(n)

Grants n points of partial credit now, kept if the test fails later (a
passing test earns its whole t.points anyway). Credits add up, to at most
the test's points.

    t.points(3)
    t.eq(reply1, b"HELLO")
    t.credit(1)          # the first exchange is worth 1 of 3
    t.eq(reply2, b"WORLD")`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		n, err := numberArg(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		t.credit = min(t.credit+n, t.points)
		return starlark.None, nil
	}),
	lang.Method("t.visibility", `visibility(v)

Who sees the test's result on Gradescope: "visible" (the default),
"hidden", "after_due_date" or "after_published".`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		var v string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "v", &v); err != nil {
			return nil, err
		}
		switch v {
		case "visible", "hidden", "after_due_date", "after_published":
		default:
			return nil, fmt.Errorf(`%s: got %q, want "visible", "hidden", "after_due_date" or "after_published"`, b.Name(), v)
		}
		t.visibility = v
		return starlark.None, nil
	}),
	lang.Method("t.tags", `tags(list)

Labels the test (Gradescope shows them; they are in every results format).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		var l starlark.Iterable
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "list", &l); err != nil {
			return nil, err
		}
		tags, err := lang.StringsArg(b.Name(), "list", l)
		if err != nil {
			return nil, err
		}
		t.tags = tags
		return starlark.None, nil
	}),
	lang.Method("t.name", `name(text=None) -> str

With text, sets the name the results show for the test (the function's
name by default); returns the name.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		var text starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "text?", &text); err != nil {
			return nil, err
		}
		if text != starlark.None {
			s, ok := starlark.AsString(text)
			if !ok {
				return nil, fmt.Errorf("%s: got %s, want a string", b.Name(), text.Type())
			}
			t.name = s
		}
		return starlark.String(t.displayName()), nil
	}),
	lang.Method("t.port", `port() -> int

Allots a free loopback port to this test, unique among the tests running
at the same time (in this and other netplay processes on the machine). The
children started afterwards may bind and reach it, and no other port.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		var l *portLease
		var err error
		lang.Unlocked(th, func() { l, err = t.s.opts.ports().lease() })
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		t.ports = append(t.ports, l)
		return starlark.MakeInt(l.port), nil
	}),
	lang.Method("t.start", `start(path, args=[], stdin=None) -> process

Runs the submission's script path as "netplay run path args..." in a
sandboxed child process and returns at once. The child may read and write
files only in the submission's folder, use only loopback and the ports
t.port() allotted before, and has CPU, memory, wall-time and output limits.
The process has stdout and stderr (text so far), running, code (None while
running), wait(timeout=None) -> exit code, and kill(). It is killed when
the test ends.

    port = t.port()
    p = t.start("udp_server.star", [str(port)])
    t.wait_port(port)`, tStart),
	lang.Method("t.wait_port", `wait_port(port, timeout="10s")

Waits until a child has bound port (TCP listening, or UDP), returning as
soon as it has (the default timeout is generous for a loaded grading
machine). Fails, in the student's terms, if the time passes or the child
exits first.`, tWaitPort),
	lang.Method("t.run", `run(path, args=[], stdin=None, timeout="10s") -> completed

Runs the submission's script path to completion in a sandboxed child, as
t.start does, and returns its code, stdout, stderr and timed_out (the child
was killed when timeout passed).

    r = t.run("udp_client.star", ["127.0.0.1", str(port)], stdin="hello\n")
    t.true("HELLO" in r.stdout)`, tRun),
	lang.Method("t.load", `load(path, timeout="5s") -> module

Loads the submission's file path in a fresh child interpreter (a sandboxed
child process) and returns its functions and plain values: calling one runs
it there, so it times out (after timeout; loading gets at least 10s),
fails and changes its file's globals as it would when run alone. Arguments and results are copied:
None, bools, numbers, strings, bytes, lists, tuples, dicts and sets.

    m = t.load("upper.star")
    t.eq(m.upper("abc"), "ABC")`, tLoad),
)

func fail(th *starlark.Thread, msg, format string, args ...any) error {
	text := fmt.Sprintf(format, args...)
	if msg != "" {
		text = msg + ": " + text
	}
	return &failure{pos: th.CallFrame(1).Pos, msg: text}
}

func (t *T) String() string        { return fmt.Sprintf("<testing.t %s>", t.displayName()) }
func (t *T) Type() string          { return "testing.t" }
func (t *T) Freeze()               {}
func (t *T) Truth() starlark.Bool  { return true }
func (t *T) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: testing.t") }
func (t *T) AttrNames() []string   { return append(tMethods.Names(), "submission") }
func (t *T) Attr(name string) (starlark.Value, error) {
	if name == "submission" {
		return starlark.String(t.folder()), nil
	}
	return tMethods.Attr(t, name), nil
}

func (t *T) releasePorts() {
	for _, l := range t.ports {
		l.release()
	}
	t.ports = nil
}

func (t *T) portNumbers() []int {
	ps := make([]int, len(t.ports))
	for i, l := range t.ports {
		ps[i] = l.port
	}
	return ps
}

func (t *T) ownsPort(p int) bool {
	for _, l := range t.ports {
		if l.port == p {
			return true
		}
	}
	return false
}

// explain turns the error a test ended with into what the student should
// read: "your server did not answer within 2s" rather than a reference
// client's timeout alone.
func (t *T) explain(err error, timedOut bool) string {
	msg := lang.FormatError(err)
	var le *lang.Error
	if errors.As(err, &le) {
		msg = le.Error()
	}
	if timedOut {
		msg = fmt.Sprintf("test exceeded its time limit of %s", lang.FormatDuration(t.s.opts.Timeout))
		for _, p := range t.children {
			if p.stillRunning() {
				msg += fmt.Sprintf("; your program %s was still running", p.script)
				break
			}
		}
		return msg
	}
	if le == nil || len(t.children) == 0 || le.Op == "" {
		return msg // not a network failure, or already in the student's terms
	}
	// A reference client's failure while the student's server runs is the
	// server's doing: a timeout on a datagram socket names its own
	// address, so any timeout counts; refusals and resets must name one of
	// the test's ports.
	port := 0
	if _, ps, perr := net.SplitHostPort(le.Peer); perr == nil {
		port, _ = strconv.Atoi(ps)
	}
	if le.Kind != lang.KindTimeout && (port == 0 || !t.ownsPort(port)) {
		return msg
	}
	who := "your program"
	for _, p := range t.children {
		if p.server {
			who = "your server"
		}
	}
	var what string
	switch le.Kind {
	case lang.KindTimeout:
		what = who + " did not answer"
		if d := strings.TrimPrefix(le.Msg, "timeout after "); d != le.Msg {
			what += " within " + d
		}
	case lang.KindRefused:
		what = fmt.Sprintf("nothing was listening on port %d", port)
	case lang.KindReset, lang.KindClosed:
		what = who + " closed the connection"
	default:
		return msg
	}
	for _, p := range t.children {
		if st := p.exitSummary(); st != "" {
			what += "; " + st
			break
		}
	}
	// The reference client's own error names ephemeral ports, which would
	// make reruns' results differ: the student's terms say it all.
	return what
}

func numberArg(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (float64, error) {
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &v); err != nil {
		return 0, err
	}
	f, ok := starlark.AsFloat(v)
	if !ok {
		return 0, fmt.Errorf("%s: got %s, want a number", b.Name(), v.Type())
	}
	return f, nil
}

// equality is t.eq (equal) and t.ne (not equal): got compared with the
// argument named other; want says what was wanted instead of got.
func equality(name, doc, other string, equal bool, want func(starlark.Value) string) lang.MethodDoc {
	return lang.Method(name, doc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var got, o starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "got", &got, other, &o, "msg?", &msg); err != nil {
			return nil, err
		}
		eq, err := starlark.Equal(got, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		if eq != equal {
			return nil, fail(th, msg, "got %s, want %s", got, want(o))
		}
		return starlark.None, nil
	})
}

// truth is t.true (want true) and t.false.
func truth(name, doc string, want bool) lang.MethodDoc {
	return lang.Method(name, doc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x, "msg?", &msg); err != nil {
			return nil, err
		}
		if bool(x.Truth()) != want {
			return nil, fail(th, msg, "got %s, want a %t value", x, want)
		}
		return starlark.None, nil
	})
}
