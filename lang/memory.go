package lang

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Memory is limited per process, not per interpreter: Go cannot say which
// goroutine owns which bytes. `netplay run --max-memory` therefore runs the
// script in a child process that calls LimitMemory, and the parent turns the
// child's death by memory exhaustion into one "limit" line.

var memory struct {
	sync.Mutex
	limit   int64
	flag    string // how the limit was given, for the message
	interps map[*Interp]struct{}
}

// LimitMemory caps the memory of this process at n bytes. Past it every
// running script is aborted with a "limit" error naming flag ("--max-memory
// 256MiB"). The garbage collector works harder as the heap nears n, and the
// data segment is capped a little above n (RLIMIT_DATA) so that one huge
// allocation fails at once instead of exhausting the machine: Go reports
// that as a fatal error, which the caller's parent process must turn into a
// limit line (see cmd/netplay).
func LimitMemory(n int64, flag string) error {
	memory.Lock()
	memory.limit, memory.flag = n, flag
	memory.Unlock()
	// Above the trip point, so the collector does not spiral just under it.
	debug.SetMemoryLimit(n + n/2)
	hard := uint64(2*n + 64<<20)
	if err := unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: hard, Max: hard}); err != nil {
		return err
	}
	go memoryWatchdog(n)
	return nil
}

// MaxAlloc is the largest single allocation a builtin should make on a
// script's behalf, or 0 for no limit.
func MaxAlloc() int64 {
	memory.Lock()
	defer memory.Unlock()
	return memory.limit
}

// CheckAlloc refuses, with a limit error, a single allocation of n bytes
// that could not fit in the memory limit.
func CheckAlloc(op string, n int64) error {
	memory.Lock()
	limit, flag := memory.limit, memory.flag
	memory.Unlock()
	if limit > 0 && n > limit {
		return Errorf(KindLimit, op, "", "refusing to allocate %d bytes: more than the memory limit (%s)", n, flag)
	}
	return nil
}

func registerInterp(in *Interp) {
	memory.Lock()
	if memory.interps == nil {
		memory.interps = map[*Interp]struct{}{}
	}
	memory.interps[in] = struct{}{}
	memory.Unlock()
}

func unregisterInterp(in *Interp) {
	memory.Lock()
	delete(memory.interps, in)
	memory.Unlock()
}

// memoryWatchdog polls the heap and aborts every script once the memory
// still live after a collection exceeds n.
func memoryWatchdog(n int64) {
	// Objects and goroutine stacks: a bomb of spawned tasks grows the
	// second.
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	for {
		time.Sleep(10 * time.Millisecond)
		metrics.Read(samples)
		stacks := int64(samples[2].Value.Uint64())
		if int64(samples[0].Value.Uint64())+stacks <= n {
			continue
		}
		runtime.GC()
		metrics.Read(samples)
		if int64(samples[1].Value.Uint64())+int64(samples[2].Value.Uint64()) <= n {
			continue
		}
		memory.Lock()
		flag := memory.flag
		var ins []*Interp
		for in := range memory.interps {
			ins = append(ins, in)
		}
		memory.Unlock()
		for _, in := range ins {
			in.Abort(Errorf(KindLimit, "", "", "script exceeded its memory limit (%s)", flag))
		}
	}
}
