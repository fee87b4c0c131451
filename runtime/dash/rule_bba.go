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
// BBA's promise: as long as the bandwidth carries the lowest rate, the
// picture never freezes. The bandwidth may fall to just that rate at any
// moment, so whatever is then on its way must not empty the buffer, nor
// must the lowest-rate segments after it that are larger than their
// share (VBR). How it keeps the promise depends on what abandoning a
// download does (State.AbandonFrees):
//
//   - In the simulator an abandoned download stops at once, so any rate is
//     safe while the buffer still covers a lowest-rate segment: BBA
//     abandons for the lowest rate when the download's pace says it would
//     run the buffer down, or at the last moment a lowest-rate segment
//     would still arrive in time.
//   - Over a network the bytes already sent still arrive after an
//     abandonment (on the lab's TCP the whole segment, its send buffer
//     being unbounded) and a second request only competes with them. So
//     BBA never abandons there and keeps its rate map in the paper's
//     "safe area": a segment is only asked for if, at the lowest rate, it
//     would arrive before the buffer empties. The price: a small buffer
//     caps the rate at about (buffer − segment)/segment times the lowest.
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

	// lowestExcess of the state last asked about: Abandon asks about the
	// same state many times.
	excessOf *State
	excess   float64
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
	// The safe area: were the bandwidth to fall to the lowest rate now,
	// the bits this download commits to, and the lowest-rate segments
	// after it, would still arrive before the buffer empties.
	floor := s.Bitrates[0]
	need := 2*s.Latency + safeMargin + r.lowestExcess(s)
	for q > 0 && r.committed(s, q)/floor+need > s.Buffer {
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

// committed is how many bits asking for this segment at quality q
// commits the network to: all of them, unless an abandonment frees the
// network, when at worst the download is given up for the lowest rate.
func (r *BBA) committed(s *State, q int) float64 {
	if s.AbandonFrees {
		return float64(s.Sizes[0][0])
	}
	return float64(s.Sizes[0][q])
}

// safeMargin, in seconds, covers what the latency estimate misses: a
// request's own round trip, headers, a latency that grows, the time
// between two looks at a download.
const safeMargin = 0.25

// lowestExcess is how much longer than their duration the lowest-rate
// segments after this one could take at the lowest bitrate's bandwidth,
// at the worst moment: a VBR video's large segments are paid for from the
// buffer.
func (r *BBA) lowestExcess(s *State) float64 {
	if r.excessOf == s {
		return r.excess
	}
	floor := s.Bitrates[0]
	worst, sum := 0.0, 0.0
	for _, sizes := range s.Sizes[1:] {
		sum += float64(sizes[0])/floor + s.Latency - s.SegmentDuration
		worst = max(worst, sum)
	}
	r.excessOf, r.excess = s, worst
	return worst
}

// Abandon (only when abandoning frees the network) drops to the lowest
// rate when, at this download's recent pace, the rest of it would take
// longer than the buffer lasts and a lowest-rate segment would come
// sooner; or at the last moment a lowest-rate segment, at the lowest
// rate, would still arrive in time. The pace is the slower of the last
// step's and the last second's or so, so a sudden drop counts at once and
// a momentary burst does not hide it.
func (r *BBA) Abandon(s *State, p Progress) bool {
	if !s.AbandonFrees {
		return false
	}
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
	// The last moment to escape: a lowest-rate segment, and the large
	// ones after it, still arrive before the buffer empties.
	worst := s.Bitrates[0]
	excess := r.lowestExcess(s)
	escape := p.Latency + lowestSize/worst + safeMargin + excess
	lastChance := p.Buffer <= escape && rest/worst > p.Buffer-excess

	// Hopeless already: at this pace the buffer would be down to the last
	// moment before the download ends, and a lowest-rate segment comes
	// sooner.
	hopeless := rest/pace > p.Buffer-escape && p.Latency+lowestSize/pace < rest/pace
	if !hopeless && !lastChance {
		return false
	}
	r.last, r.abandoned = 0, true
	r.seg = -1
	return true
}
