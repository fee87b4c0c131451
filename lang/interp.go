// Package lang embeds Starlark for netplay: the dialect, the interpreter
// lock and tasks, module loading, value and argument helpers, units, limits,
// errors and the documentation registry.
//
// Concurrency: Starlark values are not safe for concurrent mutation, so an
// Interp runs Starlark code on any goroutine only while holding its one
// interpreter lock, and every builtin that blocks (I/O, accept, sleep, join)
// releases it with Unlocked. Scripts may therefore share mutable state between
// tasks and server handlers as Python programmers expect.
package lang

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Dialect is netplay's Starlark: while loops, recursion, top-level control
// flow, global reassignment and sets, so the course's Python socket programs
// port line by line.
var Dialect = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
	Recursion:       true,
}

// Options configure an interpreter.
type Options struct {
	Stack  stack.Stack // the network; stack.OS if nil
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Argv   []string // sys.argv: the script's name, then its arguments

	MaxSteps uint64        // 0: no limit on Starlark execution steps
	Timeout  time.Duration // 0: no limit on wall time
	Root     string        // files may be read and written inside this folder
	AllowFS  []string      // and inside these
	// ListenAny makes a protocol server's ":port" listen on every
	// interface instead of loopback (--listen-any).
	ListenAny bool
	Seed      *uint64 // seed of random; nil seeds from the clock

	// Predeclared is the global environment: modules and builtins.
	Predeclared starlark.StringDict

	// Docs documents types help() should know besides those of the
	// builtins and of the modules in Predeclared (the test runner's
	// testing.t).
	Docs []Documented
}

// Interp is one running script (or REPL session) and everything it started.
type Interp struct {
	opts        Options
	stack       stack.Stack
	predeclared starlark.StringDict
	docsOnce    sync.Once
	docs        *Docs

	gil      gil          // the interpreter lock (gil.go)
	runnable atomic.Int64 // threads holding or waiting for gil
	watchers atomic.Pointer[[]*func(int64)]

	ctx    context.Context // done when the script must end (timeout, limit, exit)
	cancel context.CancelCauseFunc

	clock atomic.Pointer[clockBox] // the clock sleep and time follow

	out   *Output
	stdin *bufio.Reader

	steps atomic.Uint64 // execution steps counted against MaxSteps

	mu      sync.Mutex
	closers []func()
	tracked map[*io.Closer]struct{}
	loads   map[string]*loadEntry

	// Rand is the script's random source, seeded by --seed. Use it only
	// while holding the interpreter lock.
	Rand *rand.Rand

	timer *time.Timer
}

type clockBox struct{ stack.Clock }

