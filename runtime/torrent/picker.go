package torrent

import (
	"math/rand/v2"
	"sync"
)

// A Picker chooses the next piece to download from a peer. have[i] is true
// for the pieces we have or are already fetching, available[i] counts the
// connected peers that have piece i, and peer.Has says what this peer can
// give. It returns a piece index, or -1 for none. The engine itself
// finishes pieces it has started before asking for a new one (strict
// priority) and, once every missing piece is being fetched, asks several
// peers for the last blocks at once (endgame). Pick may be called from
// several goroutines at once.
type Picker interface {
	Pick(have []bool, available []int, peer PeerInfo) int
}

// RarestFirst is BitTorrent's default picker: the piece the fewest
// connected peers have, so rare pieces spread before their owners leave
// and every peer soon has something the others want. The very first piece
// is picked at random instead: rarest pieces are slow to come (few peers
// have them) and a newcomer needs a whole piece quickly, to have something
// to trade.
type RarestFirst struct {
	Seed uint64 // of the random choices, so a run can be repeated

	mu  sync.Mutex
	rng *rand.Rand
}

func (r *RarestFirst) Pick(have []bool, available []int, peer PeerInfo) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rng == nil {
		r.rng = rand.New(rand.NewPCG(r.Seed, 1))
	}
	var candidates []int
	started := false
	for i, h := range have {
		if h {
			started = true
		} else if peer.Has[i] {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return -1
	}
	if !started {
		return candidates[r.rng.IntN(len(candidates))]
	}
	// Among the rarest, choose at random, so peers that see the same
	// availability do not all ask for the same piece.
	best, ties := -1, 0
	for _, i := range candidates {
		switch {
		case best < 0 || available[i] < available[best]:
			best, ties = i, 1
		case available[i] == available[best]:
			ties++
			if r.rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}
