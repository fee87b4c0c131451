package main

import (
	"sort"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
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

// TestDocExamplesParse checks that every example in every builtin's doc is
// valid netplay Starlark, so help() never shows code that cannot run. (The
// README's examples are run whole by TestReadmeExamples.)
func TestDocExamplesParse(t *testing.T) {
	modules.Universe(modules.Env{})
	all := lang.AllDocs()
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	count := 0
	for _, name := range names {
		for i, ex := range examples(all[name]) {
			count++
			if _, err := lang.Dialect.Parse(name+".example", lang.KeywordAttrs([]byte(ex)), 0); err != nil {
				t.Errorf("%s example %d does not parse: %v\n%s", name, i+1, err, ex)
			}
		}
	}
	if count < 20 {
		t.Fatalf("found only %d examples: the extraction is broken", count)
	}
	t.Logf("%d examples parse", count)
}
