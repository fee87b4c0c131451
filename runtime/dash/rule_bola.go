package dash

// BOLA (Spiteri, Urgaonkar and Sitaraman, 2016) chooses from the buffer
// level alone, maximising for each segment
//
//	(V·(utility(q) + γp) − buffer) / size(q)
//
// where utility(q) = ln(bitrate(q)/lowest bitrate): a fuller buffer makes
// larger, better segments worth their download time. V is set so the top
// quality is chosen when the buffer is one segment short of its target.
// As in Sabre (and dash.js), it does not climb faster than the measured
// throughput allows (at most one step above what the throughput
// sustains), its buffer target shrinks near the start and the end of the
// video, and it abandons a download when a lower quality now scores
// better.
type BOLA struct {
	// GammaP is γp in seconds (5): how much the rule values quality
	// against the risk of stalling.
	GammaP float64

	last int     // the quality chosen last
	v    float64 // V of the last decision, for Abandon
	util []float64
}

// NewBOLA returns the rule with Sabre's γp = 5 s.
func NewBOLA() *BOLA { return &BOLA{GammaP: 5} }

func (r *BOLA) Name() string { return "bola" }

// target is the buffer level BOLA aims at for segment i: the player's
// buffer, but smaller near the start and the end of the video (half the
// segments played or left, at least three segments).
func (r *BOLA) target(s *State) float64 {
	segments := min(s.Segment, s.Segments-s.Segment)
	t := max(float64(segments)/2, 3) * s.SegmentDuration
	return min(s.BufferMax, t)
}

// score is BOLA's objective for quality q at buffer level buffer and a
// download of size bits.
func (r *BOLA) score(q int, buffer, size float64) float64 {
	return (r.v*(r.util[q]+r.GammaP) - buffer) / size
}

func (r *BOLA) Choose(s *State) (int, error) {
	if r.util == nil {
		r.util = utilities(s.Bitrates)
	}
	if s.Throughput <= 0 {
		r.last = 0
		return 0, nil // the first segment
	}
	top := len(s.Bitrates) - 1
	r.v = (r.target(s) - s.SegmentDuration) / (r.util[top] + r.GammaP)

	q, best := 0, 0.0
	for i, b := range s.Bitrates {
		// Sabre scores with the nominal bitrate rather than the size.
		if sc := r.score(i, s.Buffer, b); i == 0 || sc > best {
			q, best = i, sc
		}
	}

	// Climb no faster than the throughput allows.
	if q > r.last {
		sustainable := qualityForThroughput(s, s.Throughput)
		switch {
		case q <= sustainable:
		case r.last > sustainable:
			q = r.last
		default:
			q = sustainable + 1
		}
	}
	r.last = q
	return q, nil
}

// Abandon switches down when a lower quality's whole segment scores
// better than what is left of this one (and is smaller than that rest).
func (r *BOLA) Abandon(s *State, p Progress) bool {
	left := float64(p.Size) - p.Downloaded
	if p.Downloaded <= 0 || left <= 0 || r.util == nil {
		return false
	}
	buffer := p.Buffer
	score := r.score(p.Quality, buffer, left)
	if score < 0 {
		return false
	}
	to := -1
	for q := 0; q < p.Quality; q++ {
		size := float64(p.Size) * s.Bitrates[q] / s.Bitrates[p.Quality]
		if sc := r.score(q, buffer, size); size < left && sc > score {
			to, score = q, sc
		}
	}
	if to < 0 {
		return false
	}
	r.last = to
	return true
}
