// Package startest runs Starlark snippets in-process for Go tests of
// netplay modules, with the full predeclared environment.
package startest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Result is what a snippet printed and how it ended.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Timeout bounds each script's run; a test of a long experiment may raise
// it.
var Timeout = 60 * time.Second

// Run runs src as a script in a temporary folder (files maps names to
// contents to create there first) within Timeout, and returns what it
// printed and its error.
func Run(t testing.TB, src string, files map[string]string) Result {
	t.Helper()
	return run(t, stack.OS, t.TempDir(), src, files, []string{"test.star"}, Timeout)
}

// RunArgs is Run with sys.argv set to argv (argv[0] the script's name)
// and a timeout of its own: an experiment from scripts/ run with the
// arguments a user would give it.
func RunArgs(t testing.TB, argv []string, timeout time.Duration, src string) Result {
	t.Helper()
	return run(t, stack.OS, t.TempDir(), src, nil, argv, timeout)
}

// RunIn is Run in the folder dir, so the test can read what the script
// wrote there.
func RunIn(t testing.TB, dir, src string, files map[string]string) Result {
	t.Helper()
	return run(t, stack.OS, dir, src, files, []string{"test.star"}, Timeout)
}

// RunOn is Run with the script's modules on st instead of the OS stack,
// and a timeout of its own (as RunArgs), since what runs on a lab is often
// a long experiment.
func RunOn(t testing.TB, st stack.Stack, timeout time.Duration, src string, files map[string]string) Result {
	t.Helper()
	return run(t, st, t.TempDir(), src, files, []string{"test.star"}, timeout)
}

func run(t testing.TB, st stack.Stack, dir, src string, files map[string]string, argv []string, timeout time.Duration) Result {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	in := lang.New(lang.Options{
		Stdin:       bytes.NewReader(nil),
		Stdout:      &out,
		Stderr:      &errb,
		Argv:        argv,
		Timeout:     timeout,
		Root:        dir,
		Stack:       st,
		Predeclared: modules.Universe(modules.Env{Stack: st, Argv: argv}),
	})
	_, err := in.ExecFile(filepath.Join(dir, argv[0]), src)
	in.Close()
	// A lab clock step forced because lab work would not finish makes
	// results vary between runs: no test may pass with one.
	if strings.Contains(errb.String(), "lab: warning: forced") {
		t.Errorf("the lab clock was forced forward:\n%s", errb.String())
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// MustRun is Run that fails the test if the script fails, and returns what
// it printed.
func MustRun(t testing.TB, src string) string {
	t.Helper()
	r := Run(t, src, nil)
	if r.Err != nil {
		t.Fatalf("script failed: %s\nstdout:\n%s\nstderr:\n%s", lang.FormatError(r.Err), r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Scripts runs a module's binding tests the way `netplay test` runs them:
// the test_* functions of every *_test.star file in dir, each reported as
// a subtest, in a scratch copy of dir (so they may write files, and read
// the files beside them).
func Scripts(t *testing.T, dir string) {
	t.Helper()
	scratch := t.TempDir()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var tests []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a folder
		}
		dst := filepath.Join(scratch, filepath.Base(f))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, "_test.star") {
			tests = append(tests, dst)
		}
	}
	if len(tests) == 0 {
		t.Fatalf("no %s/*_test.star", dir)
	}
	for _, f := range tests {
		var out bytes.Buffer
		results := grade.RunFile(f, grade.Options{Timeout: Timeout, Stdout: &out, Stderr: &out})
		if len(results) == 0 {
			t.Errorf("%s has no test_* functions", filepath.Base(f))
		}
		for _, r := range results {
			name := r.Func
			if name == "" {
				name = "load"
			}
			t.Run(strings.TrimSuffix(filepath.Base(f), "_test.star")+"/"+name, func(t *testing.T) {
				if r.Status == grade.Skipped {
					t.Skip(r.Message)
				}
				if r.Status != grade.Passed {
					t.Errorf("%s: %s", r.Status, r.Output())
				}
				// A lab clock step forced because lab work would not
				// finish makes results vary between runs.
				if strings.Contains(r.Output(), "lab: warning: forced") {
					t.Errorf("the lab clock was forced forward:\n%s", r.Output())
				}
			})
		}
		if t.Failed() {
			t.Logf("%s printed:\n%s", filepath.Base(f), out.String())
		}
	}
}

// Script is the text of scripts/<name>, the repository's experiments, for
// tests that run one as a user would.
func Script(t testing.TB, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// A Burner keeps a CPU busy beside a script that must not notice.
type Burner int

const (
	alone Burner = iota - 1 // no burner: the run everything else is compared with
	// BurnProcess runs a shell loop in a process of its own (a stress-like
	// neighbour: it takes CPU time, not the lab's attention).
	BurnProcess
	// BurnGoroutine burns CPU in a goroutine of the test's own process,
	// which the lab's scheduler must recognise as unrelated work.
	BurnGoroutine
)

func (b Burner) String() string {
	if b == BurnGoroutine {
		return "goroutine"
	}
	return "process"
}

// Everywhere runs the script src (with sys.argv argv, each run within
// timeout) under every condition a lab experiment's output must not depend
// on: the lab's default processors, GOMAXPROCS 1, 2 and 8 (which the lab
// then leaves alone), each alone and beside each of burners (BurnProcess
// if none is given). Every run must succeed, force no clock step and print
// what the first printed; it returns that.
func Everywhere(t *testing.T, argv []string, timeout time.Duration, src string, burners ...Burner) string {
	t.Helper()
	if len(burners) == 0 {
		burners = []Burner{BurnProcess}
	}
	want := ""
	for _, procs := range []int{0, 1, 2, 8} {
		for _, burner := range append([]Burner{alone}, burners...) {
			name := fmt.Sprintf("GOMAXPROCS=%d", procs)
			if procs == 0 {
				name = "the lab's default processors"
			}
			if burner != alone {
				name += " beside a CPU-burning " + burner.String()
			}
			t.Run(name, func(t *testing.T) {
				if procs > 0 {
					t.Setenv("GOMAXPROCS", strconv.Itoa(procs)) // the lab leaves it alone
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				}
				switch burner {
				case BurnProcess:
					defer burnProcess(t)()
				case BurnGoroutine:
					defer burnGoroutine()()
				}
				start := time.Now()
				r := RunArgs(t, argv, timeout, src)
				if r.Err != nil {
					t.Fatalf("%s\n%s%s", lang.FormatError(r.Err), r.Stdout, r.Stderr)
				}
				t.Logf("%s in %v", name, time.Since(start))
				if want == "" {
					want = r.Stdout
				} else if r.Stdout != want {
					t.Errorf("output differs:\n%s\nfirst run:\n%s", r.Stdout, want)
				}
			})
		}
	}
	return want
}

// burnProcess starts a shell loop that burns a CPU and returns what stops
// it. The loop is the shell itself (no wrapper whose death would orphan
// it), and it dies with the test process should the test never stop it.
func burnProcess(t *testing.T) (stop func()) {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a CPU burner: %v", err)
	}
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// burnGoroutine keeps a goroutine computing until the returned function is
// called.
func burnGoroutine() (stop func()) {
	done := make(chan struct{})
	var x atomic.Uint64
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			for i := 0; i < 1e5; i++ {
				x.Add(1)
			}
		}
	}()
	return func() { close(done) }
}
