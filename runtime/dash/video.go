// Package dash is DASH video streaming without Starlark: the content model
// (a video cut into segments, each encoded at every bitrate of a ladder),
// MPD manifests, a segment server over the http engine, the player with
// its adaptive-bitrate (ABR) rules, and a deterministic simulator that runs
// the same player over a bandwidth trace the way Sabre (Spiteri, Sitaraman
// and Sparacio, MMSys 2018) does.
//
// Units inside the engine: seconds, bits and bits per second. Reports for
// users (the binding) are in kbps, as Sabre and dash.js report them.
package dash

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
)

// A Video is what a DASH server offers: Segments() segments of equal
// duration, each encoded at every bitrate of the ladder.
type Video struct {
	// SegmentDuration is each segment's length in seconds.
	SegmentDuration float64
	// Bitrates is the ladder in bits per second, lowest first. A
	// representation's index in it is its quality: 0 is the lowest.
	Bitrates []float64
	// Sizes[i][q] is the size in bits of segment i at quality q.
	Sizes [][]int64
	// Files, when the segments are real media files (made by Encode), says
	// where they are; nil for a synthetic video.
	Files *Files
}

// Files are the media files of an encoded video: one initialisation
// segment per representation and numbered media segments.
type Files struct {
	Dir string
	// Init and Media name the files, with $RepresentationID$ and $Number$
	// (media segments are numbered from 1) as in an MPD SegmentTemplate.
	Init, Media string
	// Per representation:
	Codecs []string
	Width  []int
	Height []int
}

// Segments is the number of segments.
func (v *Video) Segments() int { return len(v.Sizes) }

// Duration is the video's length in seconds.
func (v *Video) Duration() float64 { return float64(len(v.Sizes)) * v.SegmentDuration }

// Check says what is wrong with v, naming the field and the segment.
func (v *Video) Check() error {
	if !(v.SegmentDuration > 0) || math.IsInf(v.SegmentDuration, 0) {
		return fmt.Errorf("segment duration %v: must be positive", v.SegmentDuration)
	}
	if len(v.Bitrates) == 0 {
		return fmt.Errorf("bitrates: the ladder is empty")
	}
	for q, b := range v.Bitrates {
		if !(b > 0) || math.IsInf(b, 0) {
			return fmt.Errorf("bitrates[%d] = %v: must be positive", q, b)
		}
		if q > 0 && b <= v.Bitrates[q-1] {
			return fmt.Errorf("bitrates[%d] = %v: the ladder must increase (bitrates[%d] = %v)", q, b, q-1, v.Bitrates[q-1])
		}
	}
	if len(v.Sizes) == 0 {
		return fmt.Errorf("segment sizes: the video has no segments")
	}
	for i, row := range v.Sizes {
		if len(row) != len(v.Bitrates) {
			return fmt.Errorf("segment %d: %d sizes for %d bitrates", i, len(row), len(v.Bitrates))
		}
		for q, s := range row {
			if s <= 0 {
				return fmt.Errorf("segment %d: size at quality %d is %d bits: must be positive", i, q, s)
			}
		}
	}
	return nil
}

// Synthesize makes a video of duration seconds cut into segments of
// segment seconds (the last one rounded up to a whole segment), each
// encoded at every bitrate (bits per second). vbr > 0 varies the segment
// sizes as a variable-bitrate encoder would: one log-normal factor per
// segment, shared by every representation (a complex scene is large at
// every rate), with standard deviation vbr and mean 1, drawn from seed.
func Synthesize(duration, segment float64, bitrates []float64, vbr float64, seed uint64) (*Video, error) {
	if !(segment > 0) {
		return nil, fmt.Errorf("segment %v s: must be positive", segment)
	}
	if !(duration > 0) {
		return nil, fmt.Errorf("duration %v s: must be positive", duration)
	}
	if vbr < 0 || vbr > 2 || math.IsNaN(vbr) {
		return nil, fmt.Errorf("vbr %v: want 0 (constant bitrate) up to 2", vbr)
	}
	n := int(math.Ceil(duration/segment - 1e-9))
	if n > 1_000_000 {
		return nil, fmt.Errorf("duration %v s: more than a million segments of %v s", duration, segment)
	}
	v := &Video{SegmentDuration: segment, Bitrates: append([]float64(nil), bitrates...)}
	rng := rand.New(rand.NewPCG(seed, 0x6461736821))
	for i := 0; i < n; i++ {
		factor := 1.0
		if vbr > 0 {
			factor = math.Exp(vbr*rng.NormFloat64() - vbr*vbr/2)
		}
		row := make([]int64, len(bitrates))
		for q, b := range bitrates {
			row[q] = max(8, int64(math.Round(b*segment*factor/8))*8) // whole bytes
		}
		v.Sizes = append(v.Sizes, row)
	}
	if err := v.Check(); err != nil {
		return nil, err
	}
	return v, nil
}

// sabreManifest is Sabre's movie description.
type sabreManifest struct {
	SegmentDurationMS *float64  `json:"segment_duration_ms"`
	BitratesKbps      []float64 `json:"bitrates_kbps"`
	SegmentSizesBits  [][]int64 `json:"segment_sizes_bits"`
}

// ParseManifest reads Sabre's manifest JSON: segment_duration_ms,
// bitrates_kbps and segment_sizes_bits (one list per segment, one size per
// bitrate).
func ParseManifest(data []byte) (*Video, error) {
	var m sabreManifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %v", jsonError(data, err))
	}
	if m.SegmentDurationMS == nil {
		return nil, fmt.Errorf("manifest: segment_duration_ms is missing")
	}
	if m.BitratesKbps == nil {
		return nil, fmt.Errorf("manifest: bitrates_kbps is missing")
	}
	if m.SegmentSizesBits == nil {
		return nil, fmt.Errorf("manifest: segment_sizes_bits is missing")
	}
	v := &Video{SegmentDuration: *m.SegmentDurationMS / 1000}
	for _, k := range m.BitratesKbps {
		v.Bitrates = append(v.Bitrates, k*1000)
	}
	v.Sizes = m.SegmentSizesBits
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	return v, nil
}

// jsonError adds a line number to a JSON syntax or type error.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
		if e.Field != "" {
			return fmt.Errorf("line %d: field %s: got JSON %s, want %s", lineOf(data, off), e.Field, e.Value, jsonKind(e.Type.String()))
		}
	}
	if off < 0 {
		return err
	}
	return fmt.Errorf("line %d: %v", lineOf(data, off), err)
}

func jsonKind(goType string) string {
	switch goType {
	case "float64", "int64", "*float64":
		return "a number"
	case "[]float64", "[]int64":
		return "a list of numbers"
	case "[][]int64":
		return "a list of lists of numbers"
	}
	return goType
}

func lineOf(data []byte, off int64) int {
	line := 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
		}
	}
	return line
}
