package dash

import (
	"reflect"
	"strings"
	"testing"
)

func TestMPDRoundTrip(t *testing.T) {
	v, err := Synthesize(10, 2, []float64{300e3, 750e3, 1.5e6}, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	text, err := MPD(v, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`type="static"`, `media="$RepresentationID$/$Number$.m4s"`, `bandwidth="750000"`, `mediaPresentationDuration="PT10S"`, SizesScheme} {
		if !strings.Contains(text, want) {
			t.Errorf("MPD lacks %s:\n%s", want, text)
		}
	}
	m, err := ParseMPD([]byte(text), "http://cdn.example/video/manifest.mpd")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Representations[1].Media[0]; got != "http://cdn.example/video/1/1.m4s" {
		t.Errorf("segment 0 of representation 1 at %s", got)
	}
	back := m.Video()
	if !reflect.DeepEqual(back.Sizes, v.Sizes) || !reflect.DeepEqual(back.Bitrates, v.Bitrates) || back.SegmentDuration != 2 {
		t.Errorf("round trip changed the video: %+v", back)
	}
}

// Manifests netplay did not write, in the shapes packagers produce.
func TestParseForeignMPDs(t *testing.T) {
	cases := []struct {
		name      string
		mpd       string
		url       string
		ids       []string // representations, lowest bandwidth first
		segments  int
		first     string // first media segment of the lowest representation
		last      string
		init      string
		durations []float64 // of the first segments
	}{
		{
			name: "template with number and padded format",
			mpd: `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT0H0M9.5S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="p0">
    <AdaptationSet mimeType="audio/mp4"><Representation id="a" bandwidth="64000"><SegmentTemplate media="a-$Number$.m4s" duration="2" /></Representation></AdaptationSet>
    <AdaptationSet mimeType="video/mp4" segmentAlignment="true">
      <SegmentTemplate timescale="90000" duration="180000" startNumber="0" initialization="init-$RepresentationID$.mp4" media="chunk-$RepresentationID$-$Number%05d$.m4s"/>
      <Representation id="hd" bandwidth="3000000" width="1280" height="720" codecs="avc1.64001f"/>
      <Representation id="sd" bandwidth="800000" width="640" height="360" codecs="avc1.64001e"/>
    </AdaptationSet>
  </Period>
</MPD>`,
			url: "http://origin.example/v/stream.mpd", ids: []string{"sd", "hd"}, segments: 5,
			first: "http://origin.example/v/chunk-sd-00000.m4s", last: "http://origin.example/v/chunk-sd-00004.m4s",
			init: "http://origin.example/v/init-sd.mp4", durations: []float64{2, 2},
		},
		{
			name: "template with time and timeline, BaseURLs at two levels",
			mpd: `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT12S">
  <BaseURL>https://cdn.example/content/</BaseURL>
  <Period>
    <AdaptationSet contentType="video">
      <BaseURL>video/</BaseURL>
      <SegmentTemplate timescale="1000" media="$Bandwidth$/t$Time$.m4s" initialization="$Bandwidth$/init.mp4">
        <SegmentTimeline><S t="0" d="4000" r="1"/><S d="3000"/><S d="1000"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="1" bandwidth="500000"/>
    </AdaptationSet>
  </Period>
</MPD>`,
			url: "http://elsewhere.example/a.mpd", ids: []string{"1"}, segments: 4,
			first: "https://cdn.example/content/video/500000/t0.m4s", last: "https://cdn.example/content/video/500000/t11000.m4s",
			init: "https://cdn.example/content/video/500000/init.mp4", durations: []float64{4, 4, 3, 1},
		},
		{
			name: "timeline repeating to the period's end",
			mpd: `<MPD type="static" mediaPresentationDuration="PT10S"><Period><AdaptationSet mimeType="video/mp4">
      <SegmentTemplate timescale="10" media="s$Number$.m4s"><SegmentTimeline><S t="0" d="20" r="-1"/></SegmentTimeline></SegmentTemplate>
      <Representation id="v" bandwidth="1000000"/></AdaptationSet></Period></MPD>`,
			ids: []string{"v"}, segments: 5, first: "s1.m4s", last: "s5.m4s", durations: []float64{2},
		},
		{
			name: "segment list with representation BaseURL",
			mpd: `<MPD type="static" mediaPresentationDuration="PT6S"><Period><AdaptationSet mimeType="video/mp4">
      <Representation id="low" bandwidth="200000"><BaseURL>low/</BaseURL>
        <SegmentList timescale="1" duration="3"><Initialization sourceURL="init.mp4"/>
          <SegmentURL media="seg1.m4s"/><SegmentURL media="seg2.m4s"/></SegmentList></Representation>
      <Representation id="high" bandwidth="900000"><BaseURL>high/</BaseURL>
        <SegmentList timescale="1" duration="3"><SegmentURL media="seg1.m4s"/><SegmentURL media="seg2.m4s"/></SegmentList></Representation>
    </AdaptationSet></Period></MPD>`,
			url: "http://h/x/m.mpd", ids: []string{"low", "high"}, segments: 2,
			first: "http://h/x/low/seg1.m4s", last: "http://h/x/low/seg2.m4s", init: "http://h/x/low/init.mp4", durations: []float64{3, 3},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseMPD([]byte(c.mpd), c.url)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range m.Representations {
				ids = append(ids, r.ID)
			}
			if !reflect.DeepEqual(ids, c.ids) {
				t.Errorf("representations %v, want %v", ids, c.ids)
			}
			low := m.Representations[0]
			if m.Segments() != c.segments {
				t.Errorf("%d segments, want %d: %v", m.Segments(), c.segments, low.Media)
			}
			if low.Media[0] != c.first || low.Media[len(low.Media)-1] != c.last || low.Init != c.init {
				t.Errorf("first %s, last %s, init %q; want %s, %s, %q", low.Media[0], low.Media[len(low.Media)-1], low.Init, c.first, c.last, c.init)
			}
			if !reflect.DeepEqual(low.Durations[:len(c.durations)], c.durations) {
				t.Errorf("durations %v, want %v first", low.Durations, c.durations)
			}
		})
	}
}

