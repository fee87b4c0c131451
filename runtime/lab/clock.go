package lab

import (
	"container/heap"
	"context"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// Epoch is lab time zero. It lies far from the real date so that a deadline
// tells which clock it was computed in: net/http and miekg/dns set deadlines
// from time.Now() (real time), netplay code from st.Now() (lab time).
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// realEra is where real-clock times begin: anything later was read from
// time.Now(), anything earlier is lab time (or a deliberate past deadline
// such as time.Unix(1, 0)).
var realEra = Epoch.AddDate(10, 0, 0)

// fallback is how long the scheduler waits for a busy process to go quiet
// when no goroutine touches the lab at all (a CPU-bound handler, another
// test in the same binary), before it advances the clock anyway.
const fallback = 200 * time.Millisecond

// An event is something that happens at a lab time.
type event struct {
	at    time.Duration
	seq   uint64
	fn    func() // runs with n.mu held
	index int    // in the heap; -1 once popped or cancelled
}

type events []*event

func (h events) Len() int { return len(h) }
func (h events) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h events) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *events) Push(x any)   { e := x.(*event); e.index = len(*h); *h = append(*h, e) }
func (h *events) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

// at schedules fn at lab time t (n.mu held). Events at the same time run
// in the order they were scheduled.
func (n *Network) at(t time.Duration, fn func()) *event {
	if t < n.now {
		t = n.now
	}
	n.seq++
	e := &event{at: t, seq: n.seq, fn: fn}
	heap.Push(&n.events, e)
	select {
	case n.kick <- struct{}{}:
	default:
	}
	return e
}

// cancel removes a pending event (n.mu held).
func (n *Network) cancel(e *event) bool {
	if e == nil || e.index < 0 {
		return false
	}
	heap.Remove(&n.events, e.index)
	e.index = -1
	return true
}

// touch records that a goroutine used the lab (n.mu held): the clock must
// not advance until the process has gone quiet again.
func (n *Network) touch() { n.dirty = true; n.activity++ }

// run is the scheduler: it advances the virtual clock to the next event
// once every goroutine of the process is blocked (nothing running but the
// scheduler, nothing runnable), so the protocol code has finished reacting
// to what happened at the current lab instant.
func (n *Network) run() {
	defer close(n.stopped)
	for {
		n.mu.Lock()
		for len(n.events) == 0 && !n.closed {
			n.mu.Unlock()
			select {
			case <-n.kick:
			case <-n.done:
			}
			n.mu.Lock()
		}
		if n.closed {
			n.mu.Unlock()
			return
		}
		if n.dirty {
			n.dirty = false
			n.mu.Unlock()
			if !n.settle() {
				return
			}
			continue
		}
		next := n.events[0].at
		if n.ratio > 0 && next > n.now {
			wait := time.Until(n.realStart.Add(time.Duration(float64(next-n.labStart) * n.ratio)))
			if wait > 0 {
				n.mu.Unlock()
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-n.kick:
				case <-n.done:
				}
				t.Stop()
				continue
			}
		}
		e := heap.Pop(&n.events).(*event)
		if e.at > n.now {
			n.now = e.at
		}
		n.steps++
		e.fn()
		n.mu.Unlock()
	}
}

var quietSamples = []metrics.Sample{
	{Name: "/sched/goroutines/running:goroutines"},
	{Name: "/sched/goroutines/runnable:goroutines"},
}

// settle waits until the process is quiet: only the scheduler running,
// nothing runnable, and no lab call since the last look. It reports false
// if the network closed meanwhile.
func (n *Network) settle() bool {
	n.mu.Lock()
	last := n.activity
	n.mu.Unlock()
	quiet, spins := 0, 0
	since := time.Now()
	for {
		select {
		case <-n.done:
			return false
		default:
		}
		metrics.Read(quietSamples)
		running, runnable := quietSamples[0].Value.Uint64(), quietSamples[1].Value.Uint64()
		n.mu.Lock()
		act := n.activity
		n.mu.Unlock()
		switch {
		case act != last:
			last, quiet, since = act, 0, time.Now()
		case running <= 1 && runnable == 0:
			quiet++
			if quiet >= 3 {
				return true
			}
		default:
			quiet = 0
			if time.Since(since) > fallback {
				n.mu.Lock()
				n.forced++
				n.mu.Unlock()
				return true
			}
		}
		spins++
		if spins < 200 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}

// ---- stack.Clock ----

// Now is the lab time.
func (n *Network) Now() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return Epoch.Add(n.now)
}

// Elapsed is the lab time since the network started.
func (n *Network) Elapsed() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.now
}

// Sleep waits d of lab time.
func (n *Network) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	ch := make(chan struct{})
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return errNetClosed
	}
	n.touch()
	e := n.at(n.now+d, func() { n.dirty = true; close(ch) })
	n.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-n.done:
		return errNetClosed
	case <-ctx.Done():
		n.mu.Lock()
		n.cancel(e)
		n.mu.Unlock()
		return ctx.Err()
	}
}

type labTimer struct {
	n *Network
	e *event
}

func (t *labTimer) Stop() bool {
	t.n.mu.Lock()
	defer t.n.mu.Unlock()
	return t.n.cancel(t.e)
}

// AfterFunc calls f on its own goroutine after d of lab time.
func (n *Network) AfterFunc(d time.Duration, f func()) stack.Timer {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	return &labTimer{n, n.at(n.now+d, func() { n.dirty = true; go f() })}
}

// labTime converts a deadline to lab time (n.mu held): a time in the real
// era was computed from time.Now() and is moved into the lab's clock.
func (n *Network) labTime(t time.Time) time.Duration {
	if t.After(realEra) {
		return n.now + time.Until(t)
	}
	return t.Sub(Epoch)
}
