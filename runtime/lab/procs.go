package lab

import (
	"os"
	"runtime"
	"sync"
)

// Why one processor: the clock hands every wake-up to the goroutine it
// woke and waits until that goroutine has run and blocked again. With
// several processors the woken goroutine is queued on another one, whose
// thread the kernel must wake first: a settle cost about 200 µs on the
// 2-core machine, against about 24 µs when the goroutine runs on the
// scheduler's own processor. Lab scripts spend nearly all their real time
// in those hand-overs (lab_institutional_cache: 2.5 s at GOMAXPROCS=2,
// 0.4 s at 1), and lab time does not depend on it, so while a network is
// open the process runs on one processor unless told otherwise.
//
// GOMAXPROCS belongs to the process, so this is process state, and it
// holds only while one network is open: networks running side by side in
// one process (tests in parallel) each wait for their own goroutines, and
// on one processor each would wait behind the others' work.
var procs struct {
	sync.Mutex
	open   map[*Network]bool // the open networks, and whether each asked for one processor
	pinned bool
}

// pin applies Options.Procs when n opens; Close calls unpin.
func (n *Network) pin(want int) {
	procs.Lock()
	defer procs.Unlock()
	if procs.open == nil {
		procs.open = map[*Network]bool{}
	}
	procs.open[n] = want == 1 || (want == 0 && os.Getenv("GOMAXPROCS") == "")
	repin()
}

func (n *Network) unpin() {
	procs.Lock()
	defer procs.Unlock()
	delete(procs.open, n)
	repin()
}

// repin pins the process to one processor while exactly one network is
// open and it asked for that, and gives the default back otherwise
// (procs held).
func repin() {
	want := false
	if len(procs.open) == 1 {
		for _, asks := range procs.open {
			want = asks
		}
	}
	switch {
	case want && !procs.pinned:
		runtime.GOMAXPROCS(1)
		procs.pinned = true
	case !want && procs.pinned:
		runtime.SetDefaultGOMAXPROCS()
		procs.pinned = false
	}
}
