package main

import (
	"github.com/netplay-dev/netplay/internal/peertest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession runs netplay's prompt in a real terminal (tmux) so the test
// types keys and reads the screen as a person would.
type tmuxSession struct {
	t    *testing.T
	name string
}

func newTmux(t *testing.T, env []string, args ...string) *tmuxSession {
	t.Helper()
	peertest.Need(t, "tmux")
	s := &tmuxSession{t: t, name: "netplay-test-" + strings.ReplaceAll(t.Name(), "/", "-")}
	cmd := append([]string{"new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "env"}, env...)
	cmd = append(cmd, args...)
	if out, err := exec.Command("tmux", cmd...).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", s.name).Run() })
	return s
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", s.name}, keys...)...).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys: %v %s", err, out)
	}
}

func (s *tmuxSession) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	return string(out)
}

// waitFor waits until the screen shows want.
func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if scr := s.screen(); strings.Contains(scr, want) {
			return scr
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q:\n%s", want, s.screen())
	return ""
}

func TestInteractiveREPL(t *testing.T) {
	np := netplayBin(t)
	state := t.TempDir()
	env := []string{"XDG_STATE_HOME=" + state, "TERM=xterm"}
	s := newTmux(t, env, np)
	s.waitFor(">>>")

	// Expressions print their value; multi-line input continues with "... ".
	s.keys("6 * 7", "Enter")
	s.waitFor("42")
	s.keys("def double(x):", "Enter")
	s.waitFor("...")
	s.keys("    return 2 * x", "Enter", "Enter")
	s.keys("double(21)", "Enter")
	s.waitFor("42\n>>>")

	// Tab completes attributes: socket.gethostb<Tab> -> socket.gethostbyname.
	s.keys("socket.gethostb", "Tab")
	s.waitFor("socket.gethostbyname")
	s.keys("(\"localhost\")", "Enter")
	s.waitFor("127.0.0.1")

	// help() prints the docs.
	s.keys("help(sleep)", "Enter")
	s.waitFor("sleep(seconds)")

	// Ctrl-C interrupts a running evaluation and the prompt stays.
	s.keys("sleep(100)", "Enter")
	time.Sleep(300 * time.Millisecond)
	s.keys("C-c")
	s.waitFor("KeyboardInterrupt")
	s.keys("print('still here')", "Enter")
	s.waitFor("still here")

	// A task started at the prompt keeps running while the prompt waits.
	// What it prints appears above the prompt at once, and the line being
	// typed is redrawn below it, intact.
	s.keys("def later():", "Enter", "    sleep(0.3)", "Enter", "    print('task' + '-output')", "Enter", "Enter")
	s.keys("t = spawn(later)", "Enter")
	s.keys("x = 4")
	scr := s.waitFor("task-output")
	lines := strings.Split(strings.TrimRight(scr, "\n"), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != ">>> x = 4" {
		t.Fatalf("the line being typed was not redrawn below the output; last line %q:\n%s", last, scr)
	}
	s.keys("7", "Enter", "print(x)", "Enter")
	s.waitFor("\n47\n>>>")

	// Ctrl-D leaves, and the history is kept for the next run.
	s.keys("C-d")
	time.Sleep(500 * time.Millisecond)
	hist, err := os.ReadFile(filepath.Join(state, "netplay", "history"))
	if err != nil || !strings.Contains(string(hist), "double(21)") {
		t.Fatalf("history not kept: %v %q", err, hist)
	}
	s2 := newTmux(t, env, np)
	s2.waitFor(">>>")
	s2.keys("Up")
	s2.waitFor(">>> print(x)")
}

// paste pastes text into the pane at once, as a terminal does.
func (s *tmuxSession) paste(text string) {
	s.t.Helper()
	buf := "paste-" + s.name
	if out, err := exec.Command("tmux", "set-buffer", "-b", buf, text).CombinedOutput(); err != nil {
		s.t.Fatalf("set-buffer: %v %s", err, out)
	}
	if out, err := exec.Command("tmux", "paste-buffer", "-d", "-b", buf, "-t", s.name).CombinedOutput(); err != nil {
		s.t.Fatalf("paste-buffer: %v %s", err, out)
	}
}

// TestREPLPaste: a pasted def with a blank line in its body is one
// definition, as in Python's REPL; Ctrl-C at a prompt drops the line and
// shows a fresh prompt without an error.
func TestREPLPaste(t *testing.T) {
	np := netplayBin(t)
	s := newTmux(t, []string{"XDG_STATE_HOME=" + t.TempDir(), "TERM=xterm"}, np)
	s.waitFor(">>>")

	s.paste("def area(w, h):\n    a = w * h\n\n    return a\n\nprint(area(6, 7))\n")
	scr := s.waitFor("42\n>>>")
	if strings.Contains(scr, "Error") || strings.Contains(scr, "want primary expression") {
		t.Fatalf("the paste failed:\n%s", scr)
	}

	s.keys("print(1 +")
	s.keys("C-c")
	scr = s.waitFor("KeyboardInterrupt")
	if strings.Contains(scr, "prompt aborted") {
		t.Fatalf("Ctrl-C at the prompt reads as an error:\n%s", scr)
	}
	s.keys("Enter", "print('fresh')", "Enter")
	s.waitFor("fresh\n>>>")
	s.keys("def f():", "Enter", "    x = 1")
	s.keys("C-c")
	s.keys("print('again')", "Enter")
	scr = s.waitFor("again\n>>>")
	if strings.Contains(scr, "prompt aborted") {
		t.Fatalf("Ctrl-C in a block reads as an error:\n%s", scr)
	}
}
