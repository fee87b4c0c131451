package lang

import (
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
)

// CheckPath resolves path (relative to the script's folder) and checks that
// the script may use it: files inside the script's folder, or inside a
// folder allowed with --allow-fs. op names the builtin for the error.
func CheckPath(th *starlark.Thread, op, path string, write bool) (string, error) {
	in := InterpOf(th)
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(in.opts.Root, path)
	}
	abs = filepath.Clean(abs)
	real := resolveExisting(abs)
	for _, dir := range append([]string{in.opts.Root}, in.opts.AllowFS...) {
		d, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		d = resolveExisting(d)
		if real == d || strings.HasPrefix(real, d+string(filepath.Separator)) {
			return abs, nil
		}
	}
	verb := "read"
	if write {
		verb = "write"
	}
	return "", Errorf(KindLimit, op, "", "may not %s %s: it is outside the script's folder %s (allow it with --allow-fs PATH)", verb, path, in.opts.Root)
}

// resolveExisting follows symbolic links in the longest existing prefix of
// path, so a link inside the script's folder cannot lead outside it.
func resolveExisting(path string) string {
	rest := ""
	for p := path; ; {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return path
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// ReadFile reads a file the script may read, releasing the interpreter lock.
func ReadFile(th *starlark.Thread, op, path string) ([]byte, error) {
	abs, err := CheckPath(th, op, path, false)
	if err != nil {
		return nil, err
	}
	var data []byte
	Unlocked(th, func() { data, err = os.ReadFile(abs) })
	return data, err
}
