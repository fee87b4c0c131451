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

// load implements load("lib.star", ...): the path is relative to the folder
// of the file that loads it, each file is run once per interpreter, and
// cycles fail.
//
// Unlike Bazel's Starlark, netplay does not freeze what a loaded file
// defines: its functions may go on changing the file's global lists and
// dicts (a handler appending to a log), as a Python module's functions do.
// The interpreter lock already makes that safe, which is what freezing is
// for in Bazel. The loader gets the values the names had when the file
// finished, as with Python's "from lib import x": a later "x = ..." inside
// lib rebinds lib's x, not the loader's.
func (in *Interp) load(th *starlark.Thread, module string) (starlark.StringDict, error) {
	from := th.CallFrame(0).Pos.Filename()
	dir := in.opts.Root
	if from != "" && from != "<stdin>" && from != "<command-line>" {
		// A script's name is as given on the command line, relative to
		// the working directory: make it absolute once, so that the file
		// sandbox does not apply the script's folder a second time.
		if abs, err := filepath.Abs(filepath.Dir(from)); err == nil {
			dir = abs
		}
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
	return e.globals, e.err
}

// ExecModule runs a file on th, a thread of this interpreter held under its
// lock, and returns its globals, without freezing them (see load).
func (in *Interp) ExecModule(th *starlark.Thread, filename string, src any) (starlark.StringDict, error) {
	return in.execFile(th, filename, src)
}
