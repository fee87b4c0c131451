package lang

import (
	"fmt"
	"path/filepath"

	"go.starlark.net/starlark"
)

type loadEntry struct {
	globals starlark.StringDict
	err     error
	loading bool
}

// load implements load("lib.star", ...): the path is relative to the file
// that loads it, each file is run once per interpreter, and cycles fail.
func (in *Interp) load(th *starlark.Thread, module string) (starlark.StringDict, error) {
	from := th.CallFrame(0).Pos.Filename()
	dir := in.opts.Root
	if from != "" && from != "<stdin>" && from != "<command-line>" {
		dir = filepath.Dir(from)
	}
	path := module
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	// The sandbox resolves relative paths against the script's folder; this
	// one is relative to the loading file already.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if e, ok := in.loads[path]; ok {
		if e.loading {
			return nil, fmt.Errorf("cycle in load graph: %s loads itself", module)
		}
		return e.globals, e.err
	}
	src, err := ReadFile(th, "load", path)
	if err != nil {
		return nil, err
	}
	e := &loadEntry{loading: true}
	in.loads[path] = e
	lth := in.NewThread("load "+module, Context(th))
	defer in.EndThread(lth)
	e.globals, e.err = in.execFile(lth, path, src)
	e.loading = false
	if e.globals != nil {
		e.globals.Freeze()
	}
	return e.globals, e.err
}
