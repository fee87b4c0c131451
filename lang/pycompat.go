package lang

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
	_ "unsafe" // for go:linkname

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// The course's socket programs convert with str.encode() and bytes.decode()
// on every send and receive. Starlark has no such methods and no API to add
// methods to built-in types, so netplay adds these two to go.starlark.net's
// method tables, keeping the programs portable line by line. The tables are
// written once, at init, before any thread runs. TestLinknameTargets fails
// if a go.starlark.net upgrade renames them (docs/architecture.md says what
// to check on an upgrade).

//go:linkname stringMethods go.starlark.net/starlark.stringMethods
var stringMethods map[string]*starlark.Builtin

//go:linkname bytesMethods go.starlark.net/starlark.bytesMethods
var bytesMethods map[string]*starlark.Builtin

//go:linkname listMethods go.starlark.net/starlark.listMethods
var listMethods map[string]*starlark.Builtin

func init() {
	stringMethods["encode"] = starlark.NewBuiltin("encode", strEncode)
	bytesMethods["decode"] = starlark.NewBuiltin("decode", bytesDecode)
	// Python's format specs ("{:.2f}") instead of Starlark's bare fields.
	stringMethods["format"] = starlark.NewBuiltin("format", strFormat)
	starlark.Universe[percentName] = percentBuiltin
	// Python's list methods that Starlark lacks.
	listMethods["count"] = starlark.NewBuiltin("count", listCount)
	listMethods["copy"] = starlark.NewBuiltin("copy", listCopy)
	listMethods["sort"] = starlark.NewBuiltin("sort", listSort)
	listMethods["reverse"] = starlark.NewBuiltin("reverse", listReverse)
	// Python's padding methods, for tables of results.
	stringMethods["ljust"] = starlark.NewBuiltin("ljust", strJustify)
	stringMethods["rjust"] = starlark.NewBuiltin("rjust", strJustify)
	stringMethods["center"] = starlark.NewBuiltin("center", strJustify)
	stringMethods["zfill"] = starlark.NewBuiltin("zfill", strZfill)
}

// listReverse is list.reverse(): reverses the list in place.
func listReverse(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs("reverse", args, kwargs, 0); err != nil {
		return nil, err
	}
	l := b.Receiver().(*starlark.List)
	for i, j := 0, l.Len()-1; i < j; i, j = i+1, j-1 {
		a, c := l.Index(i), l.Index(j)
		if err := l.SetIndex(i, c); err != nil {
			return nil, fmt.Errorf("reverse: %v", err)
		}
		l.SetIndex(j, a)
	}
	return starlark.None, nil
}

// strJustify is str.ljust, str.rjust and str.center(width, fillchar=" ").
func strJustify(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var width int
	fill := " "
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &width, &fill); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(fill) != 1 {
		return nil, fmt.Errorf("%s: the fill character must be exactly one character long", b.Name())
	}
	r, _ := utf8.DecodeRuneInString(fill)
	align := map[string]byte{"ljust": '<', "rjust": '>', "center": '^'}[b.Name()]
	s := string(b.Receiver().(starlark.String))
	if align == '^' {
		// Python centres an odd padding with the extra fill on the right
		// only when the string's length is even.
		n := width - utf8.RuneCountInString(s)
		if n > 0 {
			left := n / 2
			if n%2 == 1 && width%2 == 1 {
				left++
			}
			return starlark.String(strings.Repeat(fill, left) + s + strings.Repeat(fill, n-left)), nil
		}
		return starlark.String(s), nil
	}
	return starlark.String(pad("", s, r, align, width)), nil
}

// strZfill is str.zfill(width): zeros on the left, after any sign.
func strZfill(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var width int
	if err := starlark.UnpackPositionalArgs("zfill", args, kwargs, 1, &width); err != nil {
		return nil, err
	}
	s := string(b.Receiver().(starlark.String))
	sign := ""
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	return starlark.String(pad(sign, s, '0', '=', width)), nil
}

// listCount is list.count(x): how many elements equal x.
func listCount(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackPositionalArgs("count", args, kwargs, 1, &x); err != nil {
		return nil, err
	}
	l := b.Receiver().(*starlark.List)
	n := 0
	for i := range l.Len() {
		eq, err := starlark.Equal(l.Index(i), x)
		if err != nil {
			return nil, fmt.Errorf("count: %v", err)
		}
		if eq {
			n++
		}
	}
	return starlark.MakeInt(n), nil
}

// listCopy is list.copy(): a shallow copy, as list(xs) or xs[:].
func listCopy(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs("copy", args, kwargs, 0); err != nil {
		return nil, err
	}
	l := b.Receiver().(*starlark.List)
	elems := make([]starlark.Value, l.Len())
	for i := range elems {
		elems[i] = l.Index(i)
	}
	return starlark.NewList(elems), nil
}

