package dashmod

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/dash"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

// ---- dash.mpd and dash.parse_mpd ----

const mpdDoc = `mpd(video, base_url=None) -> str

The video's MPD manifest, written with a maintained MPD library: a static
presentation, one video adaptation set, one representation per bitrate
(its id is the quality index), segments named by a SegmentTemplate
($RepresentationID$/$Number$.m4s, numbered from 1). base_url, if given,
becomes the MPD's BaseURL (segments fetched from there). netplay adds each
representation's segment sizes as a SupplementalProperty, which other
players ignore.

    v = dash.video(duration=8, segment=2, bitrates=["400kbps", "1Mbps"])
    text = dash.mpd(v, base_url="http://cdn.example/movie/")
    print(text[:38])
    print(dash.parse_mpd(text).representations[1].segments[0])`

func mpdFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var video *videoValue
	var base starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "video", &video, "base_url?", &base); err != nil {
		return nil, err
	}
	baseURL := ""
	if s, ok := base.(starlark.String); ok {
		baseURL = string(s)
	} else if base != starlark.None {
		return nil, argErr(b.Name(), "base_url: got %s, want a URL string", base.Type())
	}
	text, err := dash.MPD(video.v, baseURL)
	if err != nil {
		return nil, argErr(b.Name(), "%v", err)
	}
	return starlark.String(text), nil
}

const parseMPDDoc = `parse_mpd(text, url=None) -> dash.manifest

Reads an MPD — netplay's or anyone's: SegmentTemplate with $Number$ or
$Time$ (formatted like $Number%05d$), with a duration or a
SegmentTimeline; SegmentList; BaseURL at every level. Segment URLs are
resolved against url (the MPD's own URL) when given, else left relative.
The first period's video adaptation set is used. A malformed MPD fails
naming the element and the field.

    m = dash.parse_mpd("""<MPD type="static" mediaPresentationDuration="PT6S"><Period>
      <AdaptationSet mimeType="video/mp4">
        <SegmentTemplate timescale="1000" duration="2000" media="v$RepresentationID$/$Number%03d$.m4s"/>
        <Representation id="lo" bandwidth="300000"/><Representation id="hi" bandwidth="1500000"/>
      </AdaptationSet></Period></MPD>""", url="http://origin.example/film/manifest.mpd")
    print(m.segments, m.bitrates, m.representations[1].segments[2])`

func parseMPDFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var text, url string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "text", &text, "url?", &url); err != nil {
		return nil, err
	}
	m, err := dash.ParseMPD([]byte(text), url)
	if err != nil {
		return nil, argErr(b.Name(), "%v", err)
	}
	return manifestValue(m), nil
}

var (
	manifestType = lang.Document("dash.manifest", `dash.manifest

An MPD as dash.parse_mpd() read it. duration (seconds), segments (how
many every representation has), segment_duration (their mean), bitrates
(kbps, lowest first), representations (dash.representation, lowest
bandwidth first: a quality is an index into them) and video (a dash.video
with the MPD's ladder, to simulate; segment sizes are the MPD's when it
gives them, else bandwidth × duration).`)
	representationType = lang.Document("dash.representation", `dash.representation

One encoding in an MPD: id, bandwidth (kbps), width, height, codecs,
mime_type, init (the initialisation segment's URL, or None), segments
(every media segment's URL) and durations (seconds each).`)
	requestType = lang.Document("dash.request", `dash.request

One request in a dash.server's log: time (seconds since the server
started, lab time on a lab host), client ("host:port"), path, status,
bytes, segment (index, or None for the MPD) and quality (or None).`)
)

func manifestValue(m *dash.Manifest) *record {
	reps := make([]starlark.Value, len(m.Representations))
	var bitrates []float64
	for i, r := range m.Representations {
		bitrates = append(bitrates, r.Bandwidth)
		urls := make([]starlark.Value, len(r.Media))
		for k, u := range r.Media {
			urls[k] = starlark.String(u)
		}
		var init starlark.Value = starlark.None
		if r.Init != "" {
			init = starlark.String(r.Init)
		}
		reps[i] = newRecord("dash.representation",
			"id", starlark.String(r.ID),
			"bandwidth", kbps(r.Bandwidth),
			"width", starlark.MakeInt(r.Width),
			"height", starlark.MakeInt(r.Height),
			"codecs", starlark.String(r.Codecs),
			"mime_type", starlark.String(r.MimeType),
			"init", init,
			"segments", starlark.NewList(urls),
			"durations", floats(r.Durations, round3))
	}
	return newRecord("dash.manifest",
		"duration", round3(m.Duration),
		"segments", starlark.MakeInt(m.Segments()),
		"segment_duration", round3(m.SegmentDuration()),
		"bitrates", floats(bitrates, kbps),
		"representations", starlark.NewList(reps),
		"video", &videoValue{m.Video()})
}

// ---- dash.encode ----

