package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/netplay-dev/netplay/lang"
	"github.com/peterh/liner"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// replSession evaluates what is typed at the prompt, one entry at a time.
type replSession struct {
	in      *lang.Interp
	globals starlark.StringDict
	stderr  io.Writer
	failed  bool
}

// REPL entries bind loads globally, as Python's prompt does.
var replDialect = func() *syntax.FileOptions {
	o := *lang.Dialect
	o.LoadBindsGlobally = true
	return &o
}()

func repl(o *options, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	in := newInterp(o, "", []string{""}, stdin, stdout, stderr)
	defer in.Close()
	s := &replSession{in: in, globals: starlark.StringDict{}, stderr: stderr}
	for k, v := range in.Predeclared() {
		s.globals[k] = v
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) && isTerminal(stdout) {
		return s.interactive(stdout)
	}
	return s.batch(bufio.NewReader(stdin))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// batch reads statements from a stream that is not a terminal: printf
// 'print(1+1)\n' | netplay repl prints 2. Values of bare expressions are
// printed as at the prompt. The exit status is 1 if any entry failed.
func (s *replSession) batch(r *bufio.Reader) (int, error) {
	eof := false
	for !eof {
		read := 0
		var text []byte
		readline := func() ([]byte, error) {
			line, err := r.ReadBytes('\n')
			if err == io.EOF {
				eof = true
				if len(line) == 0 {
					return nil, io.EOF
				}
				line = append(line, '\n')
			} else if err != nil {
				return nil, err
			}
			read++
			text = append(text, line...)
			return lang.KeywordAttrs(line), nil
		}
		f, err := replDialect.ParseCompoundStmt("<stdin>", readline)
		if eof && read == 0 {
			break
		}
		if err != nil {
			s.report(lang.Hint(err, text))
			continue
		}
		if code, exit := s.eval(f, nil); exit {
			return code, nil
		}
		if s.in.Cause() != nil {
			break
		}
	}
	if s.failed {
		return 1, nil
	}
	return 0, nil
}

// eval runs one entry. It reports whether the session must end (sys.exit)
// and with which status.
func (s *replSession) eval(f *syntax.File, interrupt <-chan os.Signal) (int, bool) {
	s.in.Lock()
	defer s.in.Unlock()
	th := s.in.NewThread("repl", nil)
	defer s.in.EndThread(th)
	if interrupt != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-interrupt:
				lang.Interrupt(th, "KeyboardInterrupt")
			case <-done:
			}
		}()
	}
	lang.Rewrite(f)
	var err error
	if expr := soleExpr(f); expr != nil {
		var v starlark.Value
		v, err = starlark.EvalExprOptions(f.Options, th, expr, s.globals)
		if err == nil && v != starlark.None {
			s.globals["_"] = v
			s.in.Output().Println(v.String())
		}
	} else {
		err = starlark.ExecREPLChunk(f, th, s.globals)
	}
	if err != nil {
		if code, ok := lang.ExitCode(err); ok {
			return code, true
		}
		if cause := s.in.Cause(); cause != nil {
			err = cause
		} else if c := lang.Context(th).Err(); c != nil {
			err = errors.New("KeyboardInterrupt")
		}
		s.report(err)
	}
	return 0, false
}

func (s *replSession) report(err error) {
	s.failed = true
	s.in.Fprintf("%s\n", lang.FormatError(err))
}

func soleExpr(f *syntax.File) syntax.Expr {
	if len(f.Stmts) == 1 {
		if stmt, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
			return stmt.X
		}
	}
	return nil
}

// interactive is the prompt on a terminal, with line editing, history,
// completion and Ctrl-C.
func (s *replSession) interactive(stdout io.Writer) (int, error) {
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetTabCompletionStyle(liner.TabPrints)
	ln.SetWordCompleter(s.complete)
	defer keepHistory(ln)()
	r := &entryReader{ln: ln, prompt: s.promptAbove(ln)}

	fmt.Fprintf(stdout, "netplay %s — Starlark with network protocols. help() for help, Ctrl-D to leave.\n", versionString())
	// Ctrl-C at the prompt is a key liner reads; while an entry runs it is
	// SIGINT, which interrupts that entry. Caught for the whole session, so
	// one that comes between entries cannot end netplay.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	for {
		f, err := r.read()
		if len(r.entry) > 0 {
			ln.AppendHistory(strings.Join(r.entry, "\n"))
		}
		if r.eof && len(r.entry) == 0 {
			fmt.Fprintln(stdout)
			return 0, nil
		}
		if r.aborted || errors.Is(err, liner.ErrPromptAborted) {
			// Ctrl-C at the prompt: drop what was typed, a fresh prompt.
			fmt.Fprintln(stdout, "KeyboardInterrupt")
			continue
		}
		if err != nil {
			s.report(lang.Hint(err, []byte(strings.Join(r.entry, "\n"))))
			continue
		}
		drain(sigs)
		code, exit := s.eval(f, sigs)
		if exit {
			return code, nil
		}
		if s.in.Cause() != nil {
			return 1, nil
		}
	}
}

// keepHistory loads the prompt's history and returns the function that
// saves it.
func keepHistory(ln *liner.State) (save func()) {
	histFile := historyPath()
	if f, err := os.Open(histFile); err == nil {
		ln.ReadHistory(f)
		f.Close()
	}
	return func() {
		if histFile == "" {
			return
		}
		os.MkdirAll(filepath.Dir(histFile), 0o700)
		if f, err := os.Create(histFile); err == nil {
			ln.WriteHistory(f)
			f.Close()
		}
	}
}