// listSort is list.sort(key=None, reverse=False): a stable sort in place,
// as Python's (and the builtin sorted).
func listSort(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var key starlark.Value = starlark.None
	reverse := false
	if len(args) > 0 {
		return nil, fmt.Errorf("sort: takes only keyword arguments: sort(key=None, reverse=False)")
	}
	if err := starlark.UnpackArgs("sort", nil, kwargs, "key?", &key, "reverse?", &reverse); err != nil {
		return nil, err
	}
	l := b.Receiver().(*starlark.List)
	kw := []starlark.Tuple{{starlark.String("reverse"), starlark.Bool(reverse)}}
	if key != starlark.None {
		kw = append(kw, starlark.Tuple{starlark.String("key"), key})
	}
	sorted, err := starlark.Call(th, starlark.Universe["sorted"], starlark.Tuple{l}, kw)
	if err != nil {
		return nil, fmt.Errorf("sort: %v", unwrapEval(err))
	}
	s := sorted.(*starlark.List)
	for i := range s.Len() {
		if err := l.SetIndex(i, s.Index(i)); err != nil {
			return nil, fmt.Errorf("sort: %v", err)
		}
	}
	return starlark.None, nil
}

// unwrapEval is the message of an error raised inside a nested call,
// without the traceback a nested EvalError carries.
func unwrapEval(err error) error {
	if ee, ok := err.(*starlark.EvalError); ok {
		return errors.New(ee.Msg)
	}
	return err
}

// Starlark's % operator is built into the interpreter and knows no flags,
// widths or precisions ("%.2f" fails). Without forking go.starlark.net,
// netplay compiles "literal" % args, the way nearly every Python program
// writes it, as a call to Percent: Rewrite turns each such expression in a
// parsed file into percentName(literal, args) before it is resolved. A
// format held in a variable still goes to Starlark's own %, whose errors
// FormatError follows with the way to write it.
const percentName = "%" // not an identifier, so no script can name it

var percentBuiltin = starlark.NewBuiltin(percentName, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	return Percent(string(args[0].(starlark.String)), args[1])
})

// Rewrite prepares a parsed file for netplay's dialect: "literal" % args
// becomes a call to Percent. Run it on every file before resolving it.
func Rewrite(f *syntax.File) {
	restoreKeywordAttrs(f)
	syntax.Walk(f, func(n syntax.Node) bool {
		for _, e := range operands(n) {
			*e = percentCall(*e)
		}
		return true
	})
}

// operands are the places in n that hold an expression, where a
// "literal" % x may stand. (percentCall leaves an absent one nil.)
func operands(n syntax.Node) []*syntax.Expr {
	switch n := n.(type) {
	case *syntax.BinaryExpr:
		return []*syntax.Expr{&n.X, &n.Y}
	case *syntax.ExprStmt:
		return []*syntax.Expr{&n.X}
	case *syntax.AssignStmt:
		return []*syntax.Expr{&n.RHS}
	case *syntax.ReturnStmt:
		return []*syntax.Expr{&n.Result}
	case *syntax.IfStmt:
		return []*syntax.Expr{&n.Cond}
	case *syntax.WhileStmt:
		return []*syntax.Expr{&n.Cond}
	case *syntax.ForStmt:
		return []*syntax.Expr{&n.X}
	case *syntax.ParenExpr:
		return []*syntax.Expr{&n.X}
	case *syntax.UnaryExpr:
		return []*syntax.Expr{&n.X}
	case *syntax.CondExpr:
		return []*syntax.Expr{&n.Cond, &n.True, &n.False}
	case *syntax.IndexExpr:
		return []*syntax.Expr{&n.X, &n.Y}
	case *syntax.DotExpr:
		return []*syntax.Expr{&n.X}
	case *syntax.DictEntry:
		return []*syntax.Expr{&n.Key, &n.Value}
	case *syntax.LambdaExpr:
		return []*syntax.Expr{&n.Body}
	case *syntax.Comprehension:
		return []*syntax.Expr{&n.Body}
	case *syntax.ForClause:
		return []*syntax.Expr{&n.X}
	case *syntax.IfClause:
		return []*syntax.Expr{&n.Cond}
	case *syntax.SliceExpr:
		return []*syntax.Expr{&n.X, &n.Lo, &n.Hi, &n.Step}
	case *syntax.CallExpr:
		return append([]*syntax.Expr{&n.Fn}, elements(n.Args)...)
	case *syntax.ListExpr:
		return elements(n.List)
	case *syntax.TupleExpr:
		return elements(n.List)
	}
	return nil
}

