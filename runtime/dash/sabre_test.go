package dash

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Sabre's own results for its example video and four of its HD traces
// (scripts/data/sabre/README.md), with its defaults: 25 s buffer, EWMA
// half-lives 3 and 8 s, BOLA with γp = 5 s, abandonment on.
var sabreResults = []struct {
	trace, rule      string
	played, rebuffer float64 // kbps, s
	events           int
	change           float64 // kbps
}{
	{"trace0000", "bola", 4238.0, 0.000, 0, 62728},
	{"trace0000", "throughput", 3873.7, 15.692, 8, 36208},
	{"trace0001", "bola", 3993.2, 0.000, 0, 58403},
	{"trace0001", "throughput", 3582.9, 20.434, 10, 39267},
	{"trace0002", "bola", 4013.6, 0.000, 0, 54077},
	{"trace0002", "throughput", 3525.1, 20.317, 9, 39844},
	{"trace0003", "bola", 4109.1, 0.000, 0, 56877},
	{"trace0003", "throughput", 3779.7, 28.076, 11, 39785},
}

const sabreDir = "../../scripts/data/sabre"

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func sabreVideo(t testing.TB) *Video {
	t.Helper()
	v, err := ParseManifest(readFile(t, filepath.Join(sabreDir, "bbb.json")))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSimulateMatchesSabre(t *testing.T) {
	v := sabreVideo(t)
	for _, want := range sabreResults {
		t.Run(want.trace+"/"+want.rule, func(t *testing.T) {
			tr, err := ParseTrace(readFile(t, filepath.Join(sabreDir, want.trace+".json")))
			if err != nil {
				t.Fatal(err)
			}
			rule, _ := NewRule(want.rule)
			s, err := Simulate(v, tr, Config{Rule: rule, Buffer: 25})
			if err != nil {
				t.Fatal(err)
			}
			played := s.QoE.PlayedBitrate / 1000
			t.Logf("played %.1f kbps (Sabre %.1f), rebuffer %.3f s (Sabre %.3f), events %d (%d), change %.0f (%.0f)",
				played, want.played, s.QoE.Rebuffer, want.rebuffer, s.QoE.RebufferEvents, want.events, s.QoE.BitrateChange/1000, want.change)
			if math.Abs(played-want.played) > 0.05*want.played {
				t.Errorf("played bitrate %.1f kbps, Sabre %.1f: more than 5%% apart", played, want.played)
			}
			if d := math.Abs(s.QoE.Rebuffer - want.rebuffer); d > 1 && d > 0.05*want.rebuffer {
				t.Errorf("rebuffer %.3f s, Sabre %.3f s: more than 5%% and 1 s apart", s.QoE.Rebuffer, want.rebuffer)
			}
		})
	}
}
