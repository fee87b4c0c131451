package dash

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/internal/peertest"
)

func TestEncode(t *testing.T) {
	ffmpeg := peertest.Need(t, "ffmpeg")
	dir := t.TempDir()
	v, err := Encode(context.Background(), EncodeOptions{Dir: dir, Bitrates: []float64{200e3, 600e3}, Segment: 2, Duration: 6,
		Width: 160, Height: 90, FPS: 12, FFmpeg: ffmpeg})
	if err != nil {
		t.Fatal(err)
	}
	if v.Segments() != 3 || v.Files == nil {
		t.Fatalf("%d segments, files %v", v.Segments(), v.Files)
	}
	for q, b := range v.Bitrates {
		// Constant bitrate: each full segment within 10% of bitrate x duration.
		size := float64(v.Sizes[1][q])
		if want := b * 2; size < 0.9*want || size > 1.1*want {
			t.Errorf("quality %d segment 1: %.0f bits, want about %.0f", q, size, want)
		}
		init, err := os.ReadFile(filepath.Join(dir, "1", "init.mp4"))
		if err != nil || !strings.Contains(string(init[:min(len(init), 64)]), "ftyp") {
			t.Errorf("init segment: %v", err)
		}
		seg, err := os.ReadFile(filepath.Join(dir, "0", "3.m4s"))
		if err != nil || !strings.Contains(string(seg[:min(len(seg), 256)]), "moof") {
			t.Errorf("media segment is not a fragment: %v", err)
		}
	}
	if !strings.HasPrefix(v.Files.Codecs[0], "avc1.") {
		t.Errorf("codecs %q", v.Files.Codecs)
	}
	mpdText, err := os.ReadFile(filepath.Join(dir, "manifest.mpd"))
	if err != nil || !strings.Contains(string(mpdText), `initialization="$RepresentationID$/init.mp4"`) {
		t.Errorf("manifest.mpd: %v\n%s", err, mpdText)
	}
}