const encodeDoc = `encode(path, bitrates, segment=2, duration=10, size="320x180", fps=24) -> dash.video

Makes a real video with ffmpeg (Debian's; a missing ffmpeg is an error)
from its own synthetic test pattern, so no media file is needed: H.264 at
a constant bitrate per representation, cut into fragmented-MP4 segments of
segment seconds, in the folder path (created) as netplay serves them:
Q/init.mp4 and Q/1.m4s, Q/2.m4s … per quality Q, with manifest.mpd
beside them. dash.serve() then serves the files, and a real player
(dash.js) can play them.

    v = dash.encode("movie", bitrates=["200kbps", "600kbps"], segment=2, duration=4, size="160x90")
    print(v.encoded, v.segments, v.sizes[0])`

func encodeFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	var bitratesV starlark.Value
	var segmentV starlark.Value = starlark.MakeInt(2)
	var durationV starlark.Value = starlark.MakeInt(10)
	size, fps := "320x180", 24
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "bitrates", &bitratesV, "segment?", &segmentV,
		"duration?", &durationV, "size?", &size, "fps?", &fps); err != nil {
		return nil, err
	}
	op := b.Name()
	o := dash.EncodeOptions{FPS: fps}
	var err error
	if o.Bitrates, err = bitratesArg(op, bitratesV); err != nil {
		return nil, err
	}
	if o.Segment, err = seconds(op, "segment", segmentV); err != nil {
		return nil, err
	}
	if o.Duration, err = seconds(op, "duration", durationV); err != nil {
		return nil, err
	}
	w, h, ok := strings.Cut(size, "x")
	o.Width, _ = strconv.Atoi(w)
	o.Height, _ = strconv.Atoi(h)
	if !ok || o.Width <= 0 || o.Height <= 0 {
		return nil, argErr(op, "size %q: want WIDTHxHEIGHT such as \"320x180\"", size)
	}
	if o.Dir, err = lang.CheckPath(th, op, path, true); err != nil {
		return nil, err
	}
	ctx := lang.Context(th)
	var v *dash.Video
	lang.Unlocked(th, func() { v, err = dash.Encode(ctx, o) })
	if err != nil {
		return nil, neterr.Errorf(neterr.KindArgument, op, "", "%v", err)
	}
	return &videoValue{v}, nil
}

// ---- dash.serve ----

const serveDoc = `serve(addr, video, rate=None) -> dash.server

Serves video over HTTP on addr ("host:port"; port 0 picks one; ":80" on a
lab host): GET /manifest.mpd (see dash.mpd), /Q/N.m4s (segment N, from 1,
at quality Q) and, for an encoded video, /Q/init.mp4. A synthetic video's
segments are filler bytes of the right sizes. Several servers of the same
video are CDN nodes. rate (bits per second or "2Mbps") paces everything
the server sends, shared by its clients: a bottleneck at the server you
can change while players run (set_rate). Responses allow any origin
(CORS), so browser players on other pages can fetch them.

    v = dash.video(duration=4, segment=1, bitrates=["300kbps", "1Mbps"])
    srv = dash.serve("127.0.0.1:0", v)
    s = dash.play(srv.url, buffer="4s")
    print(len(srv.log), srv.log[1].path)
    srv.stop()`

type serverValue struct {
	s       *dash.Server
	untrack func()
}

var serverMethods = lang.NewMethods("dash.server", `dash.server

A running DASH server from dash.serve(). url is the MPD's URL; addr
("host:port"), port; log (a dash.request per request, oldest first);
rate (kbps, None when unpaced); video.`,
	lang.Method("dash.server.stop", `stop()

Stops the server: closes its listener and every connection.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sv, err := lang.Receiver[*serverValue](b)
		if err != nil {
			return nil, err
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { sv.Close() })
		return starlark.None, nil
	}),
	lang.Method("dash.server.set_rate", `set_rate(rate)

Paces what the server sends at rate (bits per second or "500kbps") from
now on; None removes the limit. Players see their throughput change.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sv, err := lang.Receiver[*serverValue](b)
		if err != nil {
			return nil, err
		}
		var rateV starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "rate", &rateV); err != nil {
			return nil, err
		}
		rate := 0.0
		if rateV != starlark.None {
			if rate, err = lang.Rate(rateV); err != nil {
				return nil, argErr(b.Name(), "rate: %v", err)
			}
		}
		sv.s.SetRate(rate)
		return starlark.None, nil
	}),
)

func (sv *serverValue) Close() error {
	sv.s.Stop()
	sv.untrack()
	return nil
}

