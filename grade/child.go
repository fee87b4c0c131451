package grade

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"go.starlark.net/starlark"
)

// Limits bound each child process a test starts.
type Limits struct {
	CPU    time.Duration // CPU time; 0: 10s
	Memory int64         // bytes; 0: 256 MiB
	Output int           // bytes kept of each of stdout and stderr; 0: 64 KiB
	Steps  uint64        // Starlark steps; 0: no limit
}

func (l Limits) cpu() time.Duration {
	if l.CPU <= 0 {
		return 10 * time.Second
	}
	return l.CPU
}

func (l Limits) memory() int64 {
	if l.Memory <= 0 {
		return 256 << 20
	}
	return l.Memory
}

func (l Limits) output() int {
	if l.Output <= 0 {
		return 64 << 10
	}
	return l.Output
}

// capBuf keeps the first max bytes written to it and counts the rest, so a
// child printing forever costs no memory.
type capBuf struct {
	mu      sync.Mutex
	b       []byte
	max     int
	dropped int64
}

func (c *capBuf) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - len(c.b)
	if room >= len(p) {
		c.b = append(c.b, p...)
	} else {
		if room > 0 {
			c.b = append(c.b, p[:room]...)
		}
		c.dropped += int64(len(p) - max(room, 0))
	}
	return len(p), nil
}

func (c *capBuf) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := string(c.b)
	if c.dropped > 0 {
		s += fmt.Sprintf("\n… (%d more bytes not kept)", c.dropped)
	}
	return s
}

// Process is a child netplay running a submission's script.
type Process struct {
	script string // as the test named it
	server bool   // started by t.start, to run beside the test
	args   []string
	cmd    *exec.Cmd
	stdout *capBuf
	stderr *capBuf
	done   chan struct{}
	limits Limits
	wall   time.Duration

	boundR  *os.File      // the child's --bound-fd pipe
	boundCh chan struct{} // closed and replaced each time a port is bound
	ports   map[int]bool  // the allotted ports the child has bound

	mu      sync.Mutex
	code    int
	killed  bool // by the test or at its end
	wallHit bool
	sig     syscall.Signal
}

// netplayCmd is how a child netplay is started.
func (o *Options) netplayCmd() (path, argv0 string, err error) {
	if len(o.Netplay) > 0 {
		argv0 = o.Netplay[0]
		if len(o.Netplay) > 1 {
			argv0 = o.Netplay[1]
		}
		return o.Netplay[0], argv0, nil
	}
	exe, err := os.Executable()
	return exe, "netplay", err
}

// resolve finds a submission's file; it must stay inside the folder.
func (t *T) resolve(op, path string) (string, error) {
	dir := t.folder()
	abs := filepath.Clean(filepath.Join(dir, path))
	if filepath.IsAbs(path) {
		abs = filepath.Clean(path)
	}
	if abs != dir && !strings.HasPrefix(abs, dir+string(filepath.Separator)) {
		return "", lang.Errorf(lang.KindArgument, op, "", "%s is outside the submission's folder", path)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", lang.Errorf(lang.KindScript, op, "", "the submission has no file %s", path)
	}
	return abs, nil
}

