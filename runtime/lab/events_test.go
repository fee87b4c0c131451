package lab

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The event queue hands events out by time, then in the order they were
// scheduled, whatever was cancelled in between.
func TestEventsComeOutInOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var h events
	var live []*event
	for seq := range uint64(5000) {
		e := &event{at: time.Duration(r.IntN(300)), seq: seq}
		h.push(e)
		live = append(live, e)
		if r.IntN(4) == 0 { // cancel one at random
			k := r.IntN(len(live))
			if got := h.remove(live[k].index); got != live[k] || got.index != -1 {
				t.Fatalf("remove(%d) took the wrong event", live[k].index)
			}
			live = slices.Delete(live, k, k+1)
		}
	}
	for i, e := range h {
		if e.index != i {
			t.Fatalf("event at %d says it is at %d", i, e.index)
		}
	}
	slices.SortFunc(live, func(a, b *event) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return int(a.seq) - int(b.seq)
	})
	for i, want := range live {
		if got := h.pop(); got != want {
			t.Fatalf("event %d out: at %v seq %d, want at %v seq %d", i, got.at, got.seq, want.at, want.seq)
		}
	}
	if len(h) != 0 {
		t.Fatalf("%d events left", len(h))
	}
}
