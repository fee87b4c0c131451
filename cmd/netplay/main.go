// Command netplay runs Starlark scripts whose modules are network protocols.
//
//	netplay run FILE [ARGS...]    run a script
//	netplay -c CODE [ARGS...]     run a one-liner
//	netplay [repl]                the interactive prompt
//	netplay test [PATHS...]       run test_* functions in *_test.star files
//	netplay grade TESTS...        grade submissions with them
//	netplay doc [MODULE]          print the reference
//	netplay version               print the version
//
// Exit status: 0 on success, 1 when the script fails, 2 on a usage error,
// or the code given to sys.exit.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

const usage = `usage:
  netplay run [FLAGS] FILE [ARGS...]   run a script
  netplay [FLAGS] -c CODE [ARGS...]    run CODE
  netplay [repl]                       the interactive prompt
  netplay test [FLAGS] [PATHS...]      run test_* functions of *_test.star files
  netplay grade TESTS... --submission DIR   grade a submission (netplay grade -h)
  netplay doc [-markdown] [MODULE]     print the reference of a module, or of all
  netplay version                      print the version

flags (run, -c, repl, test):
  --timeout D       end the script after D ("10s"; for test: each test, default 30s)
  --max-steps N     end the script after N Starlark execution steps
  --allow-fs PATH   also allow reading and writing files under PATH (repeatable)
  --seed N          seed random, so a run repeats
  --listen-any      servers given ":port" listen on every interface, not
                    only loopback (a line names each one that does)

sandbox flags (run; netplay grade starts its children with them):
  --allow-ports P,… network only on loopback and on these ports
  --max-memory SIZE end the script when it uses more memory ("256MiB"; also
                    for -c and test, which then run in a child process)
  --max-cpu D       end the script after D of CPU time
`

