package modules_test

import (
	"encoding/json"
	"os/exec"
	"path"
	"strings"
	"testing"
)

// The shape of the tree (docs/architecture.md), read from the packages'
// own imports, so a change that breaks it fails here and not in review.

const mod = "github.com/netplay-dev/netplay/"

type pkg struct {
	ImportPath string
	Imports    []string
}

func packages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		p.ImportPath = strings.TrimPrefix(p.ImportPath, mod)
		for i, imp := range p.Imports {
			if strings.HasPrefix(imp, mod) {
				p.Imports[i] = strings.TrimPrefix(imp, mod)
			} else {
				p.Imports[i] = "ext:" + imp // not netplay's: the standard library's runtime/debug is no engine
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// isBinding reports whether p is a module's Starlark binding:
// runtime/<m>/<m>mod.
func isBinding(p string) bool {
	dir, name := path.Split(p)
	return strings.HasPrefix(p, "runtime/") && name == path.Base(dir)+"mod"
}

// isEngine reports whether p is a protocol engine or other plain-Go package
// under runtime/ (runtime/dns, runtime/stack …).
func isEngine(p string) bool {
	return strings.HasPrefix(p, "runtime/") && !isBinding(p)
}

func TestEnginesImportNoStarlark(t *testing.T) {
	for _, p := range packages(t) {
		if !isEngine(p.ImportPath) {
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "ext:go.starlark.net") || imp == "lang" || strings.HasPrefix(imp, "lang/") {
				t.Errorf("%s imports %s: an engine is plain Go; Starlark belongs in its binding %s/%smod", p.ImportPath, imp, p.ImportPath, path.Base(p.ImportPath))
			}
		}
	}
}

func TestNoUpwardImports(t *testing.T) {
	for _, p := range packages(t) {
		for _, imp := range p.Imports {
			switch {
			case isBinding(imp) && p.ImportPath != "modules" && !isBinding(p.ImportPath):
				// Only the registry builds modules; bindings may share
				// values (smtp, pop3 and imap use mail's store).
				t.Errorf("%s imports the binding %s: only modules/ (the registry) does", p.ImportPath, imp)
			case isEngine(p.ImportPath) && (imp == "modules" || strings.HasPrefix(imp, "modules/") || strings.HasPrefix(imp, "cmd/") || imp == "grade"):
				t.Errorf("%s imports %s, which is above it", p.ImportPath, imp)
			case (p.ImportPath == "lang" || strings.HasPrefix(p.ImportPath, "lang/")) && strings.HasPrefix(imp, "runtime/") && imp != "runtime/stack" && imp != "runtime/neterr":
				t.Errorf("%s imports %s: lang knows no protocol (only the stack and the error model)", p.ImportPath, imp)
			case strings.HasPrefix(p.ImportPath, "stdlib/") && strings.HasPrefix(imp, "runtime/") && imp != "runtime/stack" && imp != "runtime/neterr":
				t.Errorf("%s imports %s: the standard modules know no protocol", p.ImportPath, imp)
			}
		}
	}
}

// TestOneRegistry checks that the registry is the one package importing
// every module's binding.
func TestOneRegistry(t *testing.T) {
	var bindings []string
	importers := map[string][]string{}
	for _, p := range packages(t) {
		if isBinding(p.ImportPath) {
			bindings = append(bindings, p.ImportPath)
		}
		for _, imp := range p.Imports {
			if isBinding(imp) {
				importers[p.ImportPath] = append(importers[p.ImportPath], imp)
			}
		}
	}
	if len(bindings) < 8 {
		t.Fatalf("found %d bindings (%v): the test no longer sees the tree's shape", len(bindings), bindings)
	}
	if got := len(importers["modules"]); got != len(bindings) {
		t.Errorf("modules imports %d of the %d bindings %v: register every module in modules.Entries", got, len(bindings), bindings)
	}
	for p, imps := range importers {
		if p != "modules" && len(imps) == len(bindings) {
			t.Errorf("%s imports every module: use the registry (package modules) instead", p)
		}
	}
}

// TestEveryBindingHasAnEngine checks that runtime/<m>/<m>mod sits in the
// engine package runtime/<m>, which it imports.
func TestEveryBindingHasAnEngine(t *testing.T) {
	for _, p := range packages(t) {
		if !isBinding(p.ImportPath) {
			continue
		}
		engine := path.Dir(p.ImportPath)
		found := false
		for _, imp := range p.Imports {
			found = found || imp == engine
		}
		if !found {
			t.Errorf("%s does not import its engine %s", p.ImportPath, engine)
		}
	}
}

// TestEngineTestsAreGo checks that an engine's own tests are plain Go:
// what needs a script is a binding test (runtime/<m>/<m>mod/testdata).
func TestEngineTestsAreGo(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,TestImports,XTestImports", mod+"runtime/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath                string
			TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkg := strings.TrimPrefix(p.ImportPath, mod)
		if !isEngine(pkg) {
			continue
		}
		for _, imp := range append(p.TestImports, p.XTestImports...) {
			imp := strings.TrimPrefix(imp, mod)
			if strings.HasPrefix(imp, "go.starlark.net") || imp == "lang" || imp == "grade" || imp == "modules" || strings.HasPrefix(imp, "modules/") {
				t.Errorf("%s's tests import %s: an engine's tests are plain Go; a test that runs a script belongs in %s/%smod/testdata", pkg, imp, pkg, path.Base(pkg))
			}
		}
	}
}
