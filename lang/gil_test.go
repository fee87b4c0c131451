package lang

import (
	"sync"
	"testing"
)

// The interpreter lock goes to waiters in the order they asked for it,
// whatever order the Go scheduler runs their goroutines in.
func TestLockIsFirstComeFirstServed(t *testing.T) {
	var g gil
	g.lock()
	var turns []<-chan struct{}
	for range 5 {
		turns = append(turns, g.reserve())
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := len(turns) - 1; i >= 0; i-- { // started last first
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-turns[i]
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			g.unlock()
		}()
	}
	g.unlock()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("waiters ran in the order %v, want 0 1 2 3 4", order)
		}
	}
	if g.held {
		t.Error("the lock is still held after every waiter unlocked")
	}
}
