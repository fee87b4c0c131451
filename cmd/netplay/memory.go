package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/netplay-dev/netplay/lang"
)

// --max-memory runs the script in a child process: Go cannot recover from a
// failed allocation, so the child limits itself (lang.LimitMemory) and this
// process, its parent, reports the child's death by memory exhaustion as
// one "limit" line instead of Go's goroutine dump.

// memoryChildEnv marks the child, and carries the limit's text.
const memoryChildEnv = "NETPLAY_MEMORY_CHILD"

// withMemoryLimit runs body under o's memory limit: in this process when it
// is the child (or there is no limit), otherwise in a child process running
// the same command line.
func withMemoryLimit(o *options, stdin io.Reader, stdout, stderr io.Writer, body func() (int, error)) (int, error) {
	if o.maxMemory == 0 {
		raiseHeapFloor()
		return body()
	}
	flag := "--max-memory " + formatSize(o.maxMemory)
	// netplay grade's children (--calls, or marked by the grader, which
	// reads their deaths itself) limit themselves in place.
	if os.Getenv(memoryChildEnv) != "" || o.calls {
		if err := lang.LimitMemory(o.maxMemory, flag); err != nil {
			return 0, fmt.Errorf("--max-memory: %v", err)
		}
		return body()
	}
	return runMemoryChild(flag, stdin, stdout, stderr)
}

// commandLine is the command line Main was given, for the child to repeat.
var commandLine []string

func runMemoryChild(flag string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("--max-memory: %v", err)
	}
	cmd := exec.Command(exe, commandLine...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), memoryChildEnv+"=1")
	cmd.Stdin, cmd.Stdout = stdin, stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return 0, err
	}
	// The child gets the terminal's Ctrl-C itself; the parent waits for it.
	signal.Ignore(os.Interrupt)
	defer signal.Reset(os.Interrupt)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("--max-memory: %v", err)
	}
	crash := copyUntilCrash(stderr, pipe)
	err = cmd.Wait()
	killed := false
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			killed = true // the kernel's OOM killer
		}
	}
	if killed || outOfMemory(crash) {
		fmt.Fprintf(stderr, "netplay: limit: script exceeded its memory limit (%s)\n", flag)
		return 1, nil
	}
	stderr.Write(crash)
	if err != nil && ee == nil {
		return 0, err
	}
	return cmd.ProcessState.ExitCode(), nil
}

// copyUntilCrash copies the child's standard error line by line until Go's
// runtime starts a crash report, and returns the report.
func copyUntilCrash(w io.Writer, r io.Reader) []byte {
	br := bufio.NewReader(r)
	var crash bytes.Buffer
	for {
		line, err := br.ReadBytes('\n')
		switch {
		case crash.Len() == 0 && crashStart(line):
			crash.Write(line)
		case crash.Len() > 0:
			if crash.Len() < 1<<20 {
				crash.Write(line)
			}
		default:
			w.Write(line)
		}
		if err != nil {
			return crash.Bytes()
		}
	}
}

var crashHeads = []string{"fatal error: ", "runtime: ", "runtime/cgo: ", "panic: ", "SIGSEGV: ", "SIGBUS: ", "SIGABRT: ", "unexpected fault address", "unexpected signal"}

func crashStart(line []byte) bool {
	for _, h := range crashHeads {
		if bytes.HasPrefix(line, []byte(h)) {
			return true
		}
	}
	return false
}

// outOfMemory tells whether a crash of the memory-limited child came from
// the limit. Under RLIMIT_DATA Go either reports "out of memory" or, when an
// allocation of its own fails during a collection, faults inside the
// runtime; a panic or a data race in netplay's code is reported as it is.
func outOfMemory(crash []byte) bool {
	s := string(crash)
	if i := strings.Index(s, "\ngoroutine "); i >= 0 {
		s = s[:i]
	}
	switch {
	case strings.Contains(s, "out of memory"), strings.Contains(s, "cannot allocate memory"):
		return true
	case strings.HasPrefix(s, "panic: "), strings.Contains(s, "concurrent map"):
		return false
	}
	return s != ""
}

// heapFloor is allocated and never touched. The collector starts a cycle
// when the heap has doubled since the last one, but not below 4 MB; a
// script's live heap is mostly far smaller, so a loop that allocates (a
// str method, a received message) ran a cycle every 4 MB, each scanning
// netplay's 5 MB of globals and interrupting the loop: in a socket
// ping-pong that was a tenth of the interpreter's time. Counted as live,
// the floor spaces the cycles by its size; its pages are never written, so
// they take address space, not memory. Under --max-memory there is no
// floor: the limit and its watchdog count heap bytes.
var heapFloor []byte

const heapFloorSize = 16 << 20

func raiseHeapFloor() {
	if heapFloor == nil {
		heapFloor = make([]byte, heapFloorSize)
	}
}
