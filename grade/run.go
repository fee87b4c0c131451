// Package grade runs netplay's Starlark tests and grades submissions with
// them: every test_* function of a *_test.star file, each in a fresh
// interpreter with its own time and step budget, given a t with assertion
// helpers and, when grading, points, partial credit and sandboxed child
// processes running the submission. `netplay test` and `netplay grade` are
// its command lines.
package grade

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"go.starlark.net/starlark"
)

// Options configure a test run or a grading run.
type Options struct {
	Timeout  time.Duration // per test, loading the file included; 0 means 30s
	MaxSteps uint64        // per test
	AllowFS  []string
	Seed     *uint64
	Stdout   io.Writer // where tests print; nil discards
	Stderr   io.Writer

	// Submission is the folder of the submission being graded; "" in
	// netplay test, where t.start and t.load take paths relative to the
	// test file.
	Submission string
	// Netplay starts a child netplay: the executable and the argv[0] to
	// give it. Empty: this executable as "netplay".
	Netplay []string
	// Limits bound each child process.
	Limits Limits
	// Ports allots loopback ports; nil: a process-wide allotter.
	Ports *Ports
}

func (o *Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 30 * time.Second
	}
	return o.Timeout
}

// Status of a test.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped"
)

// Result is one test's outcome.
type Result struct {
	File       string // the test file, as given
	Func       string // test_x
	Name       string // t.name(...) or Func
	Number     int    // 1, 2, … in the file's order
	Status     string // Passed, Failed or Skipped
	Score      float64
	MaxScore   float64
	Message    string   // why it failed or was skipped, in the student's terms
	Where      string   // file:line of a failed assertion
	Logs       []string // t.log lines
	Diag       []string // background failures: handler and task tracebacks
	Children   []string // each child's command, status and output
	Tags       []string
	Visibility string
	Duration   time.Duration
}

// Output is the text a student sees for the test: what failed, logs,
// background failures and the children's output.
func (r *Result) Output() string {
	var b strings.Builder
	if r.Message != "" {
		if r.Where != "" {
			b.WriteString(r.Where + ": ")
		}
		b.WriteString(r.Message + "\n")
	}
	for _, l := range r.Logs {
		b.WriteString("log: " + l + "\n")
	}
	for _, d := range r.Diag {
		b.WriteString("background failure: " + strings.TrimRight(d, "\n") + "\n")
	}
	for _, c := range r.Children {
		b.WriteString(strings.TrimRight(c, "\n") + "\n")
	}
	return b.String()
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

// Run runs the tests of files as `netplay test` does: a line per test and
// a closing "N passed, M failed" line on opts.Stdout.
func Run(files []string, opts Options) Summary {
	var sum Summary
	out := opts.Stdout
	if out == nil {
		out = io.Discard
	}
	for _, f := range files {
		for _, r := range RunFile(f, opts) {
			printResult(out, &r)
			switch r.Status {
			case Passed:
				sum.Passed++
			case Skipped:
				sum.Skipped++
			default:
				sum.Failed++
			}
		}
	}
	line := fmt.Sprintf("%d passed, %d failed", sum.Passed, sum.Failed)
	if sum.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", sum.Skipped)
	}
	fmt.Fprintln(out, line)
	return sum
}

