package dash

// BBA is the buffer-based rule of Huang et al. (SIGCOMM 2014), BBA-0: the
// buffer level alone picks the rate. Below a reservoir it asks for the
// lowest rate; above the reservoir plus a cushion, the highest; in
// between the rate grows linearly with the buffer (the rate map):
//
//	rate(B) = lowest + (B − reservoir)/cushion · (highest − lowest)
//
// It changes rate only when the map crosses the next rate up or down
// (hysteresis, so small buffer wiggles do not cause switches).
//
// BBA's promise: as long as the bandwidth stays above the lowest rate,
// the picture never freezes. The paper keeps it by keeping the rate map
// in a "safe area": the bandwidth may fall at any moment to just the
// lowest rate, and whatever segment is then on its way must still arrive
// before the buffer runs dry. So a segment of size S is only asked for
// when S/lowest, plus a request's latency, fits in the buffer. That holds
// whatever the network does with a download, so BBA never abandons one:
// on a real TCP connection an abandoned download's bytes already sent
// still hold the bottleneck, and a second request only competes with
// them. The price is that a small buffer caps the rate: with a 12 s
// buffer of 2 s segments, at most about five times the lowest rate.
type BBA struct {
	// Reservoir and Cushion in seconds; 0 means: derive them from the
	// buffer size (reservoir 20% of it, at least one segment; the rate
	// map reaches the top at 80% of the buffer, or one segment short of
	// full, whichever is lower).
	Reservoir, Cushion float64

	last int
}

// NewBBA returns BBA-0 with the map derived from the buffer size.
func NewBBA() *BBA { return &BBA{last: -1} }

func (r *BBA) Name() string { return "bba" }

// bounds returns the reservoir and the level where the map reaches the top.
func (r *BBA) bounds(s *State) (reservoir, upper float64) {
	if r.Reservoir > 0 || r.Cushion > 0 {
		return r.Reservoir, r.Reservoir + r.Cushion
	}
	upper = min(0.8*s.BufferMax, s.BufferMax-s.SegmentDuration)
	reservoir = min(max(0.2*s.BufferMax, s.SegmentDuration), upper)
	return reservoir, upper
}

// rateMap is the rate the buffer level B calls for.
func (r *BBA) rateMap(s *State, reservoir, upper float64) float64 {
	lowest, highest := s.Bitrates[0], s.Bitrates[len(s.Bitrates)-1]
	switch {
	case s.Buffer <= reservoir:
		return lowest
	case s.Buffer >= upper:
		return highest
	}
	return lowest + (s.Buffer-reservoir)/(upper-reservoir)*(highest-lowest)
}

func (r *BBA) Choose(s *State) (int, error) {
	top := len(s.Bitrates) - 1
	reservoir, upper := r.bounds(s)
	prev := max(r.last, 0)
	rate := r.rateMap(s, reservoir, upper)

	q := prev
	switch {
	case s.Buffer <= reservoir:
		q = 0
	case s.Buffer >= upper:
		q = top
	case prev < top && rate >= s.Bitrates[prev+1]:
		// Up: the highest rate below the map.
		for q = prev + 1; q+1 <= top && s.Bitrates[q+1] < rate; q++ {
		}
	case prev > 0 && rate <= s.Bitrates[prev-1]:
		// Down: the lowest rate above the map.
		for q = prev - 1; q > 0 && s.Bitrates[q-1] > rate; q-- {
		}
	}
	// The safe area: at the lowest rate's bandwidth the segment still
	// arrives before the buffer empties.
	floor := lowestRate(s)
	for q > 0 && float64(s.Sizes[0][q])/floor+2*s.Latency+safeMargin > s.Buffer {
		q--
	}
	// And no segment whose download, at the throughput measured so far,
	// would take the buffer below the reservoir (the map alone assumes
	// the bandwidth changes slowly).
	for q > 0 && s.Throughput > 0 && float64(s.Sizes[0][q])/s.Throughput+s.Latency > s.Buffer-reservoir {
		q--
	}
	r.last = q
	return q, nil
}

// safeMargin, in seconds, covers what the latency estimate misses: a
// request's own round trip, headers, a latency that grows.
const safeMargin = 0.25

// lowestRate is the least bandwidth at which the lowest quality still
// plays without freezing, as far as the player can see: the bit rate of
// the largest lowest-quality segment among the next few (with VBR the
// nominal lowest bitrate says little). The real floor, where every
// lowest-quality segment fits, is at least this.
func lowestRate(s *State) float64 {
	biggest := 0.0
	for _, sizes := range s.Sizes {
		biggest = max(biggest, float64(sizes[0]))
	}
	if biggest <= 0 {
		return s.Bitrates[0]
	}
	return biggest / s.SegmentDuration
}
