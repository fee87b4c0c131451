package dash

// Throughput is the throughput-based rule of dash.js and Sabre: pick the
// highest bitrate that fits in 90% of the estimated throughput, but never
// more than the buffer can pay for (the insufficient-buffer rule), and
// abandon a download that is taking far too long.
type Throughput struct {
	// SafetyFactor scales the estimate before choosing (0.9).
	SafetyFactor float64
	// The insufficient-buffer rule only trusts a fraction of what the
	// buffer and the estimate promise: it starts at 0.9 and shrinks by a
	// factor of 0.9 per segment down to 0.5.
	bufferSafety float64
}

// NewThroughput returns the rule with Sabre's constants.
func NewThroughput() *Throughput { return &Throughput{SafetyFactor: 0.9, bufferSafety: 0.9} }

func (r *Throughput) Name() string { return "throughput" }

func (r *Throughput) Choose(s *State) (int, error) {
	if s.Throughput <= 0 {
		return 0, nil // nothing measured yet: start at the bottom
	}
	q := qualityForThroughput(s, s.Throughput*r.SafetyFactor)

	// Insufficient-buffer rule: the segment must be downloadable, at the
	// estimated throughput, before the buffer runs dry.
	safeBits := r.bufferSafety * (s.Buffer - s.Latency) * s.Throughput
	r.bufferSafety = max(0.5, r.bufferSafety*0.9)
	for lower := 0; lower < q; lower++ {
		if s.Bitrates[lower+1]*s.SegmentDuration > safeBits {
			q = lower
			break
		}
	}
	return q, nil
}

// Abandon gives up when, half a second in, the download's own pace says it
// will take more than 1.8 segment durations and a lower quality's whole
// segment would be smaller than what is left of this one.
func (r *Throughput) Abandon(s *State, p Progress) bool {
	receiving := p.Time - p.Latency
	if p.Time < 0.5-1e-9 || receiving <= 0 || p.Downloaded <= 0 { // (times are sums of float steps)
		return false
	}
	pace := p.Downloaded / receiving
	left := float64(p.Size) - p.Downloaded
	if p.Time+left/pace <= 1.8*s.SegmentDuration {
		return false
	}
	q := qualityForThroughput(s, pace*r.SafetyFactor)
	lowerSize := float64(p.Size) * s.Bitrates[q] / s.Bitrates[p.Quality]
	return q < p.Quality && lowerSize < left
}