// New returns an interpreter. The caller must Close it.
func New(opts Options) *Interp {
	if opts.Stack == nil {
		opts.Stack = stack.OS
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Root == "" {
		opts.Root, _ = os.Getwd()
	}
	in := &Interp{
		opts:        opts,
		stack:       opts.Stack,
		predeclared: opts.Predeclared,
		out:         &Output{w: opts.Stdout, ew: opts.Stderr},
		stdin:       bufio.NewReader(opts.Stdin),
		loads:       map[string]*loadEntry{},
	}
	seed := uint64(time.Now().UnixNano())
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	in.Rand = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	in.clock.Store(&clockBox{opts.Stack})
	registerInterp(in)
	in.ctx, in.cancel = context.WithCancelCause(context.Background())
	if opts.Timeout > 0 {
		in.timer = time.AfterFunc(opts.Timeout, func() {
			in.Abort(Errorf(KindLimit, "", "", "script exceeded its time limit (--timeout %s)", FormatDuration(opts.Timeout)))
		})
	}
	return in
}

// Stack is the network the script runs on.
func (in *Interp) Stack() stack.Stack { return in.stack }

// Clock is the clock that sleep and time follow: the stack's, or a lab
// network's while the script has one open.
func (in *Interp) Clock() stack.Clock { return in.clock.Load().Clock }

// SetClock makes sleep and time follow c (nil: back to the stack's clock).
func (in *Interp) SetClock(c stack.Clock) {
	if c == nil {
		c = in.stack
	}
	in.clock.Store(&clockBox{c})
}

// Context is done when the script must end.
func (in *Interp) Context() context.Context { return in.ctx }

// Output is where print writes.
func (in *Interp) Output() *Output { return in.out }

// Stderr is where diagnostics go.
func (in *Interp) Stderr() io.Writer { return in.opts.Stderr }

// Argv is sys.argv.
func (in *Interp) Argv() []string { return in.opts.Argv }

// Docs is the index of the documentation of what the script can reach, for
// help(): the builtins' and their types', each predeclared module's, and
// Options.Docs. It is built on first use.
func (in *Interp) Docs() *Docs {
	in.docsOnce.Do(func() {
		in.docs = BuiltinDocs()
		for _, name := range in.predeclared.Keys() {
			in.docs.Collect(in.predeclared[name])
		}
		in.docs.Add(in.opts.Docs...)
	})
	return in.docs
}

// Predeclared is the script's global environment.
func (in *Interp) Predeclared() starlark.StringDict { return in.predeclared }

// Abort ends the script: every thread stops at its next step and every
// blocking call returns. cause is what the script ends with.
func (in *Interp) Abort(cause error) { in.cancel(cause) }

// Cause is why the script was aborted, or nil.
func (in *Interp) Cause() error {
	if in.ctx.Err() == nil {
		return nil
	}
	return context.Cause(in.ctx)
}

// OnClose registers f to run when the interpreter closes: servers stop,
// sockets close.
func (in *Interp) OnClose(f func()) {
	in.mu.Lock()
	in.closers = append(in.closers, f)
	in.mu.Unlock()
}

// Close stops everything the script started.
func (in *Interp) Close() {
	if in.timer != nil {
		in.timer.Stop()
	}
	in.cancel(errClosed)
	unregisterInterp(in)
	in.mu.Lock()
	closers := in.closers
	in.closers = nil
	tracked := in.tracked
	in.tracked = nil
	in.mu.Unlock()
	for c := range tracked {
		(*c).Close()
	}
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
}

var errClosed = errors.New("interpreter closed")

// Lock acquires the interpreter lock, for Go code (a server's goroutine)
// about to run Starlark. Most callers want Call instead.
func (in *Interp) Lock()   { in.lock() }
func (in *Interp) Unlock() { in.unlock() }

// lock and unlock take and release the interpreter lock, counting the
// threads that run Starlark code or wait to: a virtual clock (the lab's)
// must not move while any of them computes, however long that takes.
func (in *Interp) lock() {
	in.changed(in.runnable.Add(1))
	in.gil.lock()
}

func (in *Interp) unlock() {
	in.gil.unlock()
	in.changed(in.runnable.Add(-1))
}

func (in *Interp) changed(n int64) {
	if ws := in.watchers.Load(); ws != nil {
		for _, w := range *ws {
			(*w)(n)
		}
	}
}

// Runnable is how many of the script's threads are running Starlark code or
// waiting for the interpreter lock; a thread inside a blocking builtin
// (I/O, sleep, join) is not counted.
func (in *Interp) Runnable() int64 { return in.runnable.Load() }

// Watch calls f with Runnable's new value after every change, on the
// goroutine that changed it; f must not block or take the interpreter
// lock. The returned function stops the calls.
func (in *Interp) Watch(f func(runnable int64)) (stop func()) {
	key := &f
	update := func(edit func([]*func(int64)) []*func(int64)) {
		for {
			old := in.watchers.Load()
			var cur []*func(int64)
			if old != nil {
				cur = *old
			}
			next := edit(append([]*func(int64){}, cur...))
			if in.watchers.CompareAndSwap(old, &next) {
				return
			}
		}
	}
	update(func(ws []*func(int64)) []*func(int64) { return append(ws, key) })
	return func() {
		update(func(ws []*func(int64)) []*func(int64) {
			out := ws[:0]
			for _, w := range ws {
				if w != key {
					out = append(out, w)
				}
			}
			return out
		})
	}
}

// ExecFile runs a script file (src may be nil to read filename) and returns
// its globals.
func (in *Interp) ExecFile(filename string, src any) (starlark.StringDict, error) {
	in.lock()
	defer in.unlock()
	th := in.NewThread("main", nil)
	defer in.EndThread(th)
	globals, err := in.execFile(th, filename, src)
	return globals, in.explain(err)
}

// execFile parses, rewrites (see Rewrite), compiles and runs a file on th.
func (in *Interp) execFile(th *starlark.Thread, filename string, src any) (starlark.StringDict, error) {
	if src == nil {
		b, err := os.ReadFile(filename)
		if err != nil {
			return nil, err
		}
		src = b
	}
	switch s := src.(type) {
	case string:
		src = KeywordAttrs([]byte(s))
	case []byte:
		src = KeywordAttrs(s)
	}
	f, err := Dialect.Parse(filename, src, 0)
	if err != nil {
		var text []byte
		switch src := src.(type) {
		case string:
			text = []byte(src)
		case []byte:
			text = src
		}
		return nil, Hint(err, text)
	}
	Rewrite(f)
	prog, err := starlark.FileProgram(f, in.predeclared.Has)
	if err != nil {
		return nil, err
	}
	// Not frozen: see load.
	return prog.Init(th, in.predeclared)
}

// explain replaces the generic "computation cancelled" error of a script
// that was aborted by the reason it was aborted.
func (in *Interp) explain(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := ExitCode(err); ok {
		return err
	}
	if cause := in.Cause(); cause != nil && cause != errClosed {
		return cause
	}
	return err
}

// Call calls a Starlark function from Go code that does not hold the
// interpreter lock (a server's goroutine handling a request). It runs f on a
// new thread named name and returns its result.
func (in *Interp) Call(name string, f starlark.Callable, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	in.lock()
	defer in.unlock()
	th := in.NewThread(name, nil)
	defer in.EndThread(th)
	v, err := starlark.Call(th, f, args, kwargs)
	return v, in.explain(err)
}

// threadState is what netplay keeps on each Starlark thread.
type threadState struct {
	interp  *Interp
	ctx     context.Context
	cancel  context.CancelCauseFunc
	stop    func() bool
	counted uint64 // steps already added to interp.steps
	tooDeep bool   // cancelled for recursing past MaxDepth (catch can undo it)

	// stepLimit ends the current CallBudget call when Steps reaches it
	// (0: no limit), by calling endCall.
	stepLimit uint64
	endCall   func(what string)
}

const localKey = "netplay"

const stepChunk = 1 << 12

// NewThread returns a thread for running Starlark code in this interpreter.
// Its blocking calls end when ctx (or, if nil, the interpreter) is done.
// The caller must hold the interpreter lock while it runs, and call
// EndThread when it is finished.
func (in *Interp) NewThread(name string, ctx context.Context) *starlark.Thread {
	if ctx == nil {
		ctx = in.ctx
	}
	tctx, cancel := context.WithCancelCause(ctx)
	th := &starlark.Thread{
		Name:  name,
		Print: func(_ *starlark.Thread, msg string) { in.out.Println(msg) },
		Load:  in.load,
	}
	st := &threadState{interp: in, ctx: tctx, cancel: cancel}
	th.SetLocal(localKey, st)
	setTimeNow(th, in)
	// Every stepChunk steps the thread checks its budget and its depth.
	th.SetMaxExecutionSteps(stepChunk)
	th.OnMaxSteps = in.onMaxSteps
	st.stop = context.AfterFunc(tctx, func() {
		reason := "interrupted"
		if c := context.Cause(tctx); c != nil {
			reason = c.Error()
		}
		th.Cancel(reason)
	})
	return th
}

// EndThread releases what NewThread set up.
func (in *Interp) EndThread(th *starlark.Thread) {
	st := state(th)
	st.stop()
	st.cancel(nil)
	if in.opts.MaxSteps > 0 {
		in.steps.Add(th.Steps - st.counted)
	}
}

// MaxDepth bounds recursion. Starlark's own bound (100,000 calls) lets one
// runaway recursion grow the goroutine's stack to hundreds of megabytes; at
// this depth it stays near 30 MB, ten times Python's default limit.
const MaxDepth = 10_000

const recursionMsg = "maximum recursion depth exceeded"

// onMaxSteps counts a thread's steps against one budget shared by all the
// script's threads, so spawning tasks does not multiply the limit, and
// checks its depth of recursion.
func (in *Interp) onMaxSteps(th *starlark.Thread) {
	if th.CallStackDepth() > MaxDepth {
		state(th).tooDeep = true
		th.Cancel(fmt.Sprintf("%s (more than %s calls deep)", recursionMsg, groupThousands(MaxDepth)))
		return
	}
	st := state(th)
	next := th.Steps + stepChunk
	if st.stepLimit > 0 {
		if th.Steps >= st.stepLimit {
			st.endCall("steps")
			th.Cancel("step budget")
			return
		}
		next = min(next, st.stepLimit)
	}
	if in.opts.MaxSteps == 0 {
		th.SetMaxExecutionSteps(next)
		return
	}
	total := in.steps.Add(th.Steps - st.counted)
	st.counted = th.Steps
	if total >= in.opts.MaxSteps {
		in.Abort(Errorf(KindLimit, "", "", "script exceeded its step limit (--max-steps %d)", in.opts.MaxSteps))
		th.Cancel("step limit")
		return
	}
	th.SetMaxExecutionSteps(next)
}

func state(th *starlark.Thread) *threadState {
	st, _ := th.Local(localKey).(*threadState)
	if st == nil {
		panic("netplay: Starlark thread not made by lang.Interp.NewThread")
	}
	return st
}

// InterpOf returns the interpreter running th.
func InterpOf(th *starlark.Thread) *Interp { return state(th).interp }

// Context is done when th's blocking calls must return: the script is
// ending, or the evaluation was interrupted (Ctrl-C in the REPL).
func Context(th *starlark.Thread) context.Context { return state(th).ctx }

// Interrupt ends th's current work: its blocking call returns and its
// Starlark code stops at the next step. The REPL uses it for Ctrl-C.
func Interrupt(th *starlark.Thread, reason string) {
	state(th).cancel(errors.New(reason))
}

// Unlocked runs fn with the interpreter lock released, so other tasks run
// while fn blocks. fn must not touch Starlark values.
func Unlocked(th *starlark.Thread, fn func()) {
	in := state(th).interp
	in.unlock()
	defer in.lock()
	fn()
}

// Output serialises what the script prints, a line at a time, on standard
// output (print) and standard error (diagnostics). The REPL hooks it so that
// background output does not garble the line being typed.
type Output struct {
	mu   sync.Mutex
	w    io.Writer
	ew   io.Writer
	hook func(w io.Writer, text string) bool
}

func (o *Output) emit(w io.Writer, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hook != nil && o.hook(w, text) {
		return
	}
	io.WriteString(w, text)
}

// Println writes one line to standard output.
func (o *Output) Println(s string) { o.emit(o.w, s+"\n") }

// Write writes p to standard output as it is (for prompts without a newline).
func (o *Output) Write(p []byte) (int, error) {
	o.emit(o.w, string(p))
	return len(p), nil
}

// SetHook lets hook take text before it is written to w; it returns true
// when it took it.
func (o *Output) SetHook(hook func(w io.Writer, text string) bool) {
	o.mu.Lock()
	o.hook = hook
	o.mu.Unlock()
}

// ReadLine reads a line of the script's standard input, without its newline,
// for input(). It returns io.EOF at the end.
func (in *Interp) ReadLine(ctx context.Context) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := in.stdin.ReadString('\n')
		if err == io.EOF && s != "" {
			err = nil
		}
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		s := r.s
		if n := len(s); n > 0 && s[n-1] == '\n' {
			s = s[:n-1]
			if n := len(s); n > 0 && s[n-1] == '\r' {
				s = s[:n-1]
			}
		}
		return s, r.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// Fprintf writes a diagnostic to the interpreter's standard error.
func (in *Interp) Fprintf(format string, args ...any) {
	in.out.emit(in.out.ew, fmt.Sprintf(format, args...))
}

// Track registers c to be closed when the interpreter closes, and returns a
// function that forgets it (call it when c is closed earlier).
func (in *Interp) Track(c io.Closer) (untrack func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.tracked == nil {
		in.tracked = map[*io.Closer]struct{}{}
	}
	key := &c
	in.tracked[key] = struct{}{}
	return func() {
		in.mu.Lock()
		delete(in.tracked, key)
		in.mu.Unlock()
	}
}
