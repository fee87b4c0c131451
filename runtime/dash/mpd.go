package dash

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/Eyevinn/dash-mpd/mpd"
)

// The layout netplay serves a video in, relative to its MPD: per
// representation (named by its quality index) an initialisation segment
// and media segments numbered from 1.
const (
	InitTemplate  = "$RepresentationID$/init.mp4"
	MediaTemplate = "$RepresentationID$/$Number$.m4s"
	// SizesScheme marks the SupplementalProperty in which netplay's MPDs
	// list each representation's segment sizes in bytes, so players that
	// know it (netplay's) can plan with exact sizes; others ignore it.
	SizesScheme = "urn:netplay:dash:segment-sizes"
)

// MPD writes v's manifest: a static presentation with one period and one
// video adaptation set whose SegmentTemplate names segments by $Number$.
// baseURL, if not empty, becomes the MPD's BaseURL.
func MPD(v *Video, baseURL string) (string, error) {
	if err := v.Check(); err != nil {
		return "", err
	}
	m := mpd.NewMPD("static")
	m.Profiles = "urn:mpeg:dash:profile:isoff-live:2011"
	m.MediaPresentationDuration = mpd.Seconds2DurPtrFloat64(v.Duration())
	m.MinBufferTime = mpd.Seconds2DurPtrFloat64(v.SegmentDuration)
	if baseURL != "" {
		m.BaseURL = []*mpd.BaseURLType{mpd.NewBaseURL(baseURL)}
	}
	p := mpd.NewPeriod()
	p.Id = "0"
	p.Start = mpd.Seconds2DurPtr(0)
	m.AppendPeriod(p)
	as := mpd.NewAdaptationSetWithParams("video", "video/mp4", true, 1)
	st := mpd.NewSegmentTemplate()
	st.Media = MediaTemplate
	if v.Files != nil {
		st.Initialization = InitTemplate
	}
	st.Timescale = mpd.Ptr(uint32(1000))
	st.Duration = mpd.Ptr(uint32(math.Round(v.SegmentDuration * 1000)))
	st.StartNumber = mpd.Ptr(uint32(1))
	as.SegmentTemplate = st
	p.AppendAdaptationSet(as)
	for q, b := range v.Bitrates {
		codecs := "avc1.64001e"
		var width, height int
		if f := v.Files; f != nil && q < len(f.Codecs) {
			codecs, width, height = f.Codecs[q], f.Width[q], f.Height[q]
		}
		r := mpd.NewVideoRepresentation(strconv.Itoa(q), codecs, "", "", int(math.Round(b)), width, height)
		sizes := make([]string, len(v.Sizes))
		for i := range v.Sizes {
			sizes[i] = strconv.FormatInt((v.Sizes[i][q]+7)/8, 10)
		}
		r.SupplementalProperties = []*mpd.DescriptorType{mpd.NewDescriptor(SizesScheme, strings.Join(sizes, " "), "")}
		as.AppendRepresentation(r)
	}
	return m.WriteToString("  ", true)
}

// A Manifest is what a player needs from an MPD: the representations of
// one video adaptation set, lowest bandwidth first, with every segment's
// URL.
type Manifest struct {
	Duration        float64 // seconds, the presentation's
	Representations []*Representation
}

// A Representation is one encoding of the video.
type Representation struct {
	ID        string
	Bandwidth float64 // bits per second, as the MPD declares it
	Width     int
	Height    int
	Codecs    string
	MimeType  string
	Init      string    // URL of the initialisation segment, "" if none
	Media     []string  // URL of each media segment
	Durations []float64 // seconds of each media segment
	Sizes     []int64   // bytes of each segment, when the MPD says (netplay's do); else nil
}

// Segments is how many segments every representation has.
func (m *Manifest) Segments() int {
	n := -1
	for _, r := range m.Representations {
		if n < 0 || len(r.Media) < n {
			n = len(r.Media)
		}
	}
	return max(n, 0)
}

