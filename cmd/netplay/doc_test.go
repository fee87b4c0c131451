package main

import (
	"fmt"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/modules"
	"github.com/netplay-dev/netplay/modules/startest"
)

// TestReferenceUpToDate keeps docs/reference.md generated from the docs in
// the code. Regenerate it with:
//
//	go run ./cmd/netplay doc -markdown > docs/reference.md
func TestReferenceUpToDate(t *testing.T) {
	want, _ := modules.Reference(modules.Docs(grade.Docs()...), "", true)
	path := filepath.Join(repoRoot(t), "docs", "reference.md")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != strings.TrimSpace(want) {
		t.Fatalf("docs/reference.md is stale: run `go run ./cmd/netplay doc -markdown > docs/reference.md`")
	}
}

// TestEverythingDocumented fails when a predeclared name or module member
// has no documentation beside its code.
func TestEverythingDocumented(t *testing.T) {
	if missing := modules.Undocumented(modules.Docs(grade.Docs()...)); len(missing) > 0 {
		t.Fatalf("undocumented: %s", strings.Join(missing, ", "))
	}
}

// TestHelpMatchesDoc checks that help() prints the very text that netplay
// doc and the reference print, for functions, methods and modules.
func TestHelpMatchesDoc(t *testing.T) {
	cases := []struct{ expr, doc string }{
		{"socket.socket", "socket.socket"},
		{"socket.socket().recv", "socket.socket.recv"},
		{"spawn", "spawn"},
		{"spawn(lambda: 1).join", "task.join"},
	}
	docs := modules.Docs(grade.Docs()...)
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			out := startest.MustRun(t, "help("+c.expr+")")
			want, ok := docs.Doc(c.doc)
			if !ok {
				t.Fatalf("no doc for %s", c.doc)
			}
			if strings.TrimSpace(out) != want {
				t.Fatalf("help(%s) printed\n%s\nwant\n%s", c.expr, out, want)
			}
			ref, _ := modules.Reference(docs, "", true)
			first, _, _ := strings.Cut(want, "\n")
			if !strings.Contains(ref, first) {
				t.Errorf("reference lacks %q", first)
			}
		})
	}
	out := startest.MustRun(t, "help(socket)")
	if !strings.Contains(out, "recvfrom") && !strings.Contains(out, "socket(family=AF_INET") {
		t.Errorf("help(socket) lists no members:\n%s", out)
	}
}

// TestReadmeExamples runs every ```star block of the README.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```star\n")[1:]
	if len(blocks) == 0 {
		t.Fatal("README has no ```star examples")
	}
	for i, b := range blocks {
		src, _, _ := strings.Cut(b, "```")
		t.Run(fmt.Sprint("example ", i+1), func(t *testing.T) {
			startest.MustRun(t, src)
		})
	}
}

// TestReadmeCatchKinds: the README names every kind an error can have.
func TestReadmeCatchKinds(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{neterr.KindTimeout, neterr.KindRefused, neterr.KindReset, neterr.KindClosed,
		neterr.KindProtocol, neterr.KindLimit, neterr.KindScript, neterr.KindNetwork, neterr.KindArgument} {
		if !strings.Contains(string(readme), "`\""+kind+"\"`") {
			t.Errorf("README does not list the catch kind %q", kind)
		}
	}
}