// spawnChild starts netplay run (or, with calls, the t.load server) on a
// submission's file.
func (t *T) spawnChild(op, path string, args []string, stdin *string, wall time.Duration, calls bool) (*Process, error) {
	abs, err := t.resolve(op, path)
	if err != nil {
		return nil, err
	}
	exe, argv0, err := t.s.opts.netplayCmd()
	if err != nil {
		return nil, fmt.Errorf("%s: cannot find the netplay executable: %v", op, err)
	}
	lim := t.s.opts.Limits
	seed := uint64(1)
	if t.s.opts.Seed != nil {
		seed = *t.s.opts.Seed
	}
	ports := make([]string, 0, len(t.ports))
	for _, p := range t.portNumbers() {
		ports = append(ports, strconv.Itoa(p))
	}
	argv := []string{argv0, "run",
		"--timeout", (wall + time.Second).String(),
		"--seed", strconv.FormatUint(seed, 10),
		"--max-memory", strconv.FormatInt(lim.memory(), 10),
		"--max-cpu", lim.cpu().String(),
		"--allow-ports", "," + strings.Join(ports, ","),
		"--bound-fd", "3",
	}
	if lim.Steps > 0 {
		argv = append(argv, "--max-steps", strconv.FormatUint(lim.Steps, 10))
	}
	if calls {
		argv = append(argv, "--calls")
	}
	// Named relative to the submission, so tracebacks read as the student's.
	rel, err := filepath.Rel(t.folder(), abs)
	if err != nil {
		rel = abs
	}
	argv = append(argv, rel)
	argv = append(argv, args...)
	p := &Process{script: path, args: args, stdout: &capBuf{max: lim.output()}, stderr: &capBuf{max: lim.output()},
		done: make(chan struct{}), limits: lim, wall: wall}
	p.cmd = &exec.Cmd{
		Path: exe,
		Args: argv,
		Dir:  t.folder(),
		// One P: the script runs under one interpreter lock anyway, and a
		// child starts about a tenth cheaper without the extra threads.
		// NETPLAY_MEMORY_CHILD: the child enforces --max-memory in itself
		// rather than in a child of its own; the grader reads its end.
		Env:    []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.folder(), "NO_COLOR=1", "LANG=C.UTF-8", "GOMAXPROCS=1", "NETPLAY_MEMORY_CHILD=1"},
		Stdout: p.stdout,
		Stderr: p.stderr,
		// The child dies with the grader, and a Ctrl-C at the terminal is
		// the grader's to handle.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	}
	if stdin != nil {
		p.cmd.Stdin = strings.NewReader(*stdin)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.boundR, p.boundCh, p.ports = r, make(chan struct{}), map[int]bool{}
	p.cmd.ExtraFiles = []*os.File{w}
	return p, nil
}

// watchBound reads the child's notes of the ports it binds.
func (p *Process) watchBound() {
	sc := bufio.NewScanner(p.boundR)
	for sc.Scan() {
		var network string
		var port int
		if _, err := fmt.Sscanf(sc.Text(), "%s %d", &network, &port); err != nil {
			continue
		}
		p.mu.Lock()
		p.ports[port] = true
		close(p.boundCh)
		p.boundCh = make(chan struct{})
		p.mu.Unlock()
	}
	p.boundR.Close()
}

// hasBound reports whether the child bound port, and a channel closed at
// its next bind.
func (p *Process) hasBound(port int) (bool, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ports[port], p.boundCh
}

func (p *Process) begin() error {
	err := p.cmd.Start()
	for _, f := range p.cmd.ExtraFiles {
		f.Close() // the child's ends
	}
	if err != nil {
		p.boundR.Close()
		return err
	}
	go p.watchBound()
	// A backstop: the child ends itself at its --timeout.
	backstop := time.AfterFunc(p.wall+3*time.Second, func() {
		p.mu.Lock()
		p.wallHit = true
		p.mu.Unlock()
		p.cmd.Process.Kill()
	})
	go func() {
		err := p.cmd.Wait()
		backstop.Stop()
		p.mu.Lock()
		p.code = p.cmd.ProcessState.ExitCode()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.sig = ws.Signal()
			}
		}
		p.mu.Unlock()
		close(p.done)
	}()
	return nil
}

func (p *Process) stillRunning() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *Process) kill() {
	if p.stillRunning() {
		p.mu.Lock()
		p.killed = true
		p.mu.Unlock()
		p.cmd.Process.Kill()
	}
	<-p.done
}