// SegmentDuration is the mean segment duration, seconds.
func (m *Manifest) SegmentDuration() float64 {
	r := m.Representations[0]
	var sum float64
	for _, d := range r.Durations {
		sum += d
	}
	return sum / float64(len(r.Durations))
}

// Video is the manifest as a video a player can plan with: its segments
// taken as equally long (their mean) and, where the MPD does not give
// sizes, each segment's size estimated as bandwidth × duration.
func (m *Manifest) Video() *Video {
	n := m.Segments()
	v := &Video{SegmentDuration: m.SegmentDuration(), Sizes: make([][]int64, n)}
	for _, r := range m.Representations {
		v.Bitrates = append(v.Bitrates, r.Bandwidth)
	}
	for i := 0; i < n; i++ {
		row := make([]int64, len(m.Representations))
		for q, r := range m.Representations {
			if r.Sizes != nil {
				row[q] = r.Sizes[i] * 8
			} else {
				row[q] = max(8, int64(math.Round(r.Bandwidth*r.Durations[i])))
			}
		}
		v.Sizes[i] = row
	}
	return v
}

// maxMPD bounds an MPD's size.
const maxMPD = 16 << 20

// wellFormed reads every token of an XML document.
func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	roots := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if roots == 0 {
				return fmt.Errorf("no MPD element")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if _, ok := tok.(xml.StartElement); ok {
			roots++
		}
	}
}

// relativeBase stands for "the MPD's own URL" when it is not known; URLs
// resolved against it are given back relative.
const relativeBase = "http://mpd.invalid/"

// ParseMPD reads an MPD, netplay's or anyone's, resolving segment URLs
// against mpdURL (may be empty: URLs stay relative) and the BaseURLs at
// every level. It understands SegmentTemplate with $Number$ or $Time$
// (with a duration or a SegmentTimeline) and SegmentList; it uses the
// first period and its first video adaptation set.
func ParseMPD(data []byte, mpdURL string) (*Manifest, error) {
	if len(data) > maxMPD {
		return nil, fmt.Errorf("mpd: %d bytes: larger than %d", len(data), maxMPD)
	}
	// The library's own XML decoder (a fork of encoding/xml) can loop
	// forever on some malformed input (found by FuzzParseMPD): the
	// standard decoder checks the document is well-formed first.
	if err := wellFormed(data); err != nil {
		return nil, fmt.Errorf("mpd: %v", err)
	}
	m, err := mpd.MPDFromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("mpd: %v", err) // encoding/xml names the line
	}
	if len(m.Periods) == 0 {
		return nil, fmt.Errorf("mpd: no Period")
	}
	base := relativeBase
	if mpdURL != "" {
		base = mpdURL
	}
	baseURL, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("mpd url %q: %v", mpdURL, err)
	}
	baseURL = withBase(baseURL, m.BaseURL)
	p := m.Periods[0]
	baseURL = withBase(baseURL, p.BaseURLs)

	out := &Manifest{}
	switch {
	case m.MediaPresentationDuration != nil:
		out.Duration = m.MediaPresentationDuration.Seconds()
		if p.Start != nil {
			out.Duration -= p.Start.Seconds()
		}
	case p.Duration != nil:
		out.Duration = p.Duration.Seconds()
	}
	if p.Duration != nil {
		out.Duration = p.Duration.Seconds()
	}

	as := videoSet(p)
	if as == nil {
		return nil, fmt.Errorf("mpd: period %q has no AdaptationSet with a Representation", p.Id)
	}
	asURL := withBase(baseURL, as.BaseURLs)
	for k, r := range as.Representations {
		rep, err := representationOf(k, r, as, p, asURL, out.Duration, mpdURL == "")
		if err != nil {
			return nil, err
		}
		out.Representations = append(out.Representations, rep)
	}
	sort.SliceStable(out.Representations, func(i, j int) bool {
		return out.Representations[i].Bandwidth < out.Representations[j].Bandwidth
	})
	if out.Segments() == 0 {
		return nil, fmt.Errorf("mpd: no media segments")
	}
	if out.Duration <= 0 {
		for _, d := range out.Representations[0].Durations {
			out.Duration += d
		}
	}
	return out, nil
}