// promptAbove returns the prompt function. Tasks and servers keep running
// while the prompt waits. What they print meanwhile goes above the prompt:
// the line being typed is cleared, the output written, and a SIGWINCH to
// ourselves makes liner redraw the prompt and what was typed so far, as it
// does when the window resizes.
func (s *replSession) promptAbove(ln *liner.State) func(p string) (string, error) {
	var prompting struct {
		sync.Mutex
		on bool
	}
	s.in.Output().SetHook(func(w io.Writer, text string) bool {
		prompting.Lock()
		defer prompting.Unlock()
		if !prompting.on {
			return false
		}
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		io.WriteString(w, "\r\x1b[K"+text)
		syscall.Kill(os.Getpid(), syscall.SIGWINCH)
		return true
	})
	setPrompting := func(on bool) {
		prompting.Lock()
		prompting.on = on
		prompting.Unlock()
	}
	return func(p string) (string, error) {
		setPrompting(true)
		line, err := ln.Prompt(p)
		setPrompting(false)
		return line, err
	}
}

// entryReader reads one entry at the prompt: a statement, over as many
// lines as it takes (>>> then ...).
type entryReader struct {
	ln     *liner.State
	prompt func(string) (string, error)
	carry  *string // a pasted line that starts the next entry

	// of the entry being read
	entry        []string
	first        bool
	eof, aborted bool
}

// read reads and parses the next entry.
func (r *entryReader) read() (*syntax.File, error) {
	r.entry, r.first, r.eof, r.aborted = nil, true, false, false
	return replDialect.ParseCompoundStmt("<stdin>", r.readline)
}

func (r *entryReader) readline() ([]byte, error) {
	p := ">>> "
	if !r.first {
		p = "... "
	}
	wasFirst := r.first
	r.first = false
	var line string
	var err error
	if r.carry != nil && wasFirst {
		line, r.carry = *r.carry, nil
	} else {
		line, err = r.prompt(p)
	}
	if err == nil && !wasFirst && strings.TrimSpace(line) == "" && pasting(r.ln) {
		// A blank line inside a pasted block (a def with a blank
		// line in its body) ends the block only if what follows is
		// not indented, as in Python's REPL.
		next, nerr := r.prompt("... ")
		switch {
		case nerr != nil:
			err = nerr
		case next != "" && (next[0] == ' ' || next[0] == '\t'):
			line = next
		default:
			r.carry = &next
		}
	}
	if err == liner.ErrPromptAborted {
		r.aborted = true
		return nil, err
	}
	if err == io.EOF {
		r.eof = true
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	r.entry = append(r.entry, line)
	return lang.KeywordAttrs([]byte(line + "\n")), nil
}

// pasting reports whether more input is already waiting after the line
// liner just returned: text pasted into the terminal arrives at once,
// typing does not. liner reads standard input through a bufio.Reader it
// keeps unexported, so its buffer is looked at by reflection (TestREPLPaste
// fails if a liner upgrade moves it).
func pasting(ln *liner.State) bool {
	if f := reflect.ValueOf(ln).Elem().FieldByName("r"); f.IsValid() {
		if r, ok := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(*bufio.Reader); ok && r != nil && r.Buffered() > 0 {
			return true
		}
	}
	fds := []unix.PollFd{{Fd: int32(os.Stdin.Fd()), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 10)
	return err == nil && n > 0
}

// drain forgets interrupts that came while no entry was running.
func drain(sigs <-chan os.Signal) {
	for {
		select {
		case <-sigs:
		default:
			return
		}
	}
}

// historyPath is where the prompt's history is kept across runs:
// $XDG_STATE_HOME/netplay/history, or ~/.local/state/netplay/history.
func historyPath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "netplay", "history")
}

// complete completes the name or attribute chain before the cursor:
// "socket.so" -> "socket.socket".
func (s *replSession) complete(line string, pos int) (head string, completions []string, tail string) {
	start := pos
	for start > 0 && isIdentOrDot(line[start-1]) {
		start--
	}
	head, word, tail := line[:start], line[start:pos], line[pos:]
	s.in.Lock()
	defer s.in.Unlock()
	return head, completeWord(word, s.globals), tail
}

func isIdentOrDot(c byte) bool {
	return c == '.' || c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// completeWord lists the completions of word, a name or a chain of
// attributes, against globals. It only looks names and attributes up, never
// calls anything.
func completeWord(word string, globals starlark.StringDict) []string {
	parts := strings.Split(word, ".")
	var candidates []string
	prefix := ""
	if len(parts) == 1 {
		candidates = append(globals.Keys(), starlark.Universe.Keys()...)
	} else {
		v, ok := globals[parts[0]]
		if !ok {
			v, ok = starlark.Universe[parts[0]]
		}
		for _, p := range parts[1 : len(parts)-1] {
			if !ok {
				return nil
			}
			ha, isAttrs := v.(starlark.HasAttrs)
			if !isAttrs {
				return nil
			}
			var err error
			v, err = ha.Attr(p)
			ok = err == nil && v != nil
		}
		if !ok {
			return nil
		}
		ha, isAttrs := v.(starlark.HasAttrs)
		if !isAttrs {
			return nil
		}
		candidates = ha.AttrNames()
		prefix = strings.Join(parts[:len(parts)-1], ".") + "."
	}
	last := parts[len(parts)-1]
	var out []string
	seen := map[string]bool{}
	for _, c := range candidates {
		if strings.HasPrefix(c, last) && !seen[c] && (last != "" || !strings.HasPrefix(c, "_")) {
			seen[c] = true
			out = append(out, prefix+c)
		}
	}
	sort.Strings(out)
	return out
}
