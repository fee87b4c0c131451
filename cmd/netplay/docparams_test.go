package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"go.starlark.net/starlark"
)

// TestKeywordParamsDocumented fails when a builtin accepts a keyword
// parameter that its doc's signature does not show (persistent=, roots=…
// findable only in the Go source), or shows one that it does not accept.
//
// Which keywords a builtin accepts is found by asking it: each builtin is
// called with a candidate name given twice (name=probe, name=probe), so
// starlark.UnpackArgs answers "unexpected keyword argument name", or "for
// parameter name" / "multiple values for keyword argument name", and
// returns before the builtin does anything. The candidates are every
// identifier-like string literal in netplay's Go source (the parameter
// lists of UnpackArgs are among them) and every name in a doc signature.
func TestKeywordParamsDocumented(t *testing.T) {
	index := modules.Docs(grade.Docs()...)
	candidates := sourceIdentifiers(t)
	docs := index.All()
	for _, d := range docs {
		for _, p := range signatureParams(firstLine(d)) {
			candidates[strings.TrimLeft(p, "/*")] = true
		}
	}
	in := lang.New(lang.Options{})
	defer in.Close()
	in.Lock()
	defer in.Unlock()
	th := in.NewThread("probe", nil)
	defer in.EndThread(th)

	builtins := index.AllBuiltins()
	keys := slices.Sorted(maps.Keys(builtins))
	probed := 0
	for _, key := range keys {
		b := builtins[key]
		sig := firstLine(docs[key])
		if strings.Contains(sig, "**") {
			continue // documents that it takes any keyword
		}
		documented := map[string]bool{}
		positional := map[string]bool{}
		for _, p := range signatureParams(sig) {
			if name, ok := strings.CutPrefix(p, "/"); ok {
				positional[name] = true
				p = name
			}
			documented[p] = true
		}
		accepted, known, none := map[string]bool{}, false, false
		for c := range candidates {
			switch probeKeyword(th, b, c) {
			case kwAccepted:
				accepted[c], known = true, true
			case kwRejected:
				known = true
			case kwNone:
				none = true
			}
			if none {
				break
			}
		}
		if none || !known {
			continue // takes no keywords, or parses its own
		}
		probed++
		for p := range accepted {
			if !documented[p] {
				t.Errorf("%s accepts keyword %s=, which its doc signature %q does not show", key, p, sig)
			}
		}
		for p := range documented {
			if !accepted[p] && !positional[p] && !strings.HasPrefix(p, "*") {
				t.Errorf("%s's doc signature %q shows %s, which it does not accept as a keyword", key, sig, p)
			}
		}
	}
	if probed < 50 {
		t.Fatalf("probed only %d builtins: the probe is broken", probed)
	}
	t.Logf("%d builtins probed against %d candidate names", probed, len(candidates))
}

type kwAnswer int

const (
	kwUnknown  kwAnswer = iota // the error says nothing about the name
	kwAccepted                 // a parameter of that name exists
	kwRejected                 // no parameter of that name
	kwNone                     // the builtin takes no keywords at all
)

// probe is a value no parameter wants, so unpacking it fails at once.
type probe struct{}

func (probe) String() string        { return "probe" }
func (probe) Type() string          { return "probe" }
func (probe) Freeze()               {}
func (probe) Truth() starlark.Bool  { return false }
func (probe) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable") }

func probeKeyword(th *starlark.Thread, b *starlark.Builtin, name string) (answer kwAnswer) {
	defer func() {
		if recover() != nil {
			answer = kwUnknown
		}
	}()
	kw := starlark.Tuple{starlark.String(name), probe{}}
	_, err := b.CallInternal(th, nil, []starlark.Tuple{kw, kw})
	if err == nil {
		return kwUnknown
	}
	msg := err.Error()
	has := func(prefix string) bool {
		return strings.Contains(msg, prefix+name) || strings.Contains(msg, prefix+strconv.Quote(name))
	}
	switch {
	case has("unexpected keyword argument "):
		return kwRejected
	case strings.Contains(msg, "unexpected keyword arguments"):
		return kwNone
	case has("multiple values for keyword argument "), has("for parameter "):
		return kwAccepted
	}
	return kwUnknown
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// signatureParams returns the parameter names of a signature line such as
// "get(url, headers=None, *, timeout=30) -> http.response". Names before
// a "/" (positional only) come back with a "/" in front.
func signatureParams(sig string) []string {
	open := strings.IndexByte(sig, '(')
	if open < 0 {
		return nil
	}
	depth, end := 0, -1
	for i := open; i < len(sig); i++ {
		switch sig[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
		if depth == 0 {
			end = i
			break
		}
	}
	if end < 0 {
		return nil
	}
	var params []string
	depth = 0
	start := open + 1
	inner := sig[:end]
	for i := open + 1; i <= end; i++ {
		c := byte(',')
		if i < end {
			c = inner[i]
		}
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '"':
			for i++; i < end && inner[i] != '"'; i++ {
			}
		case ',':
			if depth == 0 {
				p := strings.TrimSpace(sig[start:i])
				p, _, _ = strings.Cut(p, "=")
				p = strings.TrimSpace(p)
				if p == "/" {
					// Those before a / are positional only, as in Python.
					for i := range params {
						params[i] = "/" + params[i]
					}
				}
				if p != "" && p != "*" && p != "/" && p != "..." {
					params = append(params, p)
				}
				start = i + 1
			}
		}
	}
	return params
}

var identLit = regexp.MustCompile(`^[a-z_][a-z0-9_]*\?{0,2}$`)

// sourceIdentifiers returns the identifier-like string literals of the
// non-test Go files of the packages that define builtins.
func sourceIdentifiers(t *testing.T) map[string]bool {
	root := repoRoot(t)
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, dir := range []string{"lang", "runtime", "stdlib", "modules"} {
		filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && identLit.MatchString(s) {
						names[strings.TrimRight(s, "?")] = true
					}
				}
				return true
			})
			return nil
		})
	}
	if len(names) < 50 {
		t.Fatalf("found only %d names in the Go source", len(names))
	}
	return names
}
