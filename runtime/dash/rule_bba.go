package dash

// BBA is the buffer-based rule of Huang et al. (SIGCOMM 2014), BBA-0: the
// buffer level alone picks the rate. Below a reservoir it asks for the
// lowest rate; above the reservoir plus a cushion, the highest; in
// between the rate grows linearly with the buffer (the rate map):
//
//	rate(B) = lowest + (B − reservoir)/cushion · (highest − lowest)
//
// It changes rate only when the map crosses the next rate up or down
// (hysteresis, so small buffer wiggles do not cause switches). With the
// lowest rate below the bandwidth the buffer never empties: in the
// reservoir it only grows. One protection beyond BBA-0: a download whose
// own pace would empty the buffer before it ends is abandoned for the
// lowest rate.
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
	r.last = q
	return q, nil
}

// Abandon drops to the lowest rate when, at this download's own pace, the
// rest of it would take longer than the buffer lasts and a lowest-rate
// segment would come sooner.
func (r *BBA) Abandon(s *State, p Progress) bool {
	receiving := p.Time - p.Latency
	if p.Quality == 0 || receiving <= 0 || p.Downloaded <= 0 {
		return false
	}
	pace := p.Downloaded / receiving
	left := (float64(p.Size) - p.Downloaded) / pace
	lowest := p.Latency + float64(p.Size)*s.Bitrates[0]/s.Bitrates[p.Quality]/pace
	if left < p.Buffer || lowest >= left {
		return false
	}
	r.last = 0
	return true
}
