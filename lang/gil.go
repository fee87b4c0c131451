package lang

import "sync"

// gil is the interpreter lock. It hands itself to waiting threads in the
// order they asked for it, where sync.Mutex lets any waiter (or a newcomer)
// win: on the lab, tasks woken at one lab instant must run in the same
// order in every run, whatever the Go scheduler does, or an experiment's
// output would change from run to run (spawn reserves its task's turn
// before the task's goroutine starts, for the same reason).
type gil struct {
	mu    sync.Mutex
	held  bool
	queue []chan struct{} // waiters, first in line first
}

// granted is the turn of a thread that found the lock free.
var granted = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// reserve takes a turn: the returned channel is closed once the lock is
// the caller's. A thread must wait for its turn and, once it has run,
// unlock.
func (g *gil) reserve() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.held {
		g.held = true
		return granted
	}
	c := make(chan struct{})
	g.queue = append(g.queue, c)
	return c
}

func (g *gil) lock() { <-g.reserve() }

// unlock hands the lock to the first waiter, if any.
func (g *gil) unlock() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.held = false
		return
	}
	next := g.queue[0]
	g.queue[0] = nil
	g.queue = g.queue[1:]
	if len(g.queue) == 0 {
		g.queue = nil
	}
	close(next) // still held: it is next's now
}
