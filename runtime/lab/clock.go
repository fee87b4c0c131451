package lab

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sort"
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

// censusAfter is how many looks at the runtime's counters the scheduler
// takes before it lists the goroutines, which costs a stop of the world.
const (
	censusAfter = 3
	censusEvery = 2 * time.Millisecond
	censusMax   = 32 * time.Millisecond
	busySpins   = 20 // yields while counted work runs, before blocking
)

// livelock is how long a goroutine working for the lab may stay running,
// outside the Starlark code the lab counts exactly and without waiting on
// the lab, before the clock is forced forward (Go code polling a socket
// with a past deadline in a loop would otherwise hold it for ever). Such a
// forced step is counted and reported.
const livelock = 5 * time.Second

// An event is something that happens at a lab time.
type event struct {
	at    time.Duration
	seq   uint64
	fn    func() // runs with n.mu held
	h     firer  // instead of fn, for events the lab makes per packet
	index int    // in the heap; staged while waiting to enter it, -1 once popped or cancelled
	key   string // orders staged events (see atKey)
}

// A firer is an event's action held in the struct that schedules it (an
// inflight packet, a direction's transmitter), so that the per-packet
// events cost no allocation of their own.
type firer interface{ fire() }

// staged is the index of an event a goroutine scheduled that waits, with
// the others scheduled at the same lab instant, to enter the heap.
const staged = -2

// events is the lab's event queue: a binary heap ordered by time, then by
// the order of scheduling. It is written out rather than container/heap's
// so that its comparisons and swaps, a fair part of what every packet
// costs, are not calls through an interface.
type events []*event

func (h events) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}

func (h events) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *events) push(e *event) {
	e.index = len(*h)
	*h = append(*h, e)
	h.up(e.index)
}

// pop removes and returns the first event.
func (h *events) pop() *event {
	return h.remove(0)
}

// remove takes out the event at index i.
func (h *events) remove(i int) *event {
	old := *h
	last := len(old) - 1
	e := old[i]
	if i != last {
		old.swap(i, last)
	}
	old[last] = nil
	*h = old[:last]
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
	e.index = -1
	return e
}

func (h events) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

// down moves the event at i towards the leaves, reporting whether it moved.
func (h events) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && h.less(r, j) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// at schedules fn at lab time t (n.mu held). Events at the same time run
// in the order they were scheduled, except that those goroutines schedule
// are staged first (atKey).
func (n *Network) at(t time.Duration, fn func()) *event { return n.atKey(t, "", fn) }

// atKey is at for an event that belongs to a socket (key names it): when a
// goroutine rather than an event schedules it, it is staged.
//
// Why staging: what the lab does at one instant runs event by event, each
// handing its wake-ups over one at a time (settle), so the order is the
// same in every run. But a woken goroutine may wake others itself (a
// BitTorrent peer that completes a piece tells every connection's writer),
// and those run in whatever order the Go scheduler picks. So the events
// goroutines schedule (what they send, their timers) do not enter the heap
// at once: when the instant's work is done they enter it sorted by the
// socket they belong to, and within one socket in the order scheduled.
func (n *Network) atKey(t time.Duration, key string, fn func()) *event {
	e := &event{fn: fn, key: key}
	n.schedule(e, t)
	return e
}

// schedule puts e, which is neither in the heap nor staged, at lab time t
// (n.mu held); at and atKey make e, a firer reuses its own.
func (n *Network) schedule(e *event, t time.Duration) {
	e.at = max(t, n.now)
	if n.inEvent {
		// The scheduler itself is running an event: it sees e when the
		// event returns, without being kicked.
		n.seq++
		e.seq = n.seq
		n.events.push(e)
		return
	}
	e.index = staged
	n.staged = append(n.staged, e)
	n.kickNow()
}

// unstage moves the staged events into the heap, ordered by key (n.mu
// held).
func (n *Network) unstage() {
	if len(n.staged) == 0 {
		return
	}
	sort.SliceStable(n.staged, func(i, j int) bool { return n.staged[i].key < n.staged[j].key })
	for i, e := range n.staged {
		n.staged[i] = nil
		if e.index != staged {
			continue // cancelled meanwhile
		}
		n.seq++
		e.seq = n.seq
		n.events.push(e)
	}
	n.staged = n.staged[:0]
}

// cancel removes a pending event (n.mu held).
func (n *Network) cancel(e *event) bool {
	switch {
	case e == nil || e.index == -1:
		return false
	case e.index == staged:
		e.index = -1
		return true
	}
	n.events.remove(e.index)
	e.index = -1
	return true
}

