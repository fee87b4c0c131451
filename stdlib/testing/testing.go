// Package testing runs netplay's Starlark tests: every test_* function of
// every *_test.star file, each given a t with assertion helpers and its own
// time limit. `netplay test` is its command line.
package testing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Options configure a test run.
type Options struct {
	Timeout  time.Duration // per test; 0 means 30s
	MaxSteps uint64
	AllowFS  []string
	Seed     *uint64
	Stdout   io.Writer
	Stderr   io.Writer
}

// Summary counts a run's tests.
type Summary struct{ Passed, Failed, Skipped int }

// Find lists the *_test.star files under paths (files or folders), sorted.
func Find(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.star") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// Run runs the tests of files and prints a line per test and a closing
// "N passed, M failed" line.
func Run(files []string, opts Options) Summary {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	var sum Summary
	for _, f := range files {
		runFile(f, opts, &sum)
	}
	line := fmt.Sprintf("%d passed, %d failed", sum.Passed, sum.Failed)
	if sum.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", sum.Skipped)
	}
	fmt.Fprintln(opts.Stdout, line)
	return sum
}

func runFile(file string, opts Options, sum *Summary) {
	abs, _ := filepath.Abs(file)
	argv := []string{file}
	in := lang.New(lang.Options{
		Stdin:       strings.NewReader(""),
		Stdout:      opts.Stdout,
		Stderr:      opts.Stderr,
		Argv:        argv,
		MaxSteps:    opts.MaxSteps,
		Root:        filepath.Dir(abs),
		AllowFS:     opts.AllowFS,
		Seed:        opts.Seed,
		Predeclared: modules.Universe(modules.Env{Argv: argv}),
	})
	defer in.Close()
	globals, err := in.ExecFile(file, nil)
	if err != nil {
		sum.Failed++
		fmt.Fprintf(opts.Stdout, "FAIL  %s (loading)\n%s\n", file, indent(lang.FormatError(err)))
		return
	}
	var names []string
	for name, v := range globals {
		if _, ok := v.(*starlark.Function); ok && strings.HasPrefix(name, "test_") {
			names = append(names, name)
		}
	}
	// In source order, so the output reads like the file.
	sort.Slice(names, func(i, j int) bool {
		return globals[names[i]].(*starlark.Function).Position().Line < globals[names[j]].(*starlark.Function).Position().Line
	})
	for _, name := range names {
		runTest(in, file, name, globals[name].(*starlark.Function), opts, sum)
	}
}