// representationOf reads the k-th representation of the adaptation set
// as, its segment URLs resolved against asURL and its BaseURLs (and
// given back relative when rel: the MPD's own URL is not known).
func representationOf(k int, r *mpd.RepresentationType, as *mpd.AdaptationSetType, p *mpd.Period, asURL *url.URL, duration float64, rel bool) (*Representation, error) {
	where := fmt.Sprintf("Representation %q", r.Id)
	if r.Id == "" {
		where = fmt.Sprintf("Representation %d", k)
	}
	if r.Bandwidth == 0 {
		return nil, fmt.Errorf("mpd: %s: bandwidth is missing or 0", where)
	}
	rep := &Representation{ID: r.Id, Bandwidth: float64(r.Bandwidth), Width: int(r.Width), Height: int(r.Height),
		Codecs: first(r.Codecs, as.Codecs), MimeType: first(r.MimeType, as.MimeType)}
	if rep.Width == 0 {
		rep.Width, rep.Height = int(as.Width), int(as.Height)
	}
	rURL := withBase(asURL, r.BaseURLs)
	if err := segmentsOf(rep, rURL, p, as, r, duration); err != nil {
		return nil, fmt.Errorf("mpd: %s: %v", where, err)
	}
	for _, d := range r.SupplementalProperties {
		if string(d.SchemeIdUri) == SizesScheme {
			var err error
			if rep.Sizes, err = sizesOf(d.Value, len(rep.Media)); err != nil {
				return nil, fmt.Errorf("mpd: %s: segment sizes: %v", where, err)
			}
		}
	}
	if rel {
		rep.Init = strings.TrimPrefix(rep.Init, relativeBase)
		for i := range rep.Media {
			rep.Media[i] = strings.TrimPrefix(rep.Media[i], relativeBase)
		}
	}
	return rep, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// videoSet is the period's first video adaptation set, or its first one
// with representations.
func videoSet(p *mpd.Period) *mpd.AdaptationSetType {
	var fallback *mpd.AdaptationSetType
	for _, as := range p.AdaptationSets {
		if len(as.Representations) == 0 {
			continue
		}
		if as.ContentType == "video" || strings.HasPrefix(as.MimeType, "video/") ||
			strings.HasPrefix(as.Representations[0].MimeType, "video/") {
			return as
		}
		if fallback == nil {
			fallback = as
		}
	}
	return fallback
}

func withBase(u *url.URL, bases []*mpd.BaseURLType) *url.URL {
	if len(bases) == 0 || strings.TrimSpace(string(bases[0].Value)) == "" {
		return u
	}
	ref, err := url.Parse(strings.TrimSpace(string(bases[0].Value)))
	if err != nil {
		return u
	}
	return u.ResolveReference(ref)
}

func resolve(base *url.URL, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("url %q: %v", ref, err)
	}
	return base.ResolveReference(r).String(), nil
}

// segmentInfo is a SegmentTemplate or SegmentList with what it inherits
// from the levels above filled in.
type segmentInfo struct {
	media, init string
	timescale   uint64
	duration    uint64
	startNumber uint64
	endNumber   uint64
	timeline    *mpd.SegmentTimelineType
	list        []*mpd.SegmentURLType
	isList      bool
}

func (s *segmentInfo) inherit(b *mpd.MultipleSegmentBaseType) {
	if b.Timescale != nil {
		s.timescale = uint64(*b.Timescale)
	}
	if b.Duration != nil {
		s.duration = uint64(*b.Duration)
	}
	if b.StartNumber != nil {
		s.startNumber = uint64(*b.StartNumber)
	}
	if b.EndNumber != nil {
		s.endNumber = uint64(*b.EndNumber)
	}
	if b.SegmentTimeline != nil {
		s.timeline = b.SegmentTimeline
	}
	if b.Initialization != nil && b.Initialization.SourceURL != "" {
		s.init = string(b.Initialization.SourceURL)
	}
}

