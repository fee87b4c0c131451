package dash

import (
	"fmt"
	"math"
)

// State is what an ABR rule sees before it chooses the quality of a
// segment. Rates are in bits per second, sizes in bits, times in seconds.
type State struct {
	Segment         int     // the segment to choose a quality for
	Segments        int     // how many the video has
	SegmentDuration float64 // seconds of video per segment
	Time            float64 // seconds since the session began
	Buffer          float64 // seconds of video buffered, not yet played
	BufferMax       float64 // the most the player buffers
	Throughput      float64 // estimate; 0 before the first download
	Latency         float64 // estimate of the wait for a first bit
	Samples         []float64
	Bitrates        []float64 // the ladder, lowest first
	// Sizes are the sizes of the segments ahead: Sizes[0][q] is this
	// segment's at quality q, Sizes[1] the next one's, and so on to the
	// end of the video (the MPD tells them all).
	Sizes [][]int64
	Last  int // the previous segment's quality, -1 before the first
	// AbandonFrees is true when an abandoned download stops using the
	// network at once, as in the simulator. Over a real network it does
	// not: the bytes the server has already sent (a socket buffer's worth,
	// and what is queued on the path) still arrive, competing with the
	// next request.
	AbandonFrees bool
}

// SizesAhead is how many segments' sizes a Starlark ABR function sees.
const SizesAhead = 5

// A Rule chooses each segment's quality: an index into the ladder, 0
// the lowest. The built-in rules are Throughput, BBA and BOLA; a rule
// keeps whatever memory it needs between calls, one rule per session.
type Rule interface {
	Name() string
	Choose(s *State) (int, error)
}

// An Abandoner is a rule that may give up on a download in progress (the
// segment is then requested again, the rule choosing afresh). Abandon is
// asked after every 12000 bits and 50 ms of progress.
type Abandoner interface {
	Abandon(s *State, p Progress) bool
}

// NewRule returns a fresh built-in rule by name: "throughput", "bba" or
// "bola".
func NewRule(name string) (Rule, error) {
	switch name {
	case "throughput":
		return NewThroughput(), nil
	case "bba":
		return NewBBA(), nil
	case "bola":
		return NewBOLA(), nil
	}
	return nil, fmt.Errorf("unknown abr rule %q: want \"throughput\", \"bba\", \"bola\" or a function", name)
}

// qualityForThroughput is the highest quality whose segment, requested
// now, would arrive within one segment duration at throughput tput bps
// after the estimated latency: latency + duration·bitrate/tput ≤ duration.
func qualityForThroughput(s *State, tput float64) int {
	p := s.SegmentDuration
	q := 0
	for q+1 < len(s.Bitrates) && s.Latency+p*s.Bitrates[q+1]/tput <= p {
		q++
	}
	return q
}

// utilities are the log-utilities BOLA maximises: ln(bitrate/lowest), so
// the lowest quality's utility is 0.
func utilities(bitrates []float64) []float64 {
	u := make([]float64, len(bitrates))
	for q, b := range bitrates {
		u[q] = math.Log(b / bitrates[0])
	}
	return u
}