// touch records that a goroutine used the lab (n.mu held): the clock must
// not advance until that goroutine's reaction has finished.
func (n *Network) touch() { n.dirty = true; n.activity++ }

// A wakeup is where goroutines blocked on a waiter meet: signal queues it
// and wakeNext, in its turn, closes sig and wakes them.
type wakeup struct {
	sig      chan struct{}
	sleepers int // goroutines blocked on sig (one that gives up leaves)
}

// wakeNext wakes the goroutines of the first queued signal (n.mu held).
// Settle calls it once everything woken before has run, so goroutines the
// lab wakes at one instant run one after another, in the order the lab
// signalled them, not all at once in an order the Go scheduler picks.
func (n *Network) wakeNext() {
	w := n.wakeq.items()[0]
	n.wakeq.pop(1)
	close(w.sig)
	n.pending += w.sleepers
	n.dirty = true
}

// release gives back a wake-up token (n.mu held): the goroutine the lab woke
// has run.
func (n *Network) release() {
	n.pending--
	if n.pending == 0 {
		n.kickNow()
	}
}

func (n *Network) kickNow() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Kick tells the scheduler that work outside the lab's own accounting
// (Options.Busy) has changed.
func (n *Network) Kick() {
	n.mu.Lock()
	n.activity++
	n.mu.Unlock()
	n.kickNow()
}

// busyNow is the lab-runnable work (n.mu held): goroutines woken by the lab
// that have not run yet, timer callbacks running, and the script's threads
// computing or waiting for the interpreter lock.
func (n *Network) busyNow() int64 {
	b := int64(n.pending + n.work)
	if n.outside != nil {
		b += n.outside()
	}
	return b
}