func segmentsOf(rep *Representation, base *url.URL, p *mpd.Period, as *mpd.AdaptationSetType, r *mpd.RepresentationType, period float64) error {
	info := segmentInfo{timescale: 1, startNumber: 1}
	found := false
	for _, st := range []*mpd.SegmentTemplateType{p.SegmentTemplate, as.SegmentTemplate, r.SegmentTemplate} {
		if st == nil {
			continue
		}
		found = true
		info.inherit(&st.MultipleSegmentBaseType)
		if st.Media != "" {
			info.media = st.Media
		}
		if st.Initialization != "" {
			info.init = st.Initialization
		}
	}
	for _, sl := range []*mpd.SegmentListType{p.SegmentList, as.SegmentList, r.SegmentList} {
		if sl == nil {
			continue
		}
		found = true
		info.isList = true
		info.inherit(&sl.MultipleSegmentBaseType)
		if len(sl.SegmentURL) > 0 {
			info.list = sl.SegmentURL
		}
	}
	if !found {
		if r.SegmentBase != nil || as.SegmentBase != nil || p.SegmentBase != nil {
			return fmt.Errorf("SegmentBase (one file indexed by a sidx box) is not supported: use SegmentTemplate or SegmentList")
		}
		return fmt.Errorf("no SegmentTemplate or SegmentList")
	}
	if info.timescale == 0 {
		return fmt.Errorf("timescale is 0")
	}
	vars := templateVars{id: r.Id, bandwidth: uint64(r.Bandwidth)}
	if info.init != "" {
		init, err := expand(info.init, vars, "initialization")
		if err != nil {
			return err
		}
		if rep.Init, err = resolve(base, init); err != nil {
			return err
		}
	}
	if info.isList {
		return listSegments(rep, base, &info, vars)
	}
	if info.media == "" {
		return fmt.Errorf("SegmentTemplate has no media attribute")
	}
	return templateSegments(rep, base, &info, vars, period)
}

// maxSegments bounds what a manifest may make a player plan for.
const maxSegments = 1_000_000

func listSegments(rep *Representation, base *url.URL, info *segmentInfo, vars templateVars) error {
	if len(info.list) == 0 {
		return fmt.Errorf("SegmentList has no SegmentURL")
	}
	durations, err := timelineDurations(info, len(info.list))
	if err != nil {
		return err
	}
	for i, su := range info.list {
		if su.MediaRange != "" {
			return fmt.Errorf("SegmentURL %d: mediaRange (byte ranges of one file) is not supported", i)
		}
		if su.Media == "" {
			return fmt.Errorf("SegmentURL %d: media is missing", i)
		}
		u, err := resolve(base, string(su.Media))
		if err != nil {
			return fmt.Errorf("SegmentURL %d: %v", i, err)
		}
		rep.Media = append(rep.Media, u)
		rep.Durations = append(rep.Durations, durations[i])
	}
	return nil
}

// timelineDurations gives n segments' durations from a list's duration
// attribute or its SegmentTimeline.
func timelineDurations(info *segmentInfo, n int) ([]float64, error) {
	out := make([]float64, 0, n)
	if info.timeline != nil {
		for k, s := range info.timeline.S {
			if s.D == 0 {
				return nil, fmt.Errorf("SegmentTimeline S %d: d is missing or 0", k)
			}
			for j := 0; j <= max(s.R, 0) && len(out) < n; j++ {
				out = append(out, float64(s.D)/float64(info.timescale))
			}
		}
		for len(out) < n && len(out) > 0 {
			out = append(out, out[len(out)-1])
		}
	}
	if len(out) == 0 {
		if info.duration == 0 {
			return nil, fmt.Errorf("SegmentList has neither a duration nor a SegmentTimeline")
		}
		for len(out) < n {
			out = append(out, float64(info.duration)/float64(info.timescale))
		}
	}
	return out, nil
}

