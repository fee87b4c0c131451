package lang

import (
	"fmt"
	"strings"
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

func init() {
	stringMethods["encode"] = starlark.NewBuiltin("encode", strEncode)
	bytesMethods["decode"] = starlark.NewBuiltin("decode", bytesDecode)
	// Python's format specs ("{:.2f}") instead of Starlark's bare fields.
	stringMethods["format"] = starlark.NewBuiltin("format", strFormat)
	starlark.Universe[percentName] = percentBuiltin
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
		switch n := n.(type) {
		case *syntax.BinaryExpr:
			n.X, n.Y = percentCall(n.X), percentCall(n.Y)
		case *syntax.ExprStmt:
			n.X = percentCall(n.X)
		case *syntax.AssignStmt:
			n.RHS = percentCall(n.RHS)
		case *syntax.ReturnStmt:
			if n.Result != nil {
				n.Result = percentCall(n.Result)
			}
		case *syntax.IfStmt:
			n.Cond = percentCall(n.Cond)
		case *syntax.WhileStmt:
			n.Cond = percentCall(n.Cond)
		case *syntax.ForStmt:
			n.X = percentCall(n.X)
		case *syntax.ParenExpr:
			n.X = percentCall(n.X)
		case *syntax.UnaryExpr:
			if n.X != nil {
				n.X = percentCall(n.X)
			}
		case *syntax.CondExpr:
			n.Cond, n.True, n.False = percentCall(n.Cond), percentCall(n.True), percentCall(n.False)
		case *syntax.IndexExpr:
			n.X, n.Y = percentCall(n.X), percentCall(n.Y)
		case *syntax.DotExpr:
			n.X = percentCall(n.X)
		case *syntax.DictEntry:
			n.Key, n.Value = percentCall(n.Key), percentCall(n.Value)
		case *syntax.LambdaExpr:
			n.Body = percentCall(n.Body)
		case *syntax.Comprehension:
			n.Body = percentCall(n.Body)
		case *syntax.ForClause:
			n.X = percentCall(n.X)
		case *syntax.IfClause:
			n.Cond = percentCall(n.Cond)
		case *syntax.SliceExpr:
			n.X = percentCall(n.X)
			if n.Lo != nil {
				n.Lo = percentCall(n.Lo)
			}
			if n.Hi != nil {
				n.Hi = percentCall(n.Hi)
			}
			if n.Step != nil {
				n.Step = percentCall(n.Step)
			}
		case *syntax.CallExpr:
			n.Fn = percentCall(n.Fn)
			for i, a := range n.Args {
				n.Args[i] = percentCall(a)
			}
		case *syntax.ListExpr:
			for i, x := range n.List {
				n.List[i] = percentCall(x)
			}
		case *syntax.TupleExpr:
			for i, x := range n.List {
				n.List[i] = percentCall(x)
			}
		}
		return true
	})
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
	return starlark.String(strings.ToValidUTF8(string(b.Receiver().(starlark.Bytes)), "\uFFFD")), nil
}
