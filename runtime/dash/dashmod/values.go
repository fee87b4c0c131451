package dashmod

import (
	"fmt"
	"math"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/dash"
	"go.starlark.net/starlark"
)

// record is lang's read-only value with named fields.
type record = lang.Record

func newRecord(typ string, kv ...any) *record { return lang.NewRecord(typ, kv...) }

// round3 keeps reports readable and stable: milliseconds, or a thousandth
// of a kbps.
func round3(f float64) starlark.Float { return starlark.Float(math.Round(f*1000) / 1000) }

func kbps(bps float64) starlark.Float { return round3(bps / 1000) }

// bytesOf is the size in bytes of a segment of bits bits.
func bytesOf(bits int64) int64 { return (bits + 7) / 8 }

func floats(xs []float64, f func(float64) starlark.Float) *starlark.List {
	l := make([]starlark.Value, len(xs))
	for i, x := range xs {
		l[i] = f(x)
	}
	return starlark.NewList(l)
}

// ---- dash.video ----

type videoValue struct{ v *dash.Video }

var _ starlark.HasAttrs = (*videoValue)(nil)

var (
	videoType = lang.Document("dash.video", `dash.video

A video: segments of equal duration, each encoded at every bitrate of a
ladder. Made by dash.video(), dash.load_manifest() or dash.encode().
Attributes: duration and segment (seconds), segments (how many),
bitrates (kbps, lowest first: a quality is an index into it), sizes
(sizes[i][q]: bytes of segment i at quality q), encoded (True when the
segments are real media files) and dir (where they are, or None).`)
	sessionType = lang.Document("dash.session", `dash.session

What a player did, from dash.play() or dash.simulate(). Attributes: log
(one dash.segment per segment, in order), qoe (a dash.qoe), abr (the
rule's name), video and server (the address a dash.play() session
streamed from; None for a simulation).`)
	segmentType = lang.Document("dash.segment", `dash.segment

One line of a session's log. index; quality (0 the lowest); bitrate
(kbps); size (bytes); start (seconds since the session began, lab or trace
time); download_time (seconds from request to last byte, latency
included); latency (seconds to the first byte); throughput (kbps while
receiving); buffer_before and buffer_after (seconds of video buffered when
it was requested and once it arrived); stall (seconds frozen waiting for
it); wait (seconds waited for room in the buffer before asking);
abandoned (downloads of it given up before this one).`)
	qoeType = lang.Document("dash.qoe", `dash.qoe

How watching went. avg_bitrate (kbps, mean over segments); played_bitrate
(kbps, time-average of what played, startup and stalls included: Sabre's
figure); rebuffer (seconds frozen after playback began); rebuffer_events;
switches; bitrate_change (kbps, total |change| between consecutive
segments); startup (seconds to first picture); utility (mean ln(R/Rmin));
rebuffer_ratio (rebuffer / session time); score, the linear QoE
Σ R/1000 − 4.3·rebuffer − Σ|ΔR|/1000 with R in kbps; duration (seconds
from first request to the end of playback).`)
	abrStateType = lang.Document("dash.abr_state", `dash.abr_state

What an ABR function sees before each segment. segment (its index),
segments (how many), segment_duration, time (seconds since the session
began), buffer and buffer_max (seconds), throughput (kbps, the estimate;
0 before the first download), latency (seconds), samples (the last
measured throughputs, kbps, most recent last), bitrates (kbps), sizes
(bytes of the segments ahead: sizes[0][q] is this segment's at quality q,
up to 5 segments) and last (the previous quality, None at first). Return
an index into bitrates.`)
)

func (v *videoValue) String() string {
	b := v.v.Bitrates
	return fmt.Sprintf("<dash.video %d segments of %gs, %d bitrates %g-%g kbps>",
		v.v.Segments(), v.v.SegmentDuration, len(b), b[0]/1000, b[len(b)-1]/1000)
}
func (v *videoValue) Type() string          { return "dash.video" }
func (v *videoValue) Freeze()               {}
func (v *videoValue) Truth() starlark.Bool  { return true }
func (v *videoValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: dash.video") }
func (v *videoValue) AttrNames() []string {
	return []string{"bitrates", "dir", "duration", "encoded", "segment", "segments", "sizes"}
}
func (v *videoValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "duration":
		return starlark.Float(v.v.Duration()), nil
	case "segment":
		return starlark.Float(v.v.SegmentDuration), nil
	case "segments":
		return starlark.MakeInt(v.v.Segments()), nil
	case "bitrates":
		return floats(v.v.Bitrates, kbps), nil
	case "sizes":
		return sizesValue(v.v.Sizes), nil
	case "encoded":
		return starlark.Bool(v.v.Files != nil), nil
	case "dir":
		if v.v.Files == nil {
			return starlark.None, nil
		}
		return starlark.String(v.v.Files.Dir), nil
	}
	return nil, nil
}