func templateSegments(rep *Representation, base *url.URL, info *segmentInfo, vars templateVars, period float64) error {
	add := func(number, time uint64, d float64) error {
		if len(rep.Media) >= maxSegments {
			return fmt.Errorf("more than %d segments", maxSegments)
		}
		vars.number, vars.time = number, time
		m, err := expand(info.media, vars, "media")
		if err != nil {
			return err
		}
		u, err := resolve(base, m)
		if err != nil {
			return err
		}
		rep.Media = append(rep.Media, u)
		rep.Durations = append(rep.Durations, d)
		return nil
	}
	if info.timeline != nil {
		number, t := info.startNumber, uint64(0)
		end := uint64(math.Round(period * float64(info.timescale)))
		for k, s := range info.timeline.S {
			if s.D == 0 {
				return fmt.Errorf("SegmentTimeline S %d: d is missing or 0", k)
			}
			if s.T != nil {
				t = *s.T
			}
			repeat := s.R
			if repeat < 0 { // until the next S's t or the end of the period
				limit := end
				if k+1 < len(info.timeline.S) && info.timeline.S[k+1].T != nil {
					limit = *info.timeline.S[k+1].T
				}
				if limit <= t {
					return fmt.Errorf("SegmentTimeline S %d: r=-1 but no end to repeat up to (no period duration)", k)
				}
				repeat = int((limit-t+s.D-1)/s.D) - 1
			}
			for j := 0; j <= repeat; j++ {
				if err := add(number, t, float64(s.D)/float64(info.timescale)); err != nil {
					return err
				}
				number++
				t += s.D
			}
		}
		if len(rep.Media) == 0 {
			return fmt.Errorf("SegmentTimeline has no S element")
		}
		return nil
	}
	if info.duration == 0 {
		return fmt.Errorf("SegmentTemplate has neither a duration nor a SegmentTimeline")
	}
	d := float64(info.duration) / float64(info.timescale)
	var n uint64
	switch {
	case info.endNumber >= info.startNumber && info.endNumber > 0:
		n = info.endNumber - info.startNumber + 1
	case period > 0:
		n = uint64(math.Ceil(period/d - 1e-9))
	default:
		return fmt.Errorf("cannot count the segments: the MPD has no mediaPresentationDuration and the period no duration")
	}
	if n > maxSegments {
		return fmt.Errorf("%d segments: more than %d", n, maxSegments)
	}
	for i := uint64(0); i < n; i++ {
		if err := add(info.startNumber+i, i*info.duration, d); err != nil {
			return err
		}
	}
	return nil
}

type templateVars struct {
	id                      string
	bandwidth, number, time uint64
}

var templateIdent = regexp.MustCompile(`\$([A-Za-z]*)(%0[0-9]+[dxX])?\$`)

// expand fills in a SegmentTemplate's identifiers: $RepresentationID$,
// $Number$, $Bandwidth$ and $Time$ (the numbers optionally formatted as
// %05d), and $$ for a dollar sign.
func expand(tmpl string, v templateVars, attr string) (string, error) {
	var err error
	out := templateIdent.ReplaceAllStringFunc(tmpl, func(m string) string {
		g := templateIdent.FindStringSubmatch(m)
		name, format := g[1], g[2]
		if format == "" {
			format = "%d"
		}
		switch name {
		case "":
			return "$"
		case "RepresentationID":
			return v.id
		case "Number":
			return fmt.Sprintf(format, v.number)
		case "Bandwidth":
			return fmt.Sprintf(format, v.bandwidth)
		case "Time":
			return fmt.Sprintf(format, v.time)
		}
		if err == nil {
			err = fmt.Errorf("%s %q: unknown identifier $%s$", attr, tmpl, name)
		}
		return m
	})
	return out, err
}

func sizesOf(value string, n int) ([]int64, error) {
	f := strings.Fields(value)
	if len(f) < n {
		return nil, fmt.Errorf("%d sizes for %d segments", len(f), n)
	}
	out := make([]int64, n)
	for i := 0; i < n; i++ {
		s, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil || s <= 0 {
			return nil, fmt.Errorf("segment %d: size %q is not a positive number of bytes", i, f[i])
		}
		out[i] = s
	}
	return out, nil
}
