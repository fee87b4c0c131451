package dash

import (
	"math/rand/v2"
	"testing"
)

// randomTrace is a trace of n steps of 1 to 30 s whose bandwidth swings
// between floor and 20 times floor, with sharp drops.
func randomTrace(rng *rand.Rand, n int, floor, latency float64) Trace {
	t := make(Trace, n)
	for i := range t {
		bw := floor
		if rng.IntN(3) > 0 {
			bw = floor * (1 + 19*rng.Float64())
		}
		t[i] = Period{Duration: 1 + 29*rng.Float64(), Bandwidth: bw, Latency: latency}
	}
	return t
}

// bbaBothWays plays v over tr with BBA twice: as the simulator does, an
// abandoned download stopping at once, and as over a network, where BBA
// does not abandon (the simulated network, with AbandonFrees off). It
// returns the larger rebuffering of the two and which one it was.
func bbaBothWays(t *testing.T, v *Video, tr Trace, buffer float64) (float64, string) {
	t.Helper()
	s, err := Simulate(v, tr, Config{Rule: NewBBA(), Buffer: buffer})
	if err != nil {
		t.Fatal(err)
	}
	n, err := run(v, &simTransport{newSimNetwork(tr)}, Config{Rule: NewBBA(), Buffer: buffer, Op: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if n.QoE.Rebuffer > s.QoE.Rebuffer {
		return n.QoE.Rebuffer, "network (no abandonment)"
	}
	return s.QoE.Rebuffer, "simulator (abandonment)"
}

// lowestFits is the least bandwidth at which the lowest quality fits:
// every segment of it arrives, latency included, within its duration.
func lowestFits(v *Video, latency float64) float64 {
	var biggest int64
	for _, row := range v.Sizes {
		biggest = max(biggest, row[0])
	}
	return float64(biggest) / (v.SegmentDuration - latency)
}

// TestBBANeverStallsWhenLowestFits plays many random traces whose
// bandwidth never falls below what the lowest quality needs: the
// buffer-based rule must never freeze the picture.
func TestBBANeverStallsWhenLowestFits(t *testing.T) {
	ladder := []float64{300e3, 750e3, 1200e3, 2850e3, 4300e3}
	cases := []struct {
		name    string
		segment float64
		vbr     float64
		latency float64
	}{
		{"cbr 2s segments", 2, 0, 0},
		{"cbr 4s segments", 4, 0, 0},
		{"cbr 10s segments", 10, 0, 0},
		{"cbr with latency", 4, 0, 0.04},
		{"vbr 4s segments", 4, 0.3, 0.02},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Synthesize(600, c.segment, ladder, c.vbr, 5)
			if err != nil {
				t.Fatal(err)
			}
			floor := lowestFits(v, c.latency)
			rng := rand.New(rand.NewPCG(1, 2))
			for run := 0; run < 60; run++ {
				tr := randomTrace(rng, 30, floor, c.latency)
				if stall, how := bbaBothWays(t, v, tr, 25); stall > 0 {
					t.Fatalf("run %d: bba (%s) stalled %.3f s on %v", run, how, stall, tr)
				}
			}
		})
	}
}

// TestBBASharpDropToTheLowest drops the bandwidth from far above the top
// rate to just what the lowest quality needs, at every moment of a
// download: whatever segment is on its way then, BBA must not stall,
// with small buffers and large, short segments and long.
func TestBBASharpDropToTheLowest(t *testing.T) {
	ladder := []float64{300e3, 750e3, 1200e3, 2850e3}
	for _, c := range []struct {
		segment, buffer, vbr, latency float64
	}{{2, 12, 0, 0.04}, {2, 25, 0, 0.04}, {4, 12, 0.3, 0.02}, {4, 25, 0.3, 0}, {1, 6, 0.2, 0.08}} {
		v, err := Synthesize(240, c.segment, ladder, c.vbr, 3)
		if err != nil {
			t.Fatal(err)
		}
		floor := 1.01 * lowestFits(v, c.latency)
		climbed := false
		for off := 0.0; off < 2*c.segment; off += 0.1 {
			tr := Trace{{Duration: 40 + off, Bandwidth: 6e6, Latency: c.latency},
				{Duration: 100, Bandwidth: floor, Latency: c.latency},
				{Duration: 100, Bandwidth: 4e6, Latency: c.latency}}
			if stall, how := bbaBothWays(t, v, tr, c.buffer); stall > 0 {
				t.Fatalf("%+v, drop at %.1f s: bba (%s) stalled %.3f s", c, 40+off, how, stall)
			}
			s, err := Simulate(v, tr, Config{Rule: NewBBA(), Buffer: c.buffer})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range s.Log {
				climbed = climbed || e.Quality > 1
			}
		}
		if !climbed {
			t.Errorf("%+v: bba never went above quality 1 at 6 Mbps", c)
		}
	}
}

// lowestOnly always asks for the lowest quality.
type lowestOnly struct{}

func (lowestOnly) Name() string               { return "lowest" }
func (lowestOnly) Choose(*State) (int, error) { return 0, nil }

// TestBBANoWorseThanTheLowest plays VBR videos (Sabre's, whose lowest
// quality's segments run from 38 to 433 kbps around a nominal 230, and a
// synthetic one) over random traces whose floor is at or just above the
// nominal lowest bitrate: wherever a player that always takes the lowest
// quality does not freeze, BBA must not either.
func TestBBANoWorseThanTheLowest(t *testing.T) {
	syn, err := Synthesize(400, 2, []float64{300e3, 750e3, 1200e3, 2850e3, 4300e3}, 0.4, 9)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, v := range []*Video{sabreVideo(t), syn} {
		for _, f := range []float64{1, 1.02, 1.05} {
			for run := 0; run < 12; run++ {
				tr := randomTrace(rng, 30, f*v.Bitrates[0], 0.05*float64(run%2))
				for _, buffer := range []float64{12, 25} {
					stall, how := bbaBothWays(t, v, tr, buffer)
					low, _ := Simulate(v, tr, Config{Rule: lowestOnly{}, Buffer: buffer})
					if stall > 0 && low.QoE.Rebuffer == 0 {
						t.Fatalf("%.0f kbps video, floor x%.2f, %v s buffer: bba (%s) stalled %.3f s, the lowest quality alone did not",
							v.Bitrates[0]/1e3, f, buffer, how, stall)
					}
				}
			}
		}
	}
}
