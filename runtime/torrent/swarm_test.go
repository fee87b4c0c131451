package torrent

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

func content(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func newPeer(t *testing.T, cfg Config) *Peer {
	t.Helper()
	if cfg.Stack == nil {
		cfg.Stack = stack.OS
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	p, err := NewPeer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

func waitAll(t *testing.T, peers ...*Peer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, p := range peers {
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("peer %s: %v (progress %.2f)", p.Addr(), err, p.Progress())
		}
	}
}

// A seeder and five leechers find each other through the tracker and all
// end with the seeder's bytes.
func TestSwarmOnLoopback(t *testing.T) {
	tr, err := NewTracker(stack.OS, "127.0.0.1:0", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	data := content(5<<20, 1)
	meta, err := Create(data, "five.bin", 256<<10, tr.URL())
	if err != nil {
		t.Fatal(err)
	}
	seeder := newPeer(t, Config{Meta: meta, Data: data})
	seeder.Start()
	var leechers []*Peer
	for range 5 {
		l := newPeer(t, Config{Meta: meta})
		l.Start()
		leechers = append(leechers, l)
	}
	waitAll(t, leechers...)
	for i, l := range leechers {
		if !bytes.Equal(l.Data(), data) {
			t.Fatalf("leecher %d has different bytes", i)
		}
	}
	if got := len(tr.Peers(meta.InfoHash)); got != 6 {
		t.Errorf("tracker knows %d peers, want 6", got)
	}
	// The leechers traded among themselves, not only with the seeder.
	var fromPeers int64
	for _, l := range leechers {
		fromPeers += l.Stats().Uploaded
	}
	if fromPeers == 0 {
		t.Error("no leecher uploaded anything")
	}
}

// A peer seeding corrupt data gets its pieces thrown away and is banned;
// the leecher gets the right bytes from an honest seeder.
func TestLyingPeerIsDetectedAndAvoided(t *testing.T) {
	data := content(1<<20, 2)
	meta, _ := Create(data, "x", 64<<10, "")
	bad := bytes.Clone(data)
	for i := 0; i < len(bad); i += 4096 {
		bad[i] ^= 0xff
	}
	liar := newPeer(t, Config{Meta: meta, Data: bad})
	liar.Start()
	honest := newPeer(t, Config{Meta: meta, Data: data})
	honest.Start()
	l := newPeer(t, Config{Meta: meta})
	l.Start()
	l.Connect(liar.Addr())
	// Let the liar be the only source until it has been caught.
	deadline := time.Now().Add(20 * time.Second)
	for l.Stats().HashFailures < MaxBadPieces && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Every piece the liar sent failed: none of its bytes show.
	if d := l.Data(); !bytes.Equal(d, make([]byte, len(d))) {
		t.Fatal("Data shows bytes of pieces that failed their check")
	}
	l.Connect(honest.Addr())
	waitAll(t, l)
	if !bytes.Equal(l.Data(), data) {
		t.Fatal("leecher kept corrupt data")
	}
	s := l.Stats()
	if s.HashFailures < MaxBadPieces {
		t.Fatalf("%d hash failures, want at least %d", s.HashFailures, MaxBadPieces)
	}
	for _, ps := range s.Peers {
		if ps.ID == idString(liar) && (ps.Connected || ps.BadPieces < MaxBadPieces) {
			t.Fatalf("liar still trusted: %+v", ps)
		}
	}
}

type neverUnchoke struct{ victim string }

func (n neverUnchoke) Choose(now time.Time, peers []PeerInfo, complete bool) []string {
	var ids []string
	for _, p := range peers {
		if p.ID != n.victim {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

func TestChokerStarvesAPeer(t *testing.T) {
	data := content(512<<10, 3)
	meta, _ := Create(data, "x", 32<<10, "")
	victimID := RandomPeerID()
	seeder := newPeer(t, Config{Meta: meta, Data: data, Choker: neverUnchoke{string(victimID[:])}})
	seeder.Start()
	victim := newPeer(t, Config{Meta: meta, PeerID: victimID})
	other := newPeer(t, Config{Meta: meta})
	victim.Start()
	other.Start()
	victim.Connect(seeder.Addr())
	other.Connect(seeder.Addr())
	waitAll(t, other)
	time.Sleep(100 * time.Millisecond)
	if victim.Progress() != 0 {
		t.Fatalf("victim got %.2f of the file", victim.Progress())
	}
}

func idString(p *Peer) string { id := p.ID(); return string(id[:]) }
