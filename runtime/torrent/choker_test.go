package torrent

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// peersWithRates makes interested peers p0, p1, ... sending to us at the
// given rates, all choked.
func peersWithRates(rates ...float64) []PeerInfo {
	var ps []PeerInfo
	for i, r := range rates {
		ps = append(ps, PeerInfo{ID: fmt.Sprintf("p%d", i), DownloadRate: r, Interested: true, AmChoking: true})
	}
	return ps
}

// applied marks the peers in ids unchoked and the others choked, as the
// engine does with a choker's answer.
func applied(ps []PeerInfo, ids []string) []PeerInfo {
	out := slices.Clone(ps)
	for i := range out {
		out[i].AmChoking = !slices.Contains(ids, out[i].ID)
	}
	return out
}

// A full rechoke unchokes the four fastest and one optimistic peer, and
// chokes the rest.
func TestTitForTatFourFastestAndOneOptimistic(t *testing.T) {
	tft := &TitForTat{Seed: 1}
	now := time.Unix(1000, 0)
	got := tft.Choose(now, peersWithRates(50, 10, 40, 0, 30, 20, 0), false)
	if len(got) != 5 {
		t.Fatalf("unchoked %v, want 5 peers", got)
	}
	for _, id := range []string{"p0", "p2", "p4", "p5"} {
		if !slices.Contains(got, id) {
			t.Errorf("fast peer %s not unchoked (got %v)", id, got)
		}
	}
}

// Between rechokes nobody is choked, even a regular peer that lost
// interest for a moment; the next rechoke (10 s later) chokes whoever it
// leaves out.
func TestTitForTatChokesOnlyAtRechokes(t *testing.T) {
	tft := &TitForTat{Seed: 1}
	now := time.Unix(1000, 0)
	ps := peersWithRates(50, 40, 30, 20, 10, 0, 0)
	first := tft.Choose(now, ps, false)
	ps = applied(ps, first)
	ps[0].Interested = false // p0 has caught up with us
	second := tft.Choose(now.Add(time.Second), ps, false)
	if !slices.Contains(second, "p0") {
		t.Errorf("p0 choked between rechokes for losing interest: %v", second)
	}
	for _, id := range first {
		if !slices.Contains(second, id) {
			t.Errorf("%s choked between rechokes: first %v, then %v", id, first, second)
		}
	}
	ps = applied(ps, second)
	third := tft.Choose(now.Add(RechokeInterval+time.Second), ps, false)
	if slices.Contains(third, "p0") {
		t.Errorf("the rechoke kept unchoking p0, which wants nothing: %v", third)
	}
}

// The optimistic peer keeps its slot for 30 s when it merely loses
// interest for a moment.
func TestTitForTatOptimisticSurvivesAFlapOfInterest(t *testing.T) {
	tft := &TitForTat{Seed: 3}
	now := time.Unix(1000, 0)
	ps := peersWithRates(50, 40, 30, 20, 0, 0, 0, 0)
	tft.Choose(now, ps, false)
	opt := tft.optimistic
	if opt == "" {
		t.Fatal("no optimistic unchoke")
	}
	for i := range ps {
		if ps[i].ID == opt {
			ps[i].Interested = false
		}
	}
	tft.Choose(now.Add(time.Second), ps, false)
	for i := range ps {
		ps[i].Interested = true
	}
	tft.Choose(now.Add(2*time.Second), ps, false)
	if tft.optimistic != opt {
		t.Errorf("optimistic unchoke moved from %s to %s after a flap of interest", opt, tft.optimistic)
	}
}

// A seed unchokes every interested peer.
func TestTitForTatSeedUnchokesEveryone(t *testing.T) {
	tft := &TitForTat{Seed: 1}
	ps := peersWithRates(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	ps[3].Interested = false
	got := tft.Choose(time.Unix(1000, 0), ps, true)
	if len(got) != 9 || slices.Contains(got, "p3") {
		t.Errorf("seed unchoked %v, want the 9 interested peers", got)
	}
}
