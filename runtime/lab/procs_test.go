package lab

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// While one network is open the process runs on one processor and the
// collector waits for a large heap; closing it gives both back. A process
// given GOGC keeps its collector as it is.
func TestOneNetworkPinsTheProcess(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("the environment sets the runtime's rules itself")
	}
	procsBefore, gcBefore := runtime.GOMAXPROCS(0), gcPercent()
	n := NewNetwork(Options{Seed: 1})
	if p := runtime.GOMAXPROCS(0); p != 1 {
		t.Errorf("GOMAXPROCS %d with one network open, want 1", p)
	}
	if p, lim := gcPercent(), debug.SetMemoryLimit(-1); p != -1 || lim != lazyHeap {
		t.Errorf("collector: GOGC %d, memory limit %d with one network open; want -1 and %d", p, lim, lazyHeap)
	}
	n.Close()
	if p := runtime.GOMAXPROCS(0); p != procsBefore {
		t.Errorf("GOMAXPROCS %d after close, want %d back", p, procsBefore)
	}
	if p, lim := gcPercent(), debug.SetMemoryLimit(-1); p != gcBefore || lim != math.MaxInt64 {
		t.Errorf("collector after close: GOGC %d, limit %d; want %d and none", p, lim, gcBefore)
	}

	// A script holding more than lazyHeap: after a collection the next
	// waits for twice what is live.
	old := lazyHeap
	lazyHeap = 8 << 20
	defer func() { lazyHeap = old }()
	n = NewNetwork(Options{Seed: 1})
	held := make([]byte, 32<<20)
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) < 64<<20 && time.Now().Before(deadline) {
		runtime.GC() // the hook runs after it, in the finalizer goroutine
		time.Sleep(time.Millisecond)
	}
	if lim := debug.SetMemoryLimit(-1); lim < 64<<20 {
		t.Errorf("memory limit %d with %d bytes live, want at least twice that", lim, len(held))
	}
	runtime.KeepAlive(held)
	n.Close()

	t.Setenv("GOGC", "150")
	n = NewNetwork(Options{Seed: 1})
	defer n.Close()
	if p, lim := gcPercent(), debug.SetMemoryLimit(-1); p != gcBefore || lim != math.MaxInt64 {
		t.Errorf("with GOGC set: GOGC %d, limit %d; want the process's own (%d, none)", p, lim, gcBefore)
	}
}