// exitSummary says, in the student's terms, how the child ended; "" while
// it runs or when it was stopped by the test.
func (p *Process) exitSummary() string {
	if p.stillRunning() {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	errText := p.stderr.String()
	name := "your program " + p.script
	switch {
	case strings.Contains(errText, "exceeded its memory limit"), strings.Contains(errText, "out of memory"),
		strings.Contains(errText, "cannot allocate memory"), strings.HasPrefix(errText, "SIGSEGV: segmentation violation"),
		strings.Contains(errText, "\nSIGSEGV: segmentation violation"):
		return fmt.Sprintf("%s used more than %s of memory and was stopped", name, formatBytes(p.limits.memory()))
	case p.sig == syscall.SIGXCPU, strings.Contains(errText, "exceeded its CPU time limit"):
		return fmt.Sprintf("%s used more than %s of CPU time and was stopped", name, lang.FormatDuration(p.limits.cpu()))
	case p.wallHit, strings.Contains(errText, "exceeded its time limit"):
		return fmt.Sprintf("%s ran longer than %s and was stopped", name, lang.FormatDuration(p.wall))
	case strings.Contains(errText, "exceeded its step limit"):
		return fmt.Sprintf("%s ran more than %d steps and was stopped", name, p.limits.Steps)
	case p.killed:
		return ""
	case p.sig != 0:
		return fmt.Sprintf("%s was killed by signal %v", name, p.sig)
	case p.code != 0:
		return fmt.Sprintf("%s exited with code %d", name, p.code)
	}
	return fmt.Sprintf("%s exited", name)
}

// report is the child's part of a test's output: how it ended and what it
// printed, without a Go runtime dump.
func (p *Process) report() string {
	var b strings.Builder
	status := p.exitSummary()
	if status == "" {
		status = "stopped at the end of the test"
	}
	fmt.Fprintf(&b, "--- %s", strings.Join(append([]string{p.script}, p.args...), " "))
	fmt.Fprintf(&b, " (%s)\n", status)
	if out := p.stdout.String(); out != "" {
		b.WriteString("stdout:\n" + indentBy(out, "  ") + "\n")
	}
	if errText := cleanStderr(p.stderr.String()); errText != "" {
		b.WriteString("stderr:\n" + indentBy(errText, "  ") + "\n")
	}
	return b.String()
}

// cleanStderr drops what the Go runtime prints when it dies (a memory
// bomb hitting the address-space limit): the student needs the verdict.
func cleanStderr(s string) string {
	// Under its memory limit a child may also fault inside the runtime.
	for _, mark := range []string{"fatal error: runtime: out of memory", "runtime: out of memory", "fatal error:", "SIGSEGV: segmentation violation", "unexpected fault address", "runtime/cgo: ", "SIGABRT: abort"} {
		if i := strings.Index(s, mark); i >= 0 {
			return strings.TrimRight(s[:i], "\n")
		}
	}
	return strings.TrimRight(s, "\n")
}

func indentBy(s, pad string) string {
	return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
}

func formatBytes(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func (t *T) stopChildren() {
	var wg sync.WaitGroup
	for _, p := range t.children {
		wg.Add(1)
		go func() { defer wg.Done(); p.kill() }()
	}
	wg.Wait()
}

func (t *T) childReports() []string {
	var out []string
	for _, p := range t.children {
		out = append(out, p.report())
	}
	return out
}

// childArgs unpacks path, args and stdin, shared by t.start and t.run.
func childArgs(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, extra ...any) (path string, argv []string, stdin *string, err error) {
	var argsV starlark.Value = starlark.NewList(nil)
	var stdinV starlark.Value = starlark.None
	spec := []any{"path", &path, "args?", &argsV, "stdin?", &stdinV}
	spec = append(spec, extra...)
	if err = starlark.UnpackArgs(b.Name(), args, kwargs, spec...); err != nil {
		return
	}
	if it, ok := argsV.(starlark.Iterable); ok {
		iter := it.Iterate()
		defer iter.Done()
		var x starlark.Value
		for iter.Next(&x) {
			switch x := x.(type) {
			case starlark.String:
				argv = append(argv, string(x))
			case starlark.Int:
				argv = append(argv, x.String())
			default:
				err = fmt.Errorf("%s: args: got %s, want strings", b.Name(), x.Type())
				return
			}
		}
	} else {
		err = fmt.Errorf("%s: args: got %s, want a list of strings", b.Name(), argsV.Type())
		return
	}
	if stdinV != starlark.None {
		s, ok := starlark.AsString(stdinV)
		if !ok {
			if bs, isBytes := stdinV.(starlark.Bytes); isBytes {
				s, ok = string(bs), true
			}
		}
		if !ok {
			err = fmt.Errorf("%s: stdin: got %s, want a string", b.Name(), stdinV.Type())
			return
		}
		stdin = &s
	}
	return
}

func tStart(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	t, _ := lang.Receiver[*T](b)
	path, argv, stdin, err := childArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	p, err := t.spawnChild(b.Name(), path, argv, stdin, t.s.opts.Timeout, false)
	if err != nil {
		return nil, err
	}
	p.server = true
	lang.Unlocked(th, func() { err = p.begin() })
	if err != nil {
		return nil, fmt.Errorf("%s: starting %s: %v", b.Name(), path, err)
	}
	t.children = append(t.children, p)
	return p, nil
}

func tRun(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	t, _ := lang.Receiver[*T](b)
	var timeoutV starlark.Value = starlark.String("10s")
	path, argv, stdin, err := childArgs(b, args, kwargs, "timeout?", &timeoutV)
	if err != nil {
		return nil, err
	}
	timeout, err := lang.Duration(timeoutV)
	if err != nil {
		return nil, fmt.Errorf("%s: timeout: %v", b.Name(), err)
	}
	p, err := t.spawnChild(b.Name(), path, argv, stdin, timeout, false)
	if err != nil {
		return nil, err
	}
	ctx := lang.Context(th)
	timedOut := false
	lang.Unlocked(th, func() {
		if err = p.begin(); err != nil {
			return
		}
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		select {
		case <-p.done:
		case <-tm.C:
			timedOut = true
			p.kill()
		case <-ctx.Done():
			p.kill()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s: starting %s: %v", b.Name(), path, err)
	}
	t.children = append(t.children, p)
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	code := starlark.Value(starlark.MakeInt(p.code))
	if timedOut {
		code = starlark.None
		p.mu.Lock()
		p.wallHit = true // report it as the student's program running too long
		p.mu.Unlock()
	}
	return &completed{code: code, stdout: p.stdout.String(), stderr: cleanStderr(p.stderr.String()), timedOut: timedOut, summary: p.exitSummary()}, nil
}

func tWaitPort(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	t, _ := lang.Receiver[*T](b)
	var port int
	var timeoutV starlark.Value = starlark.String("10s")
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "port", &port, "timeout?", &timeoutV); err != nil {
		return nil, err
	}
	timeout, err := lang.Duration(timeoutV)
	if err != nil {
		return nil, fmt.Errorf("%s: timeout: %v", b.Name(), err)
	}
	ctx := lang.Context(th)
	var exited *Process
	bound := false
	lang.Unlocked(th, func() {
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		// The children say when they bind; /proc is read now and then for
		// a port bound some other way (by the test itself).
		slow := time.NewTicker(250 * time.Millisecond)
		defer slow.Stop()
		procChecked := len(t.children) > 0
		for {
			var wake []<-chan struct{}
			running := 0
			for _, p := range t.children {
				ok, ch := p.hasBound(port)
				if ok {
					bound = true
					return
				}
				if p.stillRunning() {
					running++
					wake = append(wake, ch, p.done)
				} else {
					exited = p
				}
			}
			if !procChecked || running == 0 {
				procChecked = true
				if portBound(port) {
					bound = true
					return
				}
			}
			if len(t.children) > 0 && running == 0 {
				return
			}
			if len(wake) == 0 {
				wake = append(wake, nil)
			}
			select {
			case <-anyOf(wake):
			case <-slow.C:
				procChecked = false
			case <-deadline.C:
				bound = portBound(port)
				return
			case <-ctx.Done():
				return
			}
		}
	})
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if bound {
		return starlark.None, nil
	}
	msg := fmt.Sprintf("your program did not bind port %d within %s", port, lang.FormatDuration(timeout))
	if exited != nil {
		msg = fmt.Sprintf("%s before binding port %d", exited.exitSummary(), port)
		if e := lastLine(cleanStderr(exited.stderr.String())); e != "" {
			msg += ": " + e
		}
	}
	return nil, lang.Errorf(lang.KindTimeout, "", "", "%s", msg)
}

// portBound reports whether some socket has bound port on this machine: a
// listening TCP socket or any UDP socket. Reading /proc does not disturb
// the child, as a trial bind would.
func portBound(port int) bool {
	hex := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		tcp := strings.Contains(f, "tcp")
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || !strings.HasSuffix(fields[1], hex) {
				continue
			}
			if !tcp || fields[3] == "0A" {
				fh.Close()
				return true
			}
		}
		fh.Close()
	}
	return false
}

// Process as a Starlark value.

var processMethods = lang.NewMethods("testing.process", `testing.process

A child process started by t.start. Attributes: stdout and stderr (what it
printed so far), running, code (its exit code, None while it runs).`,
	lang.Method("process.wait", `wait(timeout=None) -> int

Waits for the child to exit and returns its exit code; fails with a
timeout error if timeout passes first.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		p, _ := lang.Receiver[*Process](b)
		var timeoutV starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timeout?", &timeoutV); err != nil {
			return nil, err
		}
		var expired <-chan time.Time
		var timeout time.Duration
		if timeoutV != starlark.None {
			var err error
			if timeout, err = lang.Duration(timeoutV); err != nil {
				return nil, fmt.Errorf("%s: timeout: %v", b.Name(), err)
			}
			tm := time.NewTimer(timeout)
			defer tm.Stop()
			expired = tm.C
		}
		ctx := lang.Context(th)
		var werr error
		lang.Unlocked(th, func() {
			select {
			case <-p.done:
			case <-expired:
				werr = lang.Errorf(lang.KindTimeout, b.Name(), p.script, "your program %s did not exit within %s", p.script, lang.FormatDuration(timeout))
			case <-ctx.Done():
				werr = context.Cause(ctx)
			}
		})
		if werr != nil {
			return nil, werr
		}
		return starlark.MakeInt(p.code), nil
	}),
	lang.Method("process.kill", `kill()

Kills the child (if it still runs) and waits for it to end.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		p, _ := lang.Receiver[*Process](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, p.kill)
		return starlark.None, nil
	}),
)