func elements(list []syntax.Expr) []*syntax.Expr {
	out := make([]*syntax.Expr, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	return out
}

// percentCall returns e, or the call replacing it when e is "literal" % x.
// (Keyword arguments are BinaryExprs with Op EQ: their value is rewritten
// through the BinaryExpr case.)
func percentCall(e syntax.Expr) syntax.Expr {
	b, ok := e.(*syntax.BinaryExpr)
	if !ok || b.Op != syntax.PERCENT {
		return e
	}
	lit, ok := unparen(b.X).(*syntax.Literal)
	if !ok || lit.Token != syntax.STRING {
		return e
	}
	return &syntax.CallExpr{
		Fn:     &syntax.Ident{NamePos: b.OpPos, Name: percentName},
		Lparen: b.OpPos,
		Args:   []syntax.Expr{b.X, b.Y},
		Rparen: b.OpPos,
	}
}

func unparen(e syntax.Expr) syntax.Expr {
	for {
		p, ok := e.(*syntax.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

func checkCodec(name string, args starlark.Tuple, kwargs []starlark.Tuple) error {
	if len(args) == 0 && len(kwargs) == 0 {
		return nil // s.encode(), the usual call: UnpackArgs would allocate
	}
	encoding, errors := "utf-8", "strict"
	if err := starlark.UnpackArgs(name, args, kwargs, "encoding?", &encoding, "errors?", &errors); err != nil {
		return err
	}
	switch strings.ToLower(strings.ReplaceAll(encoding, "_", "-")) {
	case "utf-8", "utf8", "ascii", "us-ascii":
		return nil
	}
	return fmt.Errorf("%s: encoding %q not supported: strings are UTF-8", name, encoding)
}

// strEncode is str.encode(encoding="utf-8"): the string's bytes.
func strEncode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := checkCodec("encode", args, kwargs); err != nil {
		return nil, err
	}
	return starlark.Bytes(b.Receiver().(starlark.String)), nil
}

// bytesDecode is bytes.decode(encoding="utf-8"): the bytes as a string,
// invalid UTF-8 replaced by U+FFFD as str(bytes) does.
func bytesDecode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := checkCodec("decode", args, kwargs); err != nil {
		return nil, err
	}
	data := string(b.Receiver().(starlark.Bytes))
	if utf8.ValidString(data) {
		return starlark.String(data), nil // strings.ToValidUTF8 would copy it
	}
	return starlark.String(strings.ToValidUTF8(data, "\uFFFD")), nil
}

// PythonDifferences is the reference's list of what still differs from
// Python 3 for a Python programmer (what netplay adds is above it).
const PythonDifferences = `netplay is Starlark, a dialect of Python. Added for Python habits:
str.format, format() and % with Python's format specs ("{:>8.2f}",
"%5.1f"); str.encode, bytes.decode, str.ljust, rjust, center, zfill;
list.count, copy, sort(key=, reverse=) and reverse; round, sum, input,
open, struct; while loops, recursion and top-level if/for. What still
differs from Python 3:

- No import: socket, http, dns, smtp, pop3, imap, mail, lab, time, random,
  math, json and sys are already loaded; load("file.star", "name") loads
  your own files.
- No try/except/raise: r = catch(f, *args) returns a result (r.ok,
  r.value, r.error.kind); fail("message") ends the script.
- No classes: use a dict, or struct(name=value, ...).
- No global or nonlocal: a function changes module state through a dict or
  list (state["count"] += 1); top-level code may reassign globals.
- One assignment per statement: a = b = 0 fails; a, b = 0, 0 works.
- No f-strings: "{} took {:.2f} s".format(name, t), or "%s took %.2f s" %
  (name, t).
- % with Python's flags, widths and precisions needs the format written as
  a literal ("%.2f" % x); a format held in a variable gets Starlark's own %,
  which knows only %s %d %r %x %o %e %f %g without widths.
- No ** operator (math.pow(x, y)), no is (x == None), no del, no with, no
  yield or generators, no set literals ({1, 2}: write set([1, 2])), no
  chained comparisons (write 0 < x and x < 10).
- Strings are not iterable: for c in s.elems(); a string's repr uses double
  quotes ("a"), and str() of a float may use exponent form sooner than
  Python (str(1e15) is "1e+15"; "{}".format(1e15) is Python's
  "1000000000000000.0").
- dict and list methods are Python's; missing: divmod, pow, isinstance
  (compare type(x) == "int"), and the string methods casefold, expandtabs,
  swapcase, translate.
- Integers are unbounded and / is float division, as in Python 3; int(x)
  of a float truncates; a frozen value (a loaded module's globals) cannot
  be changed.
`