func printResult(w io.Writer, r *Result) {
	label := r.File + "::" + r.Func
	if r.Func == "" {
		label = r.File + " (loading)"
	}
	switch r.Status {
	case Passed:
		fmt.Fprintf(w, "ok    %s (%.2fs)\n", label, r.Duration.Seconds())
	case Skipped:
		fmt.Fprintf(w, "skip  %s: %s\n", label, r.Message)
	default:
		fmt.Fprintf(w, "FAIL  %s (%.2fs)\n", label, r.Duration.Seconds())
		if r.Where != "" {
			fmt.Fprintf(w, "    %s: %s\n", r.Where, r.Message)
		} else {
			fmt.Fprintln(w, indent(r.Message))
		}
	}
	for _, l := range r.Logs {
		fmt.Fprintf(w, "    log: %s\n", l)
	}
	for _, d := range r.Diag {
		fmt.Fprintln(w, indent("background failure: "+strings.TrimRight(d, "\n")))
	}
	if r.Status != Passed {
		for _, c := range r.Children {
			fmt.Fprintln(w, indent(strings.TrimRight(c, "\n")))
		}
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// RunFile runs every test of one file, each in a fresh interpreter: the
// file's top level runs again for each test, so tests share nothing — a
// server, a task or a changed global of one test is gone in the next, and
// each has the whole time and step budget. Loading is covered by the time
// limit too.
func RunFile(file string, opts Options) []Result {
	opts.Timeout = opts.timeout()
	first := newSession(file, &opts)
	globals, err := first.exec()
	if err != nil {
		first.close()
		msg := lang.FormatError(err)
		if first.timedOut() {
			msg = fmt.Sprintf("loading the file took longer than the time limit of %s: does a load()ed file loop at top level, like a server? Start it with t.start(path) instead.", lang.FormatDuration(opts.Timeout))
		}
		return []Result{{File: file, Name: file, Status: Failed, Message: msg, Duration: first.elapsed()}}
	}
	names := testNames(globals)
	var results []Result
	for i, name := range names {
		s := first
		if i > 0 {
			s = newSession(file, &opts)
			if globals, err = s.exec(); err != nil {
				s.close()
				results = append(results, Result{File: file, Func: name, Name: name, Status: Failed,
					Message: "loading the file again for this test failed: " + lang.FormatError(err), MaxScore: 1})
				continue
			}
		}
		fn, ok := globals[name].(*starlark.Function)
		if !ok {
			s.close()
			continue
		}
		r := s.run(fn)
		r.Number = i + 1
		results = append(results, r)
	}
	if len(names) == 0 {
		first.close()
	}
	return results
}

// testNames lists the test_* functions in source order, so the output reads
// like the file.
func testNames(globals starlark.StringDict) []string {
	var names []string
	for name, v := range globals {
		if _, ok := v.(*starlark.Function); ok && strings.HasPrefix(name, "test_") {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		return globals[names[i]].(*starlark.Function).Position().Line < globals[names[j]].(*starlark.Function).Position().Line
	})
	return names
}

// session is one test's interpreter, from loading the file to the end of
// the test.
type session struct {
	file  string
	opts  *Options
	in    *lang.Interp
	diag  *diagWriter
	t     *T
	start time.Time
	limit error
	timer *time.Timer
	mu    sync.Mutex
	fired bool
}

func newSession(file string, opts *Options) *session {
	s := &session{file: file, opts: opts, diag: &diagWriter{}, start: time.Now()}
	abs, _ := filepath.Abs(file)
	root := filepath.Dir(abs)
	// A test file in tests/ may load ../lib.star: in netplay test the
	// working folder is the project, when the file is inside it.
	if wd, err := os.Getwd(); err == nil && opts.Submission == "" && strings.HasPrefix(abs, wd+string(filepath.Separator)) {
		root = wd
	}
	allow := append([]string(nil), opts.AllowFS...)
	if opts.Submission != "" {
		allow = append(allow, opts.Submission)
	}
	seed := opts.Seed
	if seed == nil && opts.Submission != "" {
		one := uint64(1) // grading repeats: the same random numbers every rerun
		seed = &one
	}
	stdout := opts.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	argv := []string{file}
	s.in = lang.New(lang.Options{
		Stdin:       strings.NewReader(""),
		Stdout:      stdout,
		Stderr:      s.diag,
		Argv:        argv,
		MaxSteps:    opts.MaxSteps,
		Root:        root,
		AllowFS:     allow,
		Seed:        seed,
		Predeclared: modules.Universe(modules.Env{Argv: argv}),
		Docs:        Docs(),
	})
	s.t = newT(s)
	s.limit = lang.Errorf(lang.KindLimit, "", "", "test exceeded its time limit of %s", lang.FormatDuration(opts.Timeout))
	s.timer = time.AfterFunc(opts.Timeout, func() {
		s.mu.Lock()
		s.fired = true
		s.mu.Unlock()
		s.in.Abort(s.limit)
	})
	return s
}

func (s *session) timedOut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired
}

func (s *session) elapsed() time.Duration { return time.Since(s.start) }

// grace is how long a test may take to stop once its time is up, before
// its interpreter is abandoned (a builtin that does not watch its context).
const grace = 3 * time.Second

// guarded runs fn holding the interpreter lock on a thread of the session,
// and gives up on it when it does not stop after the time limit.
func (s *session) guarded(name string, fn func(th *starlark.Thread) error) error {
	done := make(chan error, 1)
	go func() {
		s.in.Lock()
		th := s.in.NewThread(name, nil)
		err := fn(th)
		s.in.EndThread(th)
		s.in.Unlock()
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && s.in.Cause() != nil {
			if _, exit := lang.ExitCode(err); !exit {
				err = s.in.Cause()
			}
		}
		return err
	case <-s.in.Context().Done():
	}
	select {
	case err := <-done:
		if err != nil {
			if _, exit := lang.ExitCode(err); !exit {
				err = s.in.Cause()
			}
		}
		return err
	case <-time.After(grace):
		return fmt.Errorf("%v, and it did not stop within %s after that", s.in.Cause(), lang.FormatDuration(grace))
	}
}

func (s *session) exec() (starlark.StringDict, error) {
	var globals starlark.StringDict
	err := s.guarded("load "+s.file, func(th *starlark.Thread) error {
		var err error
		globals, err = s.in.ExecModule(th, s.file, nil)
		return err
	})
	return globals, err
}

// run calls the test function and closes the session.
func (s *session) run(fn *starlark.Function) Result {
	t := s.t
	t.fn = fn.Name()
	err := s.guarded(fn.Name(), func(th *starlark.Thread) error {
		var args starlark.Tuple
		if fn.NumParams() > 0 {
			args = starlark.Tuple{t}
		}
		_, err := starlark.Call(th, fn, args, nil)
		return err
	})
	s.timer.Stop()
	timedOut := s.timedOut()
	// Stop the children before reading their output, so it is complete.
	s.close()
	r := Result{
		File:       s.file,
		Func:       t.fn,
		Name:       t.displayName(),
		MaxScore:   t.points,
		Tags:       t.tags,
		Visibility: t.visibility,
		Duration:   s.elapsed(),
		Logs:       t.logs,
		Diag:       s.diag.entries(),
		Children:   t.childReports(),
	}
	var sk *skipped
	var fl *failure
	switch {
	case err == nil:
		r.Status, r.Score = Passed, t.points
	case errors.As(err, &sk):
		r.Status, r.Message = Skipped, sk.reason
	case errors.As(err, &fl):
		r.Status, r.Where, r.Message = Failed, fl.pos.String(), fl.msg
	default:
		r.Status, r.Message = Failed, t.explain(err, timedOut)
	}
	if r.Status != Passed {
		r.Score = min(t.credit, t.points)
	}
	r.Score, r.MaxScore = round(r.Score), round(r.MaxScore)
	return r
}

// close stops what the test started: its children and its interpreter.
func (s *session) close() {
	s.timer.Stop()
	s.t.stopChildren()
	s.in.Close()
	s.t.releasePorts()
}

// diagWriter keeps what the interpreter writes on standard error during a
// test — a server handler's or a task's traceback — so the test reports it
// (t.errors(), and under the test's result) instead of it scrolling by.
type diagWriter struct {
	mu   sync.Mutex
	list []string
	size int
}

const maxDiag = 64 << 10

func (d *diagWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.size < maxDiag {
		text := string(p)
		if d.size+len(text) > maxDiag {
			text = text[:maxDiag-d.size] + "… (cut)"
		}
		d.list = append(d.list, text)
		d.size += len(text)
	}
	return len(p), nil
}

func (d *diagWriter) entries() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.list...)
}