func (p *Process) String() string        { return fmt.Sprintf("<testing.process %s>", p.script) }
func (p *Process) Type() string          { return "testing.process" }
func (p *Process) Freeze()               {}
func (p *Process) Truth() starlark.Bool  { return true }
func (p *Process) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: testing.process") }
func (p *Process) AttrNames() []string {
	return append(processMethods.Names(), "code", "running", "stderr", "stdout")
}
func (p *Process) Attr(name string) (starlark.Value, error) {
	switch name {
	case "stdout":
		return starlark.String(p.stdout.String()), nil
	case "stderr":
		return starlark.String(cleanStderr(p.stderr.String())), nil
	case "running":
		return starlark.Bool(p.stillRunning()), nil
	case "code":
		if p.stillRunning() {
			return starlark.None, nil
		}
		return starlark.MakeInt(p.code), nil
	}
	return processMethods.Attr(p, name), nil
}

// completed is what t.run returns.
type completed struct {
	code           starlark.Value
	stdout, stderr string
	timedOut       bool
	summary        string
}

var completedDoc = lang.Document("testing.completed", `testing.completed

What t.run returns. Attributes: code (the exit code; None when it was
killed at its timeout), stdout, stderr, timed_out, and status (how it ended,
in the student's terms: "your program x.star exited with code 1").`)