// run is the scheduler: it advances the virtual clock to the next event
// once the work the lab started at the current instant has finished.
func (n *Network) run() {
	defer close(n.stopped)
	for {
		n.mu.Lock()
		for len(n.events) == 0 && len(n.staged) == 0 && n.wakeq.len() == 0 && !n.closed {
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
		if n.dirty || n.busyNow() > 0 || len(n.staged) > 0 || n.wakeq.len() > 0 {
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
		e := n.events.pop()
		if e.at > n.now {
			n.now = e.at
		}
		n.steps++
		n.inEvent = true
		if e.h != nil {
			e.h.fire()
		} else {
			e.fn()
		}
		n.inEvent = false
		n.mu.Unlock()
	}
}

// settle waits until what happened at the current lab instant has been
// dealt with. The lab counts its own work exactly (busyNow): while a woken
// goroutine has not run, a timer callback runs, or a Starlark thread
// computes or waits for the interpreter lock, the clock stays. What is left
// is Go code between two lab calls (a server goroutine parsing a request
// before it calls its Starlark handler, or handing it to another
// goroutine): that is over once no lab call happens and no goroutine
// working for the lab is running or runnable. When the runtime's counters
// show nothing running but the scheduler, that is known at once; when
// something else keeps the process busy, a census of the goroutines tells
// (census.go). It reports false if the network closed meanwhile.
func (n *Network) settle() bool {
	samples := []metrics.Sample{
		{Name: "/sched/goroutines/running:goroutines"},
		{Name: "/sched/goroutines/runnable:goroutines"},
	}
	n.mu.Lock()
	last := n.activity
	n.mu.Unlock()
	quiet, rounds, spins := 0, 0, 0
	since := time.Now() // of the last sign of lab work
	lastCensus := since
	for {
		select {
		case <-n.done:
			return false
		default:
		}
		n.mu.Lock()
		busy := n.busyNow()
		act := n.activity
		n.dirty = false
		n.mu.Unlock()
		if busy > 0 {
			if !n.waitCounted(&spins) {
				return false
			}
			n.mu.Lock()
			last = n.activity
			n.mu.Unlock()
			quiet, rounds, since = 0, 0, time.Now()
			continue
		}
		switch {
		case act != last:
			last, quiet, rounds = act, 0, 0
			since = time.Now()
		default:
			rounds++
			metrics.Read(samples)
			switch {
			case samples[0].Value.Uint64() <= 1 && samples[1].Value.Uint64() == 0:
				quiet++
			case rounds >= censusAfter && time.Since(lastCensus) >= n.censusGap:
				lastCensus = time.Now()
				// Something keeps the process busy: is it lab work?
				lw := n.labWorking()
				n.nextCensus(lw, time.Since(lastCensus))
				if !lw {
					quiet = 2
				} else if time.Since(since) > livelock {
					n.mu.Lock()
					n.forceStep()
					n.unstage()
					for n.wakeq.len() > 0 {
						n.wakeNext()
					}
					n.mu.Unlock()
					return true
				}
			default:
				quiet = 0
			}
			if quiet >= 2 {
				n.mu.Lock()
				same := n.activity == last && n.busyNow() == 0
				if same {
					n.unstage()
					if n.wakeq.len() == 0 {
						n.mu.Unlock()
						return true
					}
					n.wakeNext()
					spins = 0
				}
				n.mu.Unlock()
				quiet = 0
			}
		}
		if rounds < 20 {
			runtime.Gosched()
		} else {
			// Lab goroutines waiting for a CPU get it sooner if the
			// scheduler does not spin.
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// waitCounted waits a while for counted work (busyNow) to finish,
// reporting false if the network closed meanwhile. A goroutine the lab
// just woke usually runs next on this very thread, so the first few
// waits of a settle yield, which lets it; blocking would put the thread to
// sleep and wait for the operating system to wake it again, which takes
// milliseconds on a loaded machine. Then it blocks until the work says it
// has finished (release, Kick), or for 10 ms.
func (n *Network) waitCounted(spins *int) bool {
	if *spins < busySpins {
		*spins++
		runtime.Gosched()
		return true
	}
	select {
	case <-n.kick:
	case <-n.done:
		return false
	case <-time.After(10 * time.Millisecond):
	}
	return true
}

// nextCensus sets how long the scheduler waits before its next census
// (only the scheduler's goroutine uses it). A census that finds protocol
// code running says nothing the runtime's counters would not soon say too
// (a protocol goroutine finishing, or waiting for a CPU on a loaded
// machine), so after each such census the next waits twice as long, up to
// censusMax; one that finds only unrelated work, the case the census is
// for, brings the wait back to censusEvery. The wait is also at least four
// times what the census took, so that listing many goroutines never takes
// more than a fifth of the scheduler's time.
func (n *Network) nextCensus(labWork bool, took time.Duration) {
	gap := censusEvery
	if labWork {
		gap = min(2*n.censusGap, censusMax)
	}
	n.censusGap = max(gap, 4*took)
}

// forceStep counts a clock step taken although the lab was still being
// used, and reports the first one (n.mu held).
func (n *Network) forceStep() {
	n.forced++
	if n.forced == 1 && n.warn != nil {
		w, now := n.warn, n.now
		go w(fmt.Sprintf("lab: warning: forced the clock forward at %.6fs: a goroutine using the lab kept running for %s at one lab instant (a loop polling a socket?); results may vary between runs", now.Seconds(), livelock))
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
	e := n.at(n.now+d, func() { n.pending++; n.dirty = true; close(ch) })
	n.mu.Unlock()
	select {
	case <-ch:
		n.mu.Lock()
		n.touch()
		n.release()
		n.mu.Unlock()
		return nil
	case <-n.done:
		return errNetClosed
	case <-ctx.Done():
		n.mu.Lock()
		if !n.cancel(e) {
			n.release() // it fired meanwhile: its token is ours
		}
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

// AfterFunc calls f on its own goroutine after d of lab time. The clock
// waits for f to return, so f must not wait for lab time itself.
func (n *Network) AfterFunc(d time.Duration, f func()) stack.Timer {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	return &labTimer{n, n.at(n.now+d, func() {
		n.work++
		n.dirty = true
		go func() {
			defer func() {
				n.mu.Lock()
				n.work--
				n.touch()
				if n.work == 0 {
					n.kickNow()
				}
				n.mu.Unlock()
			}()
			f()
		}()
	})}
}

// realGrain is what a deadline computed from the real clock is rounded up
// to (labTime).
const realGrain = 10 * time.Millisecond

// labTime converts a deadline to lab time (n.mu held): a time in the real
// era was computed from time.Now() and is moved into the lab's clock. What
// is left of it is rounded up to a whole realGrain: it was computed as now
// plus a timeout some real microseconds ago, fewer or more from run to
// run, and those must not show in lab time (a 2 s timeout stays 2 s).
func (n *Network) labTime(t time.Time) time.Duration {
	if t.After(realEra) {
		left := time.Until(t)
		if left <= 0 {
			return n.now + left
		}
		return n.now + (left+realGrain-1)/realGrain*realGrain
	}
	return t.Sub(Epoch)
}