func (sv *serverValue) String() string        { return fmt.Sprintf("<dash.server %s>", sv.s.URL()) }
func (sv *serverValue) Type() string          { return "dash.server" }
func (sv *serverValue) Freeze()               {}
func (sv *serverValue) Truth() starlark.Bool  { return true }
func (sv *serverValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: dash.server") }
func (sv *serverValue) AttrNames() []string {
	return append(serverMethods.Names(), "addr", "log", "port", "rate", "url", "video")
}
func (sv *serverValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "url":
		return starlark.String(sv.s.URL()), nil
	case "addr":
		return starlark.String(sv.s.Addr().String()), nil
	case "port":
		return starlark.MakeInt(sv.s.Port()), nil
	case "video":
		return &videoValue{sv.s.Video()}, nil
	case "rate":
		if r := sv.s.Rate(); r > 0 {
			return kbps(r), nil
		}
		return starlark.None, nil
	case "log":
		recs := sv.s.Log()
		out := make([]starlark.Value, len(recs))
		for i, r := range recs {
			seg, q := starlark.Value(starlark.None), starlark.Value(starlark.None)
			if r.Segment >= 0 {
				seg = starlark.MakeInt(r.Segment)
			}
			if r.Quality >= 0 {
				q = starlark.MakeInt(r.Quality)
			}
			out[i] = newRecord("dash.request", "time", round3(r.Time), "client", starlark.String(r.Client),
				"path", starlark.String(r.Path), "status", starlark.MakeInt(r.Status), "bytes", starlark.MakeInt(r.Bytes),
				"segment", seg, "quality", q)
		}
		return starlark.NewList(out), nil
	}
	return serverMethods.Attr(sv, name), nil
}

func serveFn(st stack.Stack) func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var addr string
		var video *videoValue
		var rateV starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addr, "video", &video, "rate?", &rateV); err != nil {
			return nil, err
		}
		op := b.Name()
		o := dash.ServeOptions{}
		if rateV != starlark.None {
			r, err := lang.Rate(rateV)
			if err != nil {
				return nil, argErr(op, "rate: %v", err)
			}
			o.Rate = r
		}
		if !strings.Contains(addr, ":") {
			return nil, argErr(op, "addr %q: want \"host:port\" such as \"127.0.0.1:8000\" or \":80\"", addr)
		}
		ctx := lang.Context(th)
		var s *dash.Server
		var err error
		addr = lang.ServerAddr(th, st, addr)
		lang.Unlocked(th, func() { s, err = dash.Serve(ctx, st, addr, video.v, o) })
		if err != nil {
			return nil, neterr.New(op, addr, err, 0)
		}
		lang.Listening(th, st, op, s.Addr())
		sv := &serverValue{s: s}
		sv.untrack = lang.InterpOf(th).Track(sv)
		return sv, nil
	}
}

// ---- dash.play ----

const playDoc = `play(mpd_url, abr="throughput", buffer="25s", startup=None, timeout="30s") -> dash.session

Streams the video at mpd_url like a DASH player: fetches the MPD (any
server's: see dash.parse_mpd), then segment after segment over HTTP on
one kept-alive connection, measuring each download's throughput (EWMA
estimate), keeping a playout buffer of at most buffer seconds (waiting
when it is full) and choosing each segment's quality with abr: "throughput",
"bba", "bola" or a function(state) returning a quality index (see
dash.simulate and dash.abr_state). Playback starts once startup seconds
are buffered (one segment by default). Returns when the last segment has
arrived, with the session's per-segment log and QoE in the host's clock
(lab time on a lab host); .server is the address it streamed from.
timeout bounds a request that receives nothing. An ABR function that
fails or returns a bad index ends the session with kind "script".

"bba" never stalls while the bandwidth carries the lowest bitrate. Over a
network an abandoned download's bytes still arrive, so here it never
abandons one and asks only for segments that would arrive before the
buffer empties even at the lowest bitrate: a small buffer caps its
bitrate (12 s of 2 s segments: five times the lowest), where
dash.simulate's BBA abandons in time instead.

    v = dash.video(duration=6, segment=1, bitrates=["300kbps", "750kbps", "1.5Mbps"])
    srv = dash.serve("127.0.0.1:0", v, rate="1Mbps")
    s = dash.play(srv.url, abr="bba", buffer="3s")
    print([e.quality for e in s.log], s.qoe.rebuffer)
    srv.stop()`

func playFn(st stack.Stack) func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var url string
		var abrV starlark.Value = starlark.String("throughput")
		var bufferV starlark.Value = starlark.String("25s")
		var startupV starlark.Value = starlark.None
		var timeoutV starlark.Value = starlark.String("30s")
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "mpd_url", &url, "abr?", &abrV, "buffer?", &bufferV,
			"startup?", &startupV, "timeout?", &timeoutV); err != nil {
			return nil, err
		}
		op := b.Name()
		cfg, err := playConfig(th, op, abrV, bufferV, startupV, false)
		if err != nil {
			return nil, err
		}
		timeout, err := seconds(op, "timeout", timeoutV)
		if err != nil {
			return nil, err
		}
		ctx := lang.Context(th)
		var s *dash.Session
		lang.Unlocked(th, func() {
			s, err = dash.Play(ctx, st, url, cfg, time.Duration(timeout*float64(time.Second)))
		})
		if err != nil {
			return nil, err
		}
		return newSession(s), nil
	}
}
