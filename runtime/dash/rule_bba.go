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
// the picture never freezes. In the reservoir the buffer only grows; and a
// download at a higher rate is abandoned (the segment fetched again at the
// lowest rate) when the bandwidth drops so far that it could empty the
// buffer: either its recent pace says so, or the buffer has come down to
// what a lowest-rate segment needs and the rest of this one might not
// arrive in time at the lowest rate.
type BBA struct {
	// Reservoir and Cushion in seconds; 0 means: derive them from the
	// buffer size (reservoir 20% of it, at least one segment; the rate
	// map reaches the top at 80% of the buffer, or one segment short of
	// full, whichever is lower).
	Reservoir, Cushion float64

	last      int
	abandoned bool // the last download was abandoned: fetch it at the lowest rate

	// Marks on the current download's progress to measure its recent
	// pace (the average since the request would hide a sudden drop behind
	// a fast start): the last check, and two a second or more apart.
	seg, quality       int
	older, newer, prev Progress
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
	if r.abandoned {
		r.abandoned, r.last = false, 0
		return 0, nil
	}
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
	// Safety: no segment whose download, at the throughput measured so
	// far, would take the buffer below the reservoir (the map alone
	// assumes the bandwidth changes slowly).
	for q > 0 && s.Throughput > 0 && float64(s.Sizes[0][q])/s.Throughput+s.Latency > s.Buffer-reservoir {
		q--
	}
	r.last = q
	return q, nil
}

// escapeMargin covers the time between two looks at a download.
const escapeMargin = 0.25

// Abandon drops to the lowest rate when, at this download's recent pace,
// the rest of it would take longer than the buffer lasts and a
// lowest-rate segment would come sooner; or when the buffer is down to
// what a lowest-rate segment needs at the lowest rate and the rest of this
// one might not make it. The pace is the slower of the last step's and the
// last second's or so, so a sudden drop counts at once and a momentary
// burst does not hide it.
func (r *BBA) Abandon(s *State, p Progress) bool {
	if p.Segment != r.seg || p.Quality != r.quality || p.Time < r.newer.Time {
		start := Progress{Time: p.Latency}
		r.seg, r.quality, r.older, r.newer, r.prev = p.Segment, p.Quality, start, start, start
	}
	prev := r.prev
	r.prev = p
	if p.Time-r.newer.Time >= 1 {
		r.older, r.newer = r.newer, p
	}
	if p.Quality == 0 || p.Time <= prev.Time || p.Time <= r.older.Time {
		return false
	}
	pace := min((p.Downloaded-prev.Downloaded)/(p.Time-prev.Time),
		(p.Downloaded-r.older.Downloaded)/(p.Time-r.older.Time))
	if pace <= 0 {
		pace = 1 // nothing arrived lately: as good as stalled
	}
	rest := float64(p.Size) - p.Downloaded
	lowestSize := float64(s.Sizes[0][0])
	// The last moment to escape: a lowest-rate segment, at the lowest
	// rate, still arrives before the buffer empties.
	worst := s.Bitrates[0]
	escape := p.Latency + lowestSize/worst + escapeMargin
	lastChance := p.Buffer <= escape && rest/worst > p.Buffer

	// Hopeless already: at this pace the buffer would be down to the last
	// moment before the download ends, and a lowest-rate segment comes
	// sooner. Leaving early matters on a real network, where the bytes
	// already sent still hold the bottleneck after the abandonment.
	hopeless := rest/pace > p.Buffer-escape && p.Latency+lowestSize/pace < rest/pace
	if !hopeless && !lastChance {
		return false
	}
	r.last, r.abandoned = 0, true
	r.seg = -1
	return true
}
