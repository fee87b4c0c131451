package torrent

import (
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"
)

// PeerInfo describes one connected peer to a choker or a picker.
type PeerInfo struct {
	ID           string  // the peer id, 20 bytes
	Addr         string  // host:port
	DownloadRate float64 // bytes/s we received from it over the last 20 s
	UploadRate   float64 // bytes/s we sent to it over the last 20 s
	Interested   bool    // it wants pieces we have
	AmChoking    bool    // we are choking it now
	Snubbed      bool    // we want its pieces but it sent nothing for 60 s
	Has          []bool  // the pieces it has
}

// A Choker decides whom we upload to. Choose is called every 10 seconds
// (a "rechoke") and whenever a peer's interest changes or it leaves; it
// returns the ids of the peers to unchoke, every other peer is choked.
// complete says we are seeding. Choose may be called from several
// goroutines, never at once.
type Choker interface {
	Choose(now time.Time, peers []PeerInfo, complete bool) []string
}

// Choking intervals of the reference client, as the course gives them.
const (
	RechokeInterval    = 10 * time.Second
	OptimisticInterval = 30 * time.Second
	SnubTimeout        = 60 * time.Second
	RateWindow         = 20 * time.Second
	UploadSlots        = 4
)

// TitForTat is BitTorrent's default choker: upload to the four peers that
// send to us fastest, re-evaluated every 10 seconds, plus one peer chosen
// at random every 30 seconds (the "optimistic unchoke"), so a newcomer with
// nothing to offer yet gets a first piece and a chance to become a top-4
// partner. Only interested peers count; a snubbed peer (one that has sent
// us nothing for a minute) loses its regular slot. While seeding there is
// nothing to reciprocate, and every interested peer is unchoked: the
// seed's upload is shared among them all (TCP's fair sharing does the
// rationing), so each leecher soon holds pieces the others lack and every
// upload link in the swarm has something to carry. Four seeding slots
// ranked by rate would feed the same four peers for ever (the fastest
// stay fastest), leaving the others to wait on them: on the course's
// worked example that cost 45% over the P2P bound, against 7% this way.
type TitForTat struct {
	Slots int    // regular slots; 0 means 4
	Seed  uint64 // of the optimistic unchoke's random choice

	mu             sync.Mutex
	regular        map[string]bool
	optimistic     string
	turn           string // the last peer given an optimistic turn
	lastRechoke    time.Time
	lastOptimistic time.Time
	rng            *rand.Rand
}

func (t *TitForTat) Choose(now time.Time, peers []PeerInfo, complete bool) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	slots := t.Slots
	if slots == 0 {
		slots = UploadSlots
	}
	if t.rng == nil {
		t.rng = rand.New(rand.NewPCG(t.Seed, 7))
	}
	interested := map[string]PeerInfo{}
	for _, p := range peers {
		if p.Interested {
			interested[p.ID] = p
		}
	}
	if complete {
		// Seeding: nothing to reciprocate, so no slots (see TitForTat).
		var all []string
		for _, p := range sortedByID(interested) {
			all = append(all, p.ID)
		}
		return all
	}

	full := t.regular == nil || now.Sub(t.lastRechoke) >= RechokeInterval
	if full {
		// A full rechoke: the fastest candidates get the slots.
		t.lastRechoke = now
		t.regular = map[string]bool{}
	} else {
		// Between rechokes keep the regular peers that still want data
		// and only fill empty slots, so rates are compared every 10 s.
		for id := range t.regular {
			if _, ok := interested[id]; !ok {
				delete(t.regular, id)
			}
		}
	}
	for _, p := range byRate(interested) {
		if len(t.regular) >= slots {
			break
		}
		if !p.Snubbed && (full || p.ID != t.optimistic) {
			t.regular[p.ID] = true
		}
	}

	// The optimistic unchoke: an interested peer outside the top four,
	// changed every 30 seconds (or when it left or got a regular slot),
	// going round the peers in turn from a random start, as the reference
	// client does. Not changed when it lost interest for a moment: it
	// keeps its unchoke until the next rechoke anyway (see below), and a
	// new optimistic peer at every flap of interest would unchoke everyone
	// in turn. In turn rather than at random: a peer that reciprocates is
	// soon promoted to a regular slot, which ends its optimistic turn
	// early, while one that never uploads keeps every turn it draws for
	// the full 30 s; drawn at random it would hold the slot about half the
	// time, in turn it holds it once a round.
	stillThere := slices.ContainsFunc(peers, func(p PeerInfo) bool { return p.ID == t.optimistic })
	expired := now.Sub(t.lastOptimistic) >= OptimisticInterval
	if !stillThere || t.regular[t.optimistic] || expired {
		t.optimistic = t.nextOptimistic(interested)
		if expired {
			t.lastOptimistic = now
		}
	}

	var unchoke []string
	for id := range t.regular {
		unchoke = append(unchoke, id)
	}
	if t.optimistic != "" {
		unchoke = append(unchoke, t.optimistic)
	}
	if !full {
		// Nobody is choked between rechokes: a peer that lost its slot
		// by losing interest for a moment keeps its unchoke until the
		// next rechoke, because a choke throws away the requests it
		// crosses on the wire, and their blocks then come twice.
		for _, p := range peers {
			if !p.AmChoking && !slices.Contains(unchoke, p.ID) {
				unchoke = append(unchoke, p.ID)
			}
		}
	}
	return unchoke
}

// byRate sorts peers by the rate they send to us, fastest first.
func byRate(m map[string]PeerInfo) []PeerInfo {
	out := sortedByID(m)
	sort.SliceStable(out, func(i, j int) bool { return out[i].DownloadRate > out[j].DownloadRate })
	return out
}

// nextOptimistic is the first interested peer outside the regular slots
// after the last optimistic one in the order of ids, wrapping round; the
// first time, a random one.
func (t *TitForTat) nextOptimistic(interested map[string]PeerInfo) string {
	var others []string
	for _, p := range sortedByID(interested) {
		if !t.regular[p.ID] {
			others = append(others, p.ID)
		}
	}
	if len(others) == 0 {
		return ""
	}
	if t.turn == "" {
		t.turn = others[t.rng.IntN(len(others))]
		return t.turn
	}
	for _, id := range others {
		if id > t.turn {
			t.turn = id
			return id
		}
	}
	t.turn = others[0]
	return t.turn
}

func sortedByID(m map[string]PeerInfo) []PeerInfo {
	out := make([]PeerInfo, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
