package dashmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"github.com/netplay-dev/netplay/modules/startest"
)

// examples returns the indented code blocks of a doc.
func examples(doc string) []string {
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, strings.Join(cur, "\n")+"\n")
			cur = nil
		}
	}
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(line, "    "):
			cur = append(cur, line[4:])
		case strings.TrimSpace(line) == "" && len(cur) > 0:
			cur = append(cur, "")
		default:
			flush()
		}
	}
	flush()
	return blocks
}

// TestDocExamplesRun runs every example in the dash module's docs, each in
// a scratch folder: help() never shows code that does not work.
func TestDocExamplesRun(t *testing.T) {
	modules.Universe(modules.Env{})
	n := 0
	for name, doc := range lang.AllDocs() {
		if name != "dash" && !strings.HasPrefix(name, "dash.") {
			continue
		}
		for i, ex := range examples(doc) {
			n++
			t.Run(name, func(t *testing.T) {
				if strings.Contains(ex, "dash.encode(") {
					peertest.Need(t, "ffmpeg")
				}
				r := startest.Run(t, ex, nil)
				if r.Err != nil {
					t.Fatalf("example %d failed: %s\n%s\nstdout: %s", i+1, lang.FormatError(r.Err), ex, r.Stdout)
				}
				if strings.TrimSpace(r.Stdout) == "" {
					t.Errorf("example %d printed nothing:\n%s", i+1, ex)
				}
			})
		}
	}
	if n < 8 {
		t.Fatalf("found %d examples", n)
	}
}