func main() {
	// NETPLAY_CPUPROFILE=FILE writes a CPU profile, for work on netplay itself.
	if path := os.Getenv("NETPLAY_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			code := Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError is a wrong command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main runs the command line args and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	commandLine = args
	code, err := dispatch(args, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		// netplay --help, -h, netplay run --help: asked for, so not an error.
		fmt.Fprint(stdout, usage)
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		if ue.msg != "" {
			fmt.Fprintf(stderr, "netplay: %s\n", ue.msg)
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "netplay: %v\n", err)
		return 1
	}
	return code
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	// Flags may come before the subcommand: netplay --seed 1 run x.star.
	fs, opts := newFlags("netplay")
	code := fs.String("c", "", "run `CODE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, err
		}
		return 0, usageError{}
	}
	args = fs.Args()
	if *code != "" {
		return runSource(opts, "<command-line>", *code, append([]string{"-c"}, args...), stdin, stdout, stderr)
	}
	if len(args) == 0 {
		return repl(opts, stdin, stdout, stderr)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runCmd(opts, rest, stdin, stdout, stderr)
	case "repl":
		rest, err := parseSub(opts, "repl", rest)
		if err != nil {
			return 0, err
		}
		if len(rest) > 0 {
			return 0, usageError{fmt.Sprintf("repl: unexpected arguments %q", rest)}
		}
		return repl(opts, stdin, stdout, stderr)
	case "test":
		return testCmd(opts, rest, stdout, stderr)
	case "grade":
		return gradeCmd(opts, rest, stdout, stderr)
	case "doc":
		return docCmd(rest, stdout)
	case "version":
		fmt.Fprintln(stdout, "netplay", versionString())
		return 0, nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0, nil
	}
	if strings.HasSuffix(cmd, ".star") {
		return runCmd(opts, args, stdin, stdout, stderr)
	}
	return 0, usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// options are the flags shared by the commands that run scripts.
type options struct {
	timeout  time.Duration
	maxSteps uint64
	allowFS  multiFlag
	// listenAny is --listen-any: ":port" means every interface.
	listenAny bool
	seed      *uint64

	// Sandbox flags for the children of netplay grade (sandbox.go).
	allowPorts *[]int // nil: no restriction
	maxMemory  int64
	maxCPU     time.Duration
	calls      bool
	boundFD    int // write "network port" lines there as allotted ports are bound
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

type seedFlag struct{ o *options }

func (s seedFlag) String() string { return "" }
func (s seedFlag) Set(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer")
	}
	u := uint64(n)
	s.o.seed = &u
	return nil
}

type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string { return "" }
func (f durationFlag) Set(v string) error {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		*f.d = time.Duration(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("want a duration such as 10s or 500ms")
	}
	*f.d = d
	return nil
}

func newFlags(name string) (*flag.FlagSet, *options) {
	o := &options{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addFlags(fs, o)
	return fs, o
}

func addFlags(fs *flag.FlagSet, o *options) {
	fs.Var(durationFlag{&o.timeout}, "timeout", "")
	fs.Uint64Var(&o.maxSteps, "max-steps", 0, "")
	fs.Var(&o.allowFS, "allow-fs", "")
	fs.Var(seedFlag{o}, "seed", "")
	fs.BoolVar(&o.listenAny, "listen-any", false, "")
	fs.Var(portsFlag{o}, "allow-ports", "")
	fs.Var(sizeFlag{&o.maxMemory}, "max-memory", "")
	fs.Var(durationFlag{&o.maxCPU}, "max-cpu", "")
	fs.BoolVar(&o.calls, "calls", false, "")
	fs.IntVar(&o.boundFD, "bound-fd", 0, "")
}

// parseSub reads the shared flags again after a subcommand, keeping those
// given before it, and returns the remaining arguments.
func parseSub(o *options, name string, args []string) ([]string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addFlags(fs, o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{fmt.Sprintf("%s: %v", name, err)}
	}
	return fs.Args(), nil
}

func runCmd(o *options, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	rest, err := parseSub(o, "run", args)
	if err != nil {
		return 0, err
	}
	if len(rest) == 0 {
		return 0, usageError{"run: missing script file"}
	}
	file := rest[0]
	src, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("run: %v", err)
	}
	return runSource(o, file, src, rest, stdin, stdout, stderr)
}

// newInterp builds an interpreter for a script at file (empty: none).
func newInterp(o *options, file string, argv []string, stdin io.Reader, stdout, stderr io.Writer) *lang.Interp {
	root, _ := os.Getwd()
	if file != "" && !strings.HasPrefix(file, "<") {
		if abs, err := filepath.Abs(file); err == nil {
			root = filepath.Dir(abs)
		}
	}
	var st stack.Stack = stack.OS
	if o.allowPorts != nil {
		st = stack.Restrict(st, *o.allowPorts, boundNotifier(o.boundFD))
	}
	return lang.New(lang.Options{
		Stack:       st,
		Stdin:       stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		Argv:        argv,
		MaxSteps:    o.maxSteps,
		Timeout:     o.timeout,
		Root:        root,
		AllowFS:     o.allowFS,
		ListenAny:   o.listenAny,
		Seed:        o.seed,
		Predeclared: modules.Universe(modules.Env{Stack: st, Argv: argv}),
		Docs:        grade.Docs(), // help(t) in a script that is also a test
	})
}

func runSource(o *options, file string, src any, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	return withMemoryLimit(o, stdin, stdout, stderr, func() (int, error) {
		in := newInterp(o, file, argv, stdin, stdout, stderr)
		defer in.Close()
		defer applyLimits(o, in)()
		globals, err := in.ExecFile(file, src)
		if o.calls {
			return serveCalls(in, globals, err), nil
		}
		return exitStatus(err, stderr), nil
	})
}

// exitStatus reports a script's failure on stderr and returns its exit status.
func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if code, ok := lang.ExitCode(err); ok {
		return code
	}
	var le *lang.Error
	if errors.As(err, &le) && le.Kind == lang.KindLimit && le.Op == "" {
		fmt.Fprintf(stderr, "netplay: limit: %s\n", le.Msg)
		return 1
	}
	fmt.Fprintln(stderr, lang.FormatError(err))
	return 1
}

func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("%s (%s)", v, strings.TrimPrefix(goVersion(), "go"))
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "go"
}
