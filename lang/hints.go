package lang

import (
	"errors"
	"os"
	"strings"

	"go.starlark.net/syntax"
)

// Python habits fail in Starlark's parser with messages about tokens
// ("got import, want primary expression"). Hint adds the line a Python
// programmer needs: what to write instead.

// hinted is an error followed, when formatted, by a hint line.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + "\n" + h.hint }
func (h *hinted) Unwrap() error { return h.err }

var keywordHints = map[string]string{
	"import":   "hint: netplay has no import: socket, http, dns, smtp, time, random… are already loaded (write socket.socket(socket.AF_INET, socket.SOCK_DGRAM))",
	"from":     "hint: netplay has no import: socket, http, dns, smtp, time, random… are already loaded (write socket.socket(socket.AF_INET, socket.SOCK_DGRAM))",
	"try":      "hint: no try/except in Starlark: r = catch(f, *args) runs f and returns a result; test r.ok, r.value, r.error.kind",
	"except":   "hint: no try/except in Starlark: r = catch(f, *args) runs f and returns a result; test r.ok, r.value, r.error.kind",
	"finally":  "hint: no try/finally in Starlark: r = catch(f, *args) runs f and returns a result; clean up after it",
	"raise":    "hint: no raise in Starlark: fail(\"message\") ends the script with an error",
	"class":    "hint: no classes in Starlark: use a dict ({\"name\": n}) or a struct (struct(name=n, port=p))",
	"global":   "hint: no global in Starlark: keep state in a dict or list (state = {\"count\": 0}, then state[\"count\"] += 1)",
	"nonlocal": "hint: no nonlocal in Starlark: keep state in a dict or list (state = {\"count\": 0}, then state[\"count\"] += 1)",
	"with":     "hint: no with in Starlark: open the file or socket, use it, then call .close()",
	"del":      "hint: no del in Starlark: d.pop(key) removes a dict entry, xs.pop(i) a list element",
	"yield":    "hint: no generators in Starlark: build and return a list",
	"is":       "hint: no is in Starlark: compare with == (x == None)",
	"'**'":     "hint: no ** operator in Starlark: use math.pow(x, y), or x * x",
}

const (
	chainedHint = "hint: one assignment per line in Starlark: a = 0, then b = 0"
	fstringHint = "hint: no f-strings in Starlark: use \"{} is {:.2f}\".format(name, x), or \"%s is %.2f\" % (name, x)"
)

// Hint returns err with a hint line when it is a syntax error a Python
// habit causes. src is the source that failed to parse (nil: read the
// error's file).
func Hint(err error, src []byte) error {
	var se syntax.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	if h := syntaxHint(se, src); h != "" {
		return &hinted{err, h}
	}
	return err
}

func syntaxHint(se syntax.Error, src []byte) string {
	if tok, ok := strings.CutPrefix(se.Msg, "got "); ok {
		tok, _, _ = strings.Cut(tok, ",")
		if h, ok := keywordHints[tok]; ok {
			return h
		}
	}
	if src == nil {
		src, _ = os.ReadFile(se.Pos.Filename())
	}
	line := sourceLine(src, int(se.Pos.Line))
	if isFString(line) {
		return fstringHint
	}
	if strings.HasPrefix(se.Msg, "got '=', want ") {
		return chainedHint
	}
	return ""
}

func sourceLine(src []byte, n int) string {
	lines := strings.Split(string(src), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// isFString reports whether line holds an f-string: a quote preceded by an
// f (or rf, fr) prefix.
func isFString(line string) bool {
	for i := 0; i+1 < len(line); i++ {
		c := line[i]
		if (c == 'f' || c == 'F') && (line[i+1] == '"' || line[i+1] == '\'') {
			prev := byte(' ')
			if i > 0 {
				prev = line[i-1]
			}
			if prev == 'r' || prev == 'R' {
				if i > 1 {
					prev = line[i-2]
				} else {
					prev = ' '
				}
			}
			if !isIdentByte(prev) {
				return true
			}
		}
		if (c == 'r' || c == 'R') && (line[i+1] == 'f' || line[i+1] == 'F') && i+2 < len(line) && (line[i+2] == '"' || line[i+2] == '\'') {
			return true
		}
	}
	return false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
