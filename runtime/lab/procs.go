package lab

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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
	open      map[*Network]bool // the open networks, and whether each asked for one processor
	pinned    bool
	lazy      bool // the collector is lazy (lazyGC); gcPercent is what to give back
	gcPercent int
	gen       int // of lazy collection, so that an old collection hook stops
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
		lazyGC()
	case !want && procs.pinned:
		runtime.SetDefaultGOMAXPROCS()
		procs.pinned = false
		eagerGC()
	}
}

// Why a lazy collector while pinned: on one processor the garbage
// collector's work is done on the processor the clock waits on. Worse, a
// goroutine that allocates while a collection is running must help mark
// in proportion to what it allocates, so the reader that takes a 2 MB
// body's buffer at one lab instant stalls the clock for milliseconds. A
// lab run is a short batch job, so while pinned the collector waits until
// the heap reaches lazyHeap, or twice what was live after the last
// collection if that is more, instead of until it doubles. That made
// bench/lab's 30 hosts × 2 MB about 15% faster. A process given GOGC or
// GOMEMLIMIT, or a memory limit (netplay run --max-memory), keeps its own
// settings.
var lazyHeap int64 = 256 << 20 // a variable for tests

// lazyGC makes the collector lazy, unless the process set its own rules
// (procs held).
func lazyGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return
	}
	procs.lazy = true
	procs.gen++
	procs.gcPercent = debug.SetGCPercent(-1)
	debug.SetMemoryLimit(lazyHeap)
	watchCollections(procs.gen)
}

// eagerGC gives the collector back its settings (procs held).
func eagerGC() {
	if !procs.lazy {
		return
	}
	procs.lazy = false
	procs.gen++
	debug.SetMemoryLimit(math.MaxInt64)
	debug.SetGCPercent(procs.gcPercent)
}

// watchCollections sets, after every collection while collection is lazy,
// the heap at which the next starts: twice what is live, so that a script
// holding more than lazyHeap is not collected over and over.
func watchCollections(gen int) {
	runtime.SetFinalizer(new([16]byte), func(*[16]byte) {
		procs.Lock()
		defer procs.Unlock()
		if !procs.lazy || procs.gen != gen {
			return
		}
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(live)
		debug.SetMemoryLimit(max(lazyHeap, 2*int64(live[0].Value.Uint64())))
		watchCollections(gen)
	})
}