func sizesValue(sizes [][]int64) *starlark.List {
	rows := make([]starlark.Value, len(sizes))
	for i, row := range sizes {
		r := make([]starlark.Value, len(row))
		for q, bits := range row {
			r[q] = starlark.MakeInt64(bytesOf(bits))
		}
		rows[i] = starlark.NewList(r)
	}
	return starlark.NewList(rows)
}

// ---- sessions ----

type sessionValue struct {
	s   *dash.Session
	log *starlark.List
	qoe *record
}

func newSession(s *dash.Session) *sessionValue {
	entries := make([]starlark.Value, len(s.Log))
	for i, e := range s.Log {
		entries[i] = newRecord("dash.segment",
			"index", starlark.MakeInt(e.Index),
			"quality", starlark.MakeInt(e.Quality),
			"bitrate", kbps(e.Bitrate),
			"size", starlark.MakeInt64(bytesOf(e.Size)),
			"start", round3(e.Start),
			"download_time", round3(e.DownloadTime),
			"latency", round3(e.Latency),
			"throughput", kbps(e.Throughput),
			"buffer_before", round3(e.BufferBefore),
			"buffer_after", round3(e.BufferAfter),
			"stall", round3(e.Stall),
			"wait", round3(e.Wait),
			"abandoned", starlark.MakeInt(e.Abandoned))
	}
	q := s.QoE
	return &sessionValue{s: s, log: starlark.NewList(entries), qoe: newRecord("dash.qoe",
		"avg_bitrate", kbps(q.AvgBitrate),
		"played_bitrate", kbps(q.PlayedBitrate),
		"rebuffer", round3(q.Rebuffer),
		"rebuffer_events", starlark.MakeInt(q.RebufferEvents),
		"switches", starlark.MakeInt(q.Switches),
		"bitrate_change", kbps(q.BitrateChange),
		"startup", round3(q.Startup),
		"utility", starlark.Float(math.Round(q.Utility*1e6)/1e6),
		"rebuffer_ratio", starlark.Float(math.Round(q.RebufferRatio*1e6)/1e6),
		"score", round3(q.Score),
		"duration", round3(q.Duration))}
}

func (s *sessionValue) String() string {
	q := s.s.QoE
	return fmt.Sprintf("<dash.session %s: %d segments, played %.1f kbps, rebuffer %.3f s>",
		s.s.Rule, len(s.s.Log), q.PlayedBitrate/1000, q.Rebuffer)
}
func (s *sessionValue) Type() string          { return "dash.session" }
func (s *sessionValue) Freeze()               { s.log.Freeze() }
func (s *sessionValue) Truth() starlark.Bool  { return true }
func (s *sessionValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: dash.session") }
func (s *sessionValue) AttrNames() []string {
	return []string{"abr", "log", "qoe", "server", "video"}
}
func (s *sessionValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "log":
		return s.log, nil
	case "qoe":
		return s.qoe, nil
	case "abr":
		return starlark.String(s.s.Rule), nil
	case "video":
		return &videoValue{s.s.Video}, nil
	case "server":
		if s.s.Server == "" {
			return starlark.None, nil
		}
		return starlark.String(s.s.Server), nil
	}
	return nil, nil
}

// stateValue is what an ABR function is called with.
func stateValue(s *dash.State) *record {
	last := starlark.Value(starlark.None)
	if s.Last >= 0 {
		last = starlark.MakeInt(s.Last)
	}
	return newRecord("dash.abr_state",
		"segment", starlark.MakeInt(s.Segment),
		"segments", starlark.MakeInt(s.Segments),
		"segment_duration", starlark.Float(s.SegmentDuration),
		"time", starlark.Float(s.Time),
		"buffer", starlark.Float(s.Buffer),
		"buffer_max", starlark.Float(s.BufferMax),
		"throughput", starlark.Float(s.Throughput/1000),
		"latency", starlark.Float(s.Latency),
		"samples", floats(s.Samples, func(f float64) starlark.Float { return starlark.Float(f / 1000) }),
		"bitrates", floats(s.Bitrates, func(f float64) starlark.Float { return starlark.Float(f / 1000) }),
		"sizes", sizesValue(s.Sizes[:min(len(s.Sizes), dash.SizesAhead)]),
		"last", last)
}
