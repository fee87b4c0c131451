package lang

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
)

// The file sandbox. A path is allowed when, with every symbolic link in its
// existing part resolved, it lies inside the script's folder or a folder
// allowed with --allow-fs. The check alone is not enough: a link the check
// could not follow (one whose target does not exist yet) or a component
// swapped for a link after the check would lead outside. So every file is
// then opened through an os.Root on the allowed folder, which resolves each
// component itself and refuses any that leaves the folder.

// CheckPath resolves path (relative to the script's folder) and checks that
// the script may use it: files inside the script's folder, or inside a
// folder allowed with --allow-fs. op names the builtin for the error. It
// returns the absolute path. Code that then opens the path should use
// OpenFile, CreateFile or OpenDir instead, which also confine the open.
func CheckPath(th *starlark.Thread, op, path string, write bool) (string, error) {
	abs, _, _, err := locate(th, op, path, write)
	return abs, err
}

// locate checks path as CheckPath does and returns the allowed folder (with
// its links resolved) it lies in and its path relative to that folder.
func locate(th *starlark.Thread, op, path string, write bool) (abs, root, rel string, err error) {
	in := InterpOf(th)
	abs = path
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
		if real == d {
			return abs, d, ".", nil
		}
		if strings.HasPrefix(real, d+string(filepath.Separator)) || d == string(filepath.Separator) {
			r, err := filepath.Rel(d, real)
			if err != nil {
				continue
			}
			return abs, d, r, nil
		}
	}
	return "", "", "", outside(in, op, path, write)
}

func outside(in *Interp, op, path string, write bool) error {
	verb := "read"
	if write {
		verb = "write"
	}
	return Errorf(KindLimit, op, "", "may not %s %s: it is outside the script's folder %s (allow it with --allow-fs PATH)", verb, path, in.opts.Root)
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

// escaped tells whether an os.Root refused a path because it leads out of
// the root (through a link, possibly one created after the check).
func escaped(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes")
}

// OpenFile opens a file the script may use, as os.OpenFile does, with the
// interpreter lock released. Every component of the path is resolved inside
// the allowed folder, so no link, dangling or not, leads outside it. op
// names the builtin for errors. This is the one way builtins touch files.
func OpenFile(th *starlark.Thread, op, path string, flag int, perm os.FileMode) (*os.File, error) {
	write := flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0
	_, dir, rel, err := locate(th, op, path, write)
	if err != nil {
		return nil, err
	}
	var f *os.File
	Unlocked(th, func() {
		var root *os.Root
		if root, err = os.OpenRoot(dir); err != nil {
			return
		}
		defer root.Close()
		f, err = root.OpenFile(rel, flag, perm)
	})
	if escaped(err) {
		return nil, outside(InterpOf(th), op, path, write)
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %s: %v", op, path, err)
	}
	return f, nil
}

// CreateFile creates (or truncates) a file the script may write.
func CreateFile(th *starlark.Thread, op, path string) (*os.File, error) {
	return OpenFile(th, op, path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// WriteFile writes data to a file the script may write.
func WriteFile(th *starlark.Thread, op, path string, data []byte) error {
	f, err := CreateFile(th, op, path)
	if err != nil {
		return err
	}
	Unlocked(th, func() {
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	})
	if err != nil {
		return fmt.Errorf("%s: %s: %v", op, path, err)
	}
	return nil
}

// OpenDir opens a folder the script may read as an os.Root, so that what is
// later opened inside it stays inside it.
func OpenDir(th *starlark.Thread, op, path string) (*os.Root, error) {
	_, dir, rel, err := locate(th, op, path, false)
	if err != nil {
		return nil, err
	}
	var r *os.Root
	Unlocked(th, func() {
		var root *os.Root
		if root, err = os.OpenRoot(dir); err != nil {
			return
		}
		defer root.Close()
		r, err = root.OpenRoot(rel)
	})
	if escaped(err) {
		return nil, outside(InterpOf(th), op, path, false)
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %s: %v", op, path, err)
	}
	return r, nil
}

// ReadFile reads a file the script may read, releasing the interpreter lock.
func ReadFile(th *starlark.Thread, op, path string) ([]byte, error) {
	f, err := OpenFile(th, op, path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	var data []byte
	Unlocked(th, func() {
		data, err = io.ReadAll(f)
		f.Close()
	})
	return data, err
}
