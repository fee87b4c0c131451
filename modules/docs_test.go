package modules_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Docs travel with the module values (docs/architecture.md): a type's
// method table (lang.NewMethods) or a documented plain type
// (lang.Document) reaches help() and the reference only when the module
// lists it in lang.NewModule (or, for lang's and the test runner's own
// types, in a []lang.Documented). Building one and not listing it compiles
// and runs; this test finds it.
func TestEveryDocumentedTypeIsListed(t *testing.T) {
	dirs, err := filepath.Glob("../runtime/*/*mod")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../stdlib/*")
	dirs = append(dirs, append(more, "../lang", "../grade")...)
	for _, dir := range dirs {
		defined, listed := documentedVars(t, dir)
		var missing []string
		for name := range defined {
			if !listed[name] {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		for _, name := range missing {
			t.Errorf("%s: %s is documented but no module lists it: add it to the types of lang.NewModule", dir, name)
		}
	}
}

// documentedVars returns the package-level variables of the package in dir
// made by NewMethods or Document, and the names used inside a NewModule or
// NewDocs call or a []Documented literal.
func documentedVars(t *testing.T, dir string) (defined, listed map[string]bool) {
	t.Helper()
	defined, listed = map[string]bool{}, map[string]bool{}
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	callee := func(e ast.Expr) string {
		switch f := e.(type) {
		case *ast.SelectorExpr:
			return f.Sel.Name
		case *ast.Ident:
			return f.Name
		}
		return ""
	}
	names := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				listed[id.Name] = true
			}
			return true
		})
	}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					for i, v := range vs.Values {
						if c, ok := v.(*ast.CallExpr); ok && (callee(c.Fun) == "NewMethods" || callee(c.Fun) == "Document") {
							defined[vs.Names[i].Name] = true
						}
					}
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ExprStmt:
					// lang.Document("m.x", doc) on its own line, as the
					// registry once took it, now documents nothing.
					if c, ok := n.X.(*ast.CallExpr); ok && (callee(c.Fun) == "Document" || callee(c.Fun) == "NewMethods") {
						t.Errorf("%s: a call of %s whose result is discarded documents nothing: keep it in a variable and list that in lang.NewModule", dir, callee(c.Fun))
					}
				case *ast.CallExpr:
					if c := callee(n.Fun); c == "NewModule" || c == "NewDocs" {
						for _, a := range n.Args {
							names(a)
						}
					}
				case *ast.CompositeLit:
					if at, ok := n.Type.(*ast.ArrayType); ok && callee(at.Elt) == "Documented" {
						names(n)
					}
				}
				return true
			})
		}
	}
	return defined, listed
}
