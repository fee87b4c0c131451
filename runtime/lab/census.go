package lab

import (
	"bytes"
	"runtime"
	"strconv"
)

// The lab knows which goroutines work for it: those that have waited in a
// lab call or run Starlark code for the script, and the goroutines they
// started since the last look. When the process is busy (a goroutine
// burning CPU elsewhere, another test, a real-network server) the runtime's
// counters cannot tell whether lab work is still running, so the scheduler
// takes a census of the goroutines' states and waits only for those.

// goid is the calling goroutine's id.
func goid() uint64 {
	var buf [32]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// noteGoroutine records that the calling goroutine works for the lab
// (n.mu held).
func (n *Network) noteGoroutine() {
	n.labG[goid()] = struct{}{}
}

// NoteWorker records that the calling goroutine works for the lab: it runs
// the script's Starlark code.
func (n *Network) NoteWorker() {
	id := goid()
	n.mu.Lock()
	n.labG[id] = struct{}{}
	n.mu.Unlock()
}

// goroutineState is one goroutine of a census.
type goroutineState struct {
	id, parent uint64
	state      string
}

// census lists every goroutine with its state and creator.
func census(buf []byte) ([]goroutineState, []byte) {
	if len(buf) < 64<<10 {
		buf = make([]byte, 64<<10)
	}
	for {
		k := runtime.Stack(buf, true)
		if k < len(buf) {
			buf = buf[:k]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutineState
	for _, block := range bytes.Split(buf, []byte("\n\n")) {
		head, rest, _ := bytes.Cut(block, []byte("\n"))
		if !bytes.HasPrefix(head, []byte("goroutine ")) {
			continue
		}
		head = head[len("goroutine "):]
		sp := bytes.IndexByte(head, ' ')
		if sp < 0 {
			continue
		}
		id, err := strconv.ParseUint(string(head[:sp]), 10, 64)
		if err != nil {
			continue
		}
		g := goroutineState{id: id}
		if open := bytes.IndexByte(head, '['); open >= 0 {
			st := head[open+1:]
			if end := bytes.IndexAny(st, ",]"); end >= 0 {
				st = st[:end]
			}
			g.state = string(st)
		}
		if i := bytes.LastIndex(rest, []byte(" in goroutine ")); i >= 0 {
			tail := rest[i+len(" in goroutine "):]
			if nl := bytes.IndexByte(tail, '\n'); nl >= 0 {
				tail = tail[:nl]
			}
			g.parent, _ = strconv.ParseUint(string(bytes.TrimSpace(tail)), 10, 64)
		}
		out = append(out, g)
	}
	return out, buf[:cap(buf)]
}

// labWorking takes a census and reports whether a goroutine working for
// the lab is running or runnable; it forgets goroutines that have ended.
// Goroutines started by lab goroutines since the previous census count as
// lab goroutines (a server's goroutine for a new connection).
func (n *Network) labWorking() bool {
	gs, buf := census(n.censusBuf)
	n.censusBuf = buf
	n.mu.Lock()
	defer n.mu.Unlock()
	alive := make(map[uint64]struct{}, len(n.labG))
	working := false
	var top uint64
	for _, g := range gs {
		top = max(top, g.id)
		_, lab := n.labG[g.id]
		if !lab && g.id > n.censusTop {
			if _, p := n.labG[g.parent]; p {
				lab = true
			}
		}
		if !lab {
			continue
		}
		alive[g.id] = struct{}{}
		if g.id == n.schedG {
			continue
		}
		switch g.state {
		case "running", "runnable", "preempted":
			working = true
		}
	}
	// Keep goroutines that are new since the census began, too.
	for id := range n.labG {
		if id > top {
			alive[id] = struct{}{}
		}
	}
	n.labG = alive
	n.censusTop = top
	return working
}
