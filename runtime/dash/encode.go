package dash

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// EncodeOptions say what Encode makes.
type EncodeOptions struct {
	Dir      string    // where the segments go (created)
	Bitrates []float64 // bits per second, one representation each
	Segment  float64   // seconds per segment
	Duration float64   // seconds of video
	Width    int       // pixels (every representation has the same size)
	Height   int
	FPS      int
	FFmpeg   string // the ffmpeg executable; "" finds it on PATH
}

// Encode makes a real video with ffmpeg from its own synthetic test
// pattern (testsrc, so no media file is needed): H.264 at a constant
// bitrate per representation, cut into fragmented-MP4 segments of equal
// length, laid out as netplay serves them (q/init.mp4, q/1.m4s …) with a
// manifest.mpd beside them.
func Encode(ctx context.Context, o EncodeOptions) (*Video, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	ffmpeg := o.FFmpeg
	if ffmpeg == "" {
		p, err := exec.LookPath("ffmpeg")
		if err != nil {
			return nil, fmt.Errorf("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
		}
		ffmpeg = p
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(o.Dir, ".ffmpeg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	cmd := exec.CommandContext(ctx, ffmpeg, o.ffmpegArgs(filepath.Join(work, "manifest.mpd"))...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	data, err := os.ReadFile(filepath.Join(work, "manifest.mpd"))
	if err != nil {
		return nil, fmt.Errorf("ffmpeg wrote no manifest: %v", err)
	}
	m, err := ParseMPD(data, "")
	if err != nil {
		return nil, fmt.Errorf("ffmpeg's manifest: %v", err)
	}
	if len(m.Representations) != len(o.Bitrates) {
		return nil, fmt.Errorf("ffmpeg made %d representations, want %d", len(m.Representations), len(o.Bitrates))
	}
	v, err := o.adopt(work, m)
	if err != nil {
		return nil, err
	}
	text, err := MPD(v, "")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "manifest.mpd"), []byte(text), 0o644); err != nil {
		return nil, err
	}
	return v, nil
}

// check says what is wrong with the options, if anything.
func (o *EncodeOptions) check() error {
	switch {
	case len(o.Bitrates) == 0:
		return fmt.Errorf("bitrates: the ladder is empty")
	case !(o.Segment > 0):
		return fmt.Errorf("segment %v s: must be positive", o.Segment)
	case !(o.Duration >= o.Segment):
		return fmt.Errorf("duration %v s: must be at least one segment (%v s)", o.Duration, o.Segment)
	case o.Duration > 3600:
		return fmt.Errorf("duration %v s: at most an hour", o.Duration)
	case o.Width <= 0 || o.Height <= 0 || o.Width%2 != 0 || o.Height%2 != 0 || o.Width > 3840 || o.Height > 2160:
		return fmt.Errorf("size %dx%d: want even width and height up to 3840x2160", o.Width, o.Height)
	case o.FPS <= 0 || o.FPS > 120:
		return fmt.Errorf("fps %d: want 1 to 120", o.FPS)
	}
	gop := float64(o.FPS) * o.Segment
	if math.Abs(gop-math.Round(gop)) > 1e-9 {
		return fmt.Errorf("segment %v s at %d fps is not a whole number of frames", o.Segment, o.FPS)
	}
	for q, b := range o.Bitrates {
		if b < 10e3 || (q > 0 && b <= o.Bitrates[q-1]) {
			return fmt.Errorf("bitrates[%d] = %v bps: want at least 10 kbps, increasing", q, b)
		}
	}
	return nil
}

// ffmpegArgs is ffmpeg's command line, writing the DASH manifest to
// manifest and the segments beside it.
func (o *EncodeOptions) ffmpegArgs(manifest string) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%dx%d:rate=%d:duration=%s", o.Width, o.Height, o.FPS, num(o.Duration))}
	for range o.Bitrates {
		args = append(args, "-map", "0:v")
	}
	// Constant bitrate (x264 pads with filler), a key frame at every
	// segment boundary and nowhere else, so segments are switchable and
	// sized as the ladder says.
	args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-x264-params", "nal-hrd=cbr")
	for q, b := range o.Bitrates {
		r := strconv.FormatInt(int64(math.Round(b)), 10)
		s := strconv.Itoa(q)
		args = append(args, "-b:v:"+s, r, "-minrate:v:"+s, r, "-maxrate:v:"+s, r, "-bufsize:v:"+s, r)
	}
	g := strconv.Itoa(int(math.Round(float64(o.FPS) * o.Segment)))
	return append(args, "-g", g, "-keyint_min", g, "-sc_threshold", "0",
		"-f", "dash", "-adaptation_sets", "id=0,streams=v", "-seg_duration", num(o.Segment),
		"-use_template", "1", "-use_timeline", "0",
		"-init_seg_name", "init-$RepresentationID$.m4s", "-media_seg_name", "chunk-$RepresentationID$-$Number$.m4s",
		manifest)
}

// adopt moves ffmpeg's files (in work, as its manifest m names them)
// into netplay's layout under o.Dir and measures them.
func (o *EncodeOptions) adopt(work string, m *Manifest) (*Video, error) {
	v := &Video{SegmentDuration: o.Segment, Bitrates: append([]float64(nil), o.Bitrates...),
		Files: &Files{Dir: o.Dir, Init: InitTemplate, Media: MediaTemplate}}
	n := m.Segments()
	v.Sizes = make([][]int64, n)
	for i := range v.Sizes {
		v.Sizes[i] = make([]int64, len(o.Bitrates))
	}
	for q, r := range m.Representations {
		v.Files.Codecs = append(v.Files.Codecs, r.Codecs)
		v.Files.Width = append(v.Files.Width, r.Width)
		v.Files.Height = append(v.Files.Height, r.Height)
		dir := filepath.Join(o.Dir, strconv.Itoa(q))
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(filepath.Join(work, r.Init), filepath.Join(dir, "init.mp4")); err != nil {
			return nil, fmt.Errorf("representation %d: %v", q, err)
		}
		for i := 0; i < n; i++ {
			to := filepath.Join(dir, strconv.Itoa(i+1)+".m4s")
			if err := os.Rename(filepath.Join(work, r.Media[i]), to); err != nil {
				return nil, fmt.Errorf("representation %d segment %d: %v", q, i, err)
			}
			st, err := os.Stat(to)
			if err != nil {
				return nil, err
			}
			v.Sizes[i][q] = st.Size() * 8
		}
	}
	return v, nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