func (c *completed) String() string {
	return fmt.Sprintf("<testing.completed code=%s timed_out=%v>", c.code, c.timedOut)
}
func (c *completed) Type() string          { return "testing.completed" }
func (c *completed) Freeze()               {}
func (c *completed) Truth() starlark.Bool  { return true }
func (c *completed) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: testing.completed") }
func (c *completed) AttrNames() []string {
	return []string{"code", "status", "stderr", "stdout", "timed_out"}
}
func (c *completed) Attr(name string) (starlark.Value, error) {
	switch name {
	case "code":
		return c.code, nil
	case "stdout":
		return starlark.String(c.stdout), nil
	case "stderr":
		return starlark.String(c.stderr), nil
	case "timed_out":
		return starlark.Bool(c.timedOut), nil
	case "status":
		return starlark.String(c.summary), nil
	}
	return nil, nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// anyOf returns a channel closed when any of chs is closed.
func anyOf(chs []<-chan struct{}) <-chan struct{} {
	if len(chs) == 1 {
		return chs[0]
	}
	out := make(chan struct{})
	stop := make(chan struct{})
	var once sync.Once
	for _, ch := range chs {
		go func() {
			select {
			case <-ch:
				once.Do(func() { close(out) })
			case <-stop:
			}
		}()
	}
	go func() { <-out; close(stop) }()
	return out
}
