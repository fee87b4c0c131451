package lang

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// FormatError renders err for a person: syntax and resolve errors as
// file:line:column: message, runtime errors with the Starlark traceback.
func FormatError(err error) string {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		bt := strings.TrimRight(foldBacktrace(ee.Backtrace()), "\n")
		bt = strings.Replace(bt, "Starlark computation cancelled: "+recursionMsg, recursionMsg, 1)
		// netplay's messages already start with the builtin's name
		// ("socket.recv 127.0.0.1:80: timeout"); don't say it twice.
		if i := strings.LastIndex(bt, "\nError in "); i >= 0 {
			last := bt[i+len("\nError in "):]
			if fn, msg, ok := strings.Cut(last, ": "); ok && strings.HasPrefix(msg, fn) {
				bt = bt[:i] + "\nError: " + msg
			}
		}
		if h := runtimeHint(ee.Msg); h != "" {
			bt += "\n" + h
		}
		return bt
	}
	var se syntax.Error
	if errors.As(err, &se) {
		msg := se.Pos.String() + ": " + se.Msg
		var h *hinted
		if errors.As(err, &h) {
			msg += "\n" + h.hint
		}
		return msg
	}
	var rl resolve.ErrorList
	if errors.As(err, &rl) {
		var b strings.Builder
		for i, e := range rl {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(e.Pos.String() + ": " + e.Msg)
		}
		return b.String()
	}
	return err.Error()
}

// foldBacktrace keeps a deep recursion's traceback short, as Python does: a
// line repeated more than three times in a row is shown three times and then
// counted ("[previous line repeated 9,997 more times]").
func foldBacktrace(bt string) string {
	lines := strings.Split(bt, "\n")
	var b strings.Builder
	b.Grow(len(bt) / 4)
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && lines[j] == lines[i] {
			j++
		}
		n := j - i
		for k := 0; k < min(n, 3); k++ {
			b.WriteString(lines[i])
			b.WriteByte('\n')
		}
		if n > 3 {
			fmt.Fprintf(&b, "  [previous line repeated %s more times]\n", groupThousands(n-3))
		}
		i = j
	}
	return b.String()
}

// groupThousands writes n with commas: 99990 -> "99,990".
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// runtimeHint is a line saying what to write instead, for the runtime
// errors a Python programmer meets first.
func runtimeHint(msg string) string {
	switch {
	case strings.Contains(msg, "unknown conversion %"):
		// Starlark's own % (the format is not a literal, see Rewrite).
		return `hint: Starlark's % knows only %s %d %r %x %o %e %f %g: use "{:.2f}".format(x) or format(x, ".2f"), or write the format as a literal ("%.2f" % x)`
	}
	return ""
}
