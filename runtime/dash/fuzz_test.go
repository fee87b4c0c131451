package dash

import (
	"os"
	"path/filepath"
	"testing"
)

// The parsers read files and MPDs from anywhere: whatever the input, they
// return a video, trace or manifest that passes its own checks, or an
// error — never a panic, never an endless loop.

func FuzzParseManifest(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(sabreDir, "bbb.json")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"segment_duration_ms": 2000, "bitrates_kbps": [100, 200], "segment_sizes_bits": [[8, 16]]}`))
	f.Add([]byte(`{"segment_duration_ms": 0, "bitrates_kbps": [], "segment_sizes_bits": [[]]}`))
	f.Add([]byte(`{"segment_duration_ms": 1e308, "bitrates_kbps": [-1, 1e309]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseManifest(data)
		if err == nil {
			if err := v.Check(); err != nil {
				t.Fatalf("accepted an invalid video: %v", err)
			}
		}
	})
}

func FuzzParseTrace(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(sabreDir, "trace0000.json")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`[{"duration_ms": 1000, "bandwidth_kbps": 500, "latency_ms": 20}]`))
	f.Add([]byte("0 1.5\n1 0.8\n2.5 3\n"))
	f.Add([]byte("0\n3\n3\n7\n12\n"))
	f.Add([]byte("# comment\n1 2 3\n"))
	f.Add([]byte("1e308\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseTrace(data)
		if err != nil {
			return
		}
		if err := tr.Check(); err != nil {
			t.Fatalf("accepted an invalid trace: %v", err)
		}
		// A trace that passed its checks must let a short video play to
		// the end (the simulation always terminates).
		v, _ := Synthesize(4, 2, []float64{100e3, 300e3}, 0, 1)
		if _, err := Simulate(v, tr, Config{Rule: NewBOLA(), Buffer: 6}); err != nil {
			t.Fatalf("simulate on an accepted trace: %v", err)
		}
	})
}

func FuzzParseMPD(f *testing.F) {
	v, _ := Synthesize(6, 2, []float64{300e3, 900e3}, 0.2, 1)
	own, _ := MPD(v, "http://cdn.example/")
	f.Add([]byte(own))
	f.Add([]byte(`<MPD mediaPresentationDuration="PT12S"><Period><AdaptationSet contentType="video"><SegmentTemplate timescale="1000" media="$Bandwidth$/t$Time$.m4s"><SegmentTimeline><S t="0" d="4000" r="1"/><S d="3000"/></SegmentTimeline></SegmentTemplate><Representation id="1" bandwidth="500000"/></AdaptationSet></Period></MPD>`))
	f.Add([]byte(`<MPD><Period><AdaptationSet><Representation id="low" bandwidth="200000"><SegmentList duration="3"><SegmentURL media="a"/></SegmentList></Representation></AdaptationSet></Period></MPD>`))
	f.Add([]byte(`<MPD mediaPresentationDuration="PT10S"><Period><AdaptationSet><SegmentTemplate media="s$Number%05d$" timescale="10"><SegmentTimeline><S d="20" r="-1"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMPD(data, "http://origin.example/a/b.mpd")
		if err != nil {
			return
		}
		if m.Segments() == 0 || len(m.Representations) == 0 {
			t.Fatalf("accepted an MPD with nothing to play")
		}
		for _, r := range m.Representations {
			if len(r.Media) != len(r.Durations) || len(r.Media) > maxSegments {
				t.Fatalf("representation %q: %d URLs, %d durations", r.ID, len(r.Media), len(r.Durations))
			}
		}
		m.Video() // must not panic
	})
}
