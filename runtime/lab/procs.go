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
	open   map[*int]bool // the open networks that asked for one processor (by a key of their own)
	users  int           // open networks
	pinned bool
}

// pinProcs applies Options.Procs for a new network and returns what its
// Close must call.
func pinProcs(want int) (unpin func()) {
	asks := want == 1 || (want == 0 && os.Getenv("GOMAXPROCS") == "")
	key := new(int)
	procs.Lock()
	if procs.open == nil {
		procs.open = map[*int]bool{}
	}
	procs.open[key] = asks
	procs.users++
	repin()
	procs.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			procs.Lock()
			delete(procs.open, key)
			procs.users--
			repin()
			procs.Unlock()
		})
	}
}

// repin pins the process to one processor while exactly one network is
// open and it asked for that, and gives the default back otherwise
// (procs held).
func repin() {
	want := false
	if procs.users == 1 {
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