func TestParseBadMPDs(t *testing.T) {
	cases := []struct{ name, mpd, want string }{
		{"not xml", `<MPD><Period>`, "XML syntax error"},
		{"no period", `<MPD type="static"></MPD>`, "no Period"},
		{"no representation", `<MPD><Period><AdaptationSet/></Period></MPD>`, "no AdaptationSet with a Representation"},
		{"no bandwidth", `<MPD mediaPresentationDuration="PT4S"><Period><AdaptationSet><SegmentTemplate media="$Number$" duration="2"/><Representation id="x"/></AdaptationSet></Period></MPD>`, `Representation "x": bandwidth`},
		{"no segments info", `<MPD><Period><AdaptationSet><Representation id="x" bandwidth="1000"/></AdaptationSet></Period></MPD>`, "no SegmentTemplate or SegmentList"},
		{"segment base", `<MPD><Period><AdaptationSet><Representation id="x" bandwidth="1000"><SegmentBase indexRange="0-100"/></Representation></AdaptationSet></Period></MPD>`, "SegmentBase"},
		{"unknown identifier", `<MPD mediaPresentationDuration="PT4S"><Period><AdaptationSet><SegmentTemplate media="$Segment$.m4s" duration="2"/><Representation id="x" bandwidth="1000"/></AdaptationSet></Period></MPD>`, "unknown identifier $Segment$"},
		{"uncountable", `<MPD><Period><AdaptationSet><SegmentTemplate media="$Number$.m4s" duration="2"/><Representation id="x" bandwidth="1000"/></AdaptationSet></Period></MPD>`, "cannot count"},
		{"zero d", `<MPD><Period><AdaptationSet><SegmentTemplate media="$Time$"><SegmentTimeline><S d="0"/></SegmentTimeline></SegmentTemplate><Representation id="x" bandwidth="1000"/></AdaptationSet></Period></MPD>`, "S 0: d"},
		{"bad sizes", `<MPD mediaPresentationDuration="PT4S"><Period><AdaptationSet><SegmentTemplate media="$Number$" duration="2"/><Representation id="x" bandwidth="1000"><SupplementalProperty schemeIdUri="` + SizesScheme + `" value="10 -3"/></Representation></AdaptationSet></Period></MPD>`, "segment 1: size"},
		{"huge", `<MPD mediaPresentationDuration="PT100000000S"><Period><AdaptationSet><SegmentTemplate media="$Number$" duration="1"/><Representation id="x" bandwidth="1000"/></AdaptationSet></Period></MPD>`, "more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseMPD([]byte(c.mpd), "")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}
