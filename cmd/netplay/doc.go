package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	_ "github.com/netplay-dev/netplay/grade" // documents testing.t
	"github.com/netplay-dev/netplay/modules"
)

func docCmd(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("doc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	markdown := fs.Bool("markdown", false, "")
	if err := fs.Parse(args); err != nil {
		return 0, usageError{"doc: " + err.Error()}
	}
	if fs.NArg() > 1 {
		return 0, usageError{"doc: at most one module"}
	}
	module := fs.Arg(0)
	text, ok := modules.Reference(module, *markdown)
	if !ok {
		return 0, fmt.Errorf("doc: no module %q", module)
	}
	fmt.Fprintln(stdout, strings.TrimSpace(text))
	return 0, nil
}
