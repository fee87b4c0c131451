// Package sys is the Starlark module sys: the script's arguments and exit.
package sys

import (
	"fmt"

	"github.com/netplay-dev/netplay/lang"
	"go.starlark.net/starlark"
)

// New returns the sys module for a script run with argv (the script's path,
// then its arguments).
func New(argv []string) *lang.Module {
	list := make([]starlark.Value, len(argv))
	for i, a := range argv {
		list[i] = starlark.String(a)
	}
	argvDoc := lang.Document("sys.argv", `argv

The script's command line as a list: argv[0] is the script's path, then its
arguments (netplay run server.star 12000 -> ["server.star", "12000"]).`)
	return lang.NewModule("sys", `The script's command line and exit.`, starlark.StringDict{
		"argv": starlark.NewList(list),
		"exit": exit,
	}, argvDoc)
}

var exit = lang.Func("sys.exit", `exit(code=0)

Ends the script at once with exit status code (0 means success), from any
task.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	code := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "code?", &code); err != nil {
		return nil, err
	}
	if code < 0 || code > 255 {
		return nil, fmt.Errorf("%s: code %d out of range 0..255", b.Name(), code)
	}
	return nil, lang.Exit(code)
})