func runTest(in *lang.Interp, file, name string, fn *starlark.Function, opts Options, sum *Summary) {
	t := &T{name: name}
	ctx, cancel := context.WithTimeoutCause(in.Context(), opts.Timeout,
		lang.Errorf(lang.KindLimit, "", "", "test exceeded its time limit of %s", lang.FormatDuration(opts.Timeout)))
	defer cancel()
	start := time.Now()
	in.Lock()
	th := in.NewThread(name, ctx)
	var args starlark.Tuple
	if fn.NumParams() > 0 {
		args = starlark.Tuple{t}
	}
	_, err := starlark.Call(th, fn, args, nil)
	in.EndThread(th)
	in.Unlock()
	if err != nil && ctx.Err() != nil && context.Cause(ctx) != nil {
		err = context.Cause(ctx)
	}
	elapsed := time.Since(start).Seconds()
	label := fmt.Sprintf("%s::%s", file, name)
	var sk *skipped
	var fl *failure
	switch {
	case err == nil:
		sum.Passed++
		fmt.Fprintf(opts.Stdout, "ok    %s (%.2fs)\n", label, elapsed)
	case errors.As(err, &sk):
		sum.Skipped++
		fmt.Fprintf(opts.Stdout, "skip  %s: %s\n", label, sk.reason)
	case errors.As(err, &fl):
		sum.Failed++
		fmt.Fprintf(opts.Stdout, "FAIL  %s (%.2fs)\n    %s: %s\n", label, elapsed, fl.pos, fl.msg)
	default:
		sum.Failed++
		fmt.Fprintf(opts.Stdout, "FAIL  %s (%.2fs)\n%s\n", label, elapsed, indent(lang.FormatError(err)))
	}
	for _, l := range t.logs {
		fmt.Fprintf(opts.Stdout, "    log: %s\n", l)
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// failure ends a test that an assertion failed.
type failure struct {
	pos syntax.Position
	msg string
}

func (f *failure) Error() string { return f.pos.String() + ": " + f.msg }

// skipped ends a test that skipped itself.
type skipped struct{ reason string }

func (s *skipped) Error() string { return "skipped: " + s.reason }

// T is the t a test function receives.
type T struct {
	name string
	logs []string
}

var tMethods = lang.NewMethods("testing.t", `testing.t

What each test_* function of a *_test.star file receives: assertions that
end the test with a message naming the line, skip, and log.

    def test_upper(t):
        t.eq("abc".upper(), "ABC")`,
	lang.Method("t.eq", `eq(got, want, msg="")

Fails the test unless got == want.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var got, want starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "got", &got, "want", &want, "msg?", &msg); err != nil {
			return nil, err
		}
		eq, err := starlark.Equal(got, want)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		if !eq {
			return nil, fail(th, msg, "got %s, want %s", repr(got), repr(want))
		}
		return starlark.None, nil
	}),
	lang.Method("t.ne", `ne(got, unwanted, msg="")

Fails the test if got == unwanted.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var got, bad starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "got", &got, "unwanted", &bad, "msg?", &msg); err != nil {
			return nil, err
		}
		eq, err := starlark.Equal(got, bad)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		if eq {
			return nil, fail(th, msg, "got %s, want anything else", repr(got))
		}
		return starlark.None, nil
	}),
	lang.Method("t.true", `true(x, msg="")

Fails the test unless x is true.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x, "msg?", &msg); err != nil {
			return nil, err
		}
		if !x.Truth() {
			return nil, fail(th, msg, "got %s, want a true value", repr(x))
		}
		return starlark.None, nil
	}),
	lang.Method("t.false", `false(x, msg="")

Fails the test unless x is false.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		msg := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x, "msg?", &msg); err != nil {
			return nil, err
		}
		if x.Truth() {
			return nil, fail(th, msg, "got %s, want a false value", repr(x))
		}
		return starlark.None, nil
	}),
	lang.Method("t.fail", `fail(msg)

Fails the test with msg.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		msg := "failed"
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg?", &msg); err != nil {
			return nil, err
		}
		return nil, fail(th, "", "%s", msg)
	}),
	lang.Method("t.skip", `skip(reason="")

Ends the test, counted as skipped.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		reason := ""
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "reason?", &reason); err != nil {
			return nil, err
		}
		return nil, &skipped{reason}
	}),
	lang.Method("t.log", `log(*args)

Records a line printed under the test's result.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		t, _ := lang.Receiver[*T](b)
		parts := make([]string, len(args))
		for i, a := range args {
			if s, ok := starlark.AsString(a); ok {
				parts[i] = s
			} else {
				parts[i] = a.String()
			}
		}
		t.logs = append(t.logs, strings.Join(parts, " "))
		return starlark.None, nil
	}),
)

func repr(v starlark.Value) string { return v.String() }

// fail builds the failure of the assertion, naming the test's line that
// called it.
func fail(th *starlark.Thread, msg, format string, args ...any) error {
	text := fmt.Sprintf(format, args...)
	if msg != "" {
		text = msg + ": " + text
	}
	return &failure{pos: th.CallFrame(1).Pos, msg: text}
}

func (t *T) String() string        { return fmt.Sprintf("<testing.t %s>", t.name) }
func (t *T) Type() string          { return "testing.t" }
func (t *T) Freeze()               {}
func (t *T) Truth() starlark.Bool  { return true }
func (t *T) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: testing.t") }
func (t *T) AttrNames() []string   { return append(tMethods.Names(), "name") }
func (t *T) Attr(name string) (starlark.Value, error) {
	if name == "name" {
		return starlark.String(t.name), nil
	}
	return tMethods.Attr(t, name), nil
}
