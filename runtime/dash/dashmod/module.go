// Package dashmod is the dash module for Starlark: a thin layer over the
// dash engine (argument unpacking, values, docs).
package dashmod

import (
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/dash"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

const moduleDoc = `DASH video streaming: videos cut into segments at several bitrates, MPD
manifests, segment servers (CDN nodes), players with adaptive-bitrate
(ABR) rules — throughput-based, buffer-based (BBA), BOLA, or your own
function — and a deterministic simulator that reproduces Sabre's figures.

    v = dash.video(duration=60, segment=2, bitrates=["300kbps", "750kbps", "1.5Mbps", "3Mbps"])
    s = dash.simulate(v, [(20, "2Mbps"), (20, "500kbps"), (20, "4Mbps")], abr="bola")
    print(s.qoe.played_bitrate, s.qoe.rebuffer)
    for e in s.log[:3]:
        print(e.index, e.quality, e.bitrate, e.buffer_after)

Rates you give may be bits per second or strings ("300kbps"); everything
a player reports is in kbps, as Sabre and dash.js report it. Sizes are in
bytes, times in seconds (lab or trace time).`

// New returns the dash module over st.
func New(st stack.Stack) *lang.Module {
	return lang.NewModule("dash", moduleDoc, starlark.StringDict{
		"video":         lang.Func("dash.video", videoDoc, videoFn),
		"load_manifest": lang.Func("dash.load_manifest", loadManifestDoc, loadManifestFn),
		"simulate":      lang.Func("dash.simulate", simulateDoc, simulateFn),
		"mpd":           lang.Func("dash.mpd", mpdDoc, mpdFn),
		"parse_mpd":     lang.Func("dash.parse_mpd", parseMPDDoc, parseMPDFn),
		"encode":        lang.Func("dash.encode", encodeDoc, encodeFn),
		"serve":         lang.Func("dash.serve", serveDoc, serveFn(st)),
		"play":          lang.Func("dash.play", playDoc, playFn(st)),
	}, serverMethods, videoType, sessionType, segmentType, qoeType, abrStateType, manifestType, representationType, requestType)
}

const videoDoc = `video(duration, segment, bitrates, vbr=0.0, seed=1) -> dash.video

A synthetic video of duration seconds cut into segments of segment
seconds (rounded up to a whole segment), each encoded at every bitrate of
the ladder (lowest first; bits per second or strings such as "750kbps").
Segment sizes are bitrate × segment; vbr > 0 varies them the way a
variable-bitrate encoder does (a log-normal factor per segment, shared by
all bitrates, with that standard deviation and mean 1), repeatably for a
given seed.

    v = dash.video(duration=30, segment=2, bitrates=["500kbps", "1Mbps", "2Mbps"], vbr=0.3, seed=7)
    print(v.segments, v.bitrates, v.sizes[0])`

func videoFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var durationV, segmentV, bitratesV starlark.Value
	vbr := starlark.Float(0)
	seed := 1
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "duration", &durationV, "segment", &segmentV,
		"bitrates", &bitratesV, "vbr?", &vbr, "seed?", &seed); err != nil {
		return nil, err
	}
	op := b.Name()
	duration, err := seconds(op, "duration", durationV)
	if err != nil {
		return nil, err
	}
	segment, err := seconds(op, "segment", segmentV)
	if err != nil {
		return nil, err
	}
	bitrates, err := bitratesArg(op, bitratesV)
	if err != nil {
		return nil, err
	}
	v, err := dash.Synthesize(duration, segment, bitrates, float64(vbr), uint64(seed))
	if err != nil {
		return nil, argErr(op, "%v", err)
	}
	return &videoValue{v}, nil
}

const loadManifestDoc = `load_manifest(path) -> dash.video

Reads a video description in Sabre's manifest format: JSON with
segment_duration_ms, bitrates_kbps and segment_sizes_bits (a list per
segment, one size per bitrate). A malformed file fails naming the line,
the field or the segment.

    open("movie.json", "w").write(json.encode({"segment_duration_ms": 4000,
        "bitrates_kbps": [300, 1200],
        "segment_sizes_bits": [[1200000, 4800000], [1150000, 4700000]]}))
    v = dash.load_manifest("movie.json")
    print(v.segments, v.segment, v.bitrates, v.sizes[1])`

func loadManifestFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	data, err := lang.ReadFile(th, b.Name(), path)
	if err != nil {
		if neterr.Kind(err) != "" {
			return nil, err
		}
		return nil, argErr(b.Name(), "%v", err)
	}
	v, err := dash.ParseManifest(data)
	if err != nil {
		return nil, argErr(b.Name(), "%s: %v", path, err)
	}
	return &videoValue{v}, nil
}

const simulateDoc = `simulate(video, trace, abr="throughput", buffer="25s", startup=None, latency=None) -> dash.session

Plays video over a bandwidth trace with the player's logic and Sabre's
network model — no sockets, no clock — so the same inputs give the same
session every time, bit for bit. trace is a list of (seconds, bps) or
(seconds, bps, latency) steps (rates may be strings such as "2Mbps"), or
the path of a trace file: Sabre's JSON ([{duration_ms, bandwidth_kbps,
latency_ms}, …]), Pensieve's text ("seconds Mbps" per line, the seconds
counted from the start) or Mahimahi's (one 1500-byte delivery opportunity
per line, in ms). The trace repeats when the video outlasts it. Each
request waits the step's latency before its first bit (latency= sets it
for every step).

abr is "throughput" (the highest bitrate within 90% of the EWMA
throughput estimate, limited by the buffer), "bba" (buffer-based, BBA-0:
it never stalls while the bandwidth carries the lowest bitrate), "bola" (BOLA, as in Sabre and dash.js) or
a function(state) returning a quality index (see dash.abr_state). buffer is the most video the player
holds; startup the video buffered before playback begins (one segment by
default). A function that fails or returns a bad index ends the session
with an error of kind "script" naming the segment.

    v = dash.video(duration=60, segment=3, bitrates=["230kbps", "1Mbps", "3Mbps", "6Mbps"])
    s = dash.simulate(v, [(20, "5Mbps", 0.02), (10, "400kbps", 0.02)], abr="bola")
    print(s.qoe.played_bitrate, s.qoe.rebuffer, [e.quality for e in s.log])

    def cautious(state):       # the highest bitrate within half the estimate
        q = 0
        for i, kbps in enumerate(state.bitrates):
            if kbps <= state.throughput / 2:
                q = i
        return q
    print(dash.simulate(v, [(10, "2Mbps")], abr=cautious).qoe.avg_bitrate)

With Sabre's files (scripts/data/sabre): dash.simulate(dash.load_manifest(
"data/sabre/bbb.json"), "data/sabre/trace0000.json", abr="bola") plays
4238.0 kbps on average with no rebuffering, as Sabre reports.`

func simulateFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var video *videoValue
	var traceV starlark.Value
	var abrV starlark.Value = starlark.String("throughput")
	var bufferV starlark.Value = starlark.String("25s")
	var startupV, latencyV starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "video", &video, "trace", &traceV, "abr?", &abrV,
		"buffer?", &bufferV, "startup?", &startupV, "latency?", &latencyV); err != nil {
		return nil, err
	}
	op := b.Name()
	cfg, err := playConfig(th, op, abrV, bufferV, startupV, true)
	if err != nil {
		return nil, err
	}
	trace, err := traceArg(th, op, traceV)
	if err != nil {
		return nil, err
	}
	if latencyV != starlark.None {
		l, err := seconds(op, "latency", latencyV)
		if err != nil {
			return nil, err
		}
		for i := range trace {
			trace[i].Latency = l
		}
	}
	s, err := dash.Simulate(video.v, trace, cfg)
	if err != nil {
		return nil, err
	}
	return newSession(s), nil
}

// playConfig reads the arguments simulate and play share.
func playConfig(th *starlark.Thread, op string, abrV, bufferV, startupV starlark.Value, locked bool) (dash.Config, error) {
	cfg := dash.Config{Op: op}
	var err error
	if cfg.Rule, err = ruleArg(th, op, abrV, locked); err != nil {
		return cfg, err
	}
	if cfg.Buffer, err = seconds(op, "buffer", bufferV); err != nil {
		return cfg, err
	}
	if cfg.Buffer <= 0 {
		return cfg, argErr(op, "buffer: must be positive")
	}
	if startupV != starlark.None {
		if cfg.Startup, err = seconds(op, "startup", startupV); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}
