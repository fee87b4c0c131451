package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/modules"
	"go.starlark.net/starlark"
)

func docCmd(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("doc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	markdown := fs.Bool("markdown", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, err
		}
		return 0, usageError{"doc: " + err.Error()}
	}
	if fs.NArg() > 1 {
		return 0, usageError{"doc: at most one module or name"}
	}
	module := fs.Arg(0)
	docs := modules.Docs(grade.Docs()...)
	text, ok := modules.Reference(docs, module, *markdown)
	if !ok && !*markdown {
		// A function, method or type: netplay doc http.get.
		if _, found := docs.Doc(module); found {
			text, ok = docs.Help(starlark.String(module)), true
		}
	}
	if !ok {
		if near := nearest(module, modules.Names(docs)); near != "" {
			return 0, fmt.Errorf("doc: no module or builtin %q (did you mean %s?)", module, near)
		}
		return 0, fmt.Errorf("doc: no module or builtin %q", module)
	}
	fmt.Fprintln(stdout, strings.TrimSpace(text))
	return 0, nil
}

// nearest is the name closest to s by edit distance, if close enough to
// be a typo.
func nearest(s string, names []string) string {
	best, bestD := "", len(s)/2+1
	for _, n := range names {
		if d := editDistance(s, n); d < bestD || d == bestD && best != "" && len(n) < len(best) {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
