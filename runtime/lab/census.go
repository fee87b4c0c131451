package lab

import (
	"bytes"
	"runtime"
)

// When the process is busy (a goroutine burning CPU elsewhere, another
// test, a real-network server) the runtime's counters cannot tell whether
// lab work is still running, so the scheduler lists the goroutines and
// waits only for those running protocol code: netplay's own packages,
// net/http and the protocol libraries the modules use. Test code and
// unrelated goroutines do not hold the clock.

// labCode are the packages whose running goroutines count as lab work.
var labCode = [][]byte{
	[]byte("github.com/netplay-dev/netplay/"),
	[]byte("net/http."),
	[]byte("github.com/miekg/dns."),
	[]byte("github.com/emersion/"),
}

// labWorking lists the goroutines and reports whether one that runs
// protocol code is running or runnable (the scheduler itself aside).
func (n *Network) labWorking() bool {
	buf := n.censusBuf
	if len(buf) < 64<<10 {
		buf = make([]byte, 64<<10)
	}
	for {
		k := runtime.Stack(buf, true)
		if k < len(buf) {
			n.censusBuf = buf
			buf = buf[:k]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for len(buf) > 0 {
		var g []byte
		g, buf, _ = bytes.Cut(buf, []byte("\n\n"))
		head, frames, _ := bytes.Cut(g, []byte("\n"))
		if !working(head) || bytes.Contains(frames, []byte("lab.(*Network).settle")) {
			continue
		}
		if isLabCode(frames) {
			return true
		}
	}
	return false
}

// working reports whether a goroutine header ("goroutine 7 [runnable]:")
// shows it running or waiting only for a CPU.
func working(head []byte) bool {
	i := bytes.IndexByte(head, '[')
	if i < 0 {
		return false
	}
	st := head[i+1:]
	if j := bytes.IndexAny(st, ",]"); j >= 0 {
		st = st[:j]
	}
	switch string(st) {
	case "running", "runnable", "preempted":
		return true
	}
	return false
}

// testCode is netplay's package of test helpers (its CPU burner must not
// look like lab work).
var testCode = []byte("github.com/netplay-dev/netplay/modules/startest.")

// isLabCode reports whether a goroutine's frames include protocol code
// (function lines; file lines start with a tab). Tests' own functions do
// not count.
func isLabCode(frames []byte) bool {
	for len(frames) > 0 {
		var line []byte
		line, frames, _ = bytes.Cut(frames, []byte("\n"))
		if len(line) == 0 || line[0] == '\t' || bytes.Contains(line, []byte("_test.")) || bytes.Contains(line, testCode) {
			continue
		}
		for _, p := range labCode {
			if bytes.HasPrefix(line, p) || bytes.HasPrefix(line, append([]byte("created by "), p...)) {
				return true
			}
		}
	}
	return false
}
