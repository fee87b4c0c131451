package dash

// The simulated network is Sabre's model: the trace says, period by
// period, how many bits per second arrive and how long a request waits
// for its first bit. A segment download first pays one latency (spread
// over the periods it spans, each period contributing at its own latency)
// and then its bits at the bandwidth of each period it spans. The trace
// repeats when it runs out. Time only advances here: no sockets, no clock,
// so a simulation repeats bit for bit.

// Progress is how far a segment download has come; an ABR rule's Abandon
// looks at it while the download runs.
type Progress struct {
	Segment, Quality int
	Size             int64   // bits of the whole segment
	Downloaded       float64 // bits received so far
	Time             float64 // seconds since the request, latency included
	Latency          float64 // seconds until the first bit (known once it came)
	Buffer           float64 // seconds of video in the buffer now
}

// Abandonment checks happen after at least this much progress, as in
// Sabre: 12000 bits and 50 ms (both).
const (
	progressBits = 12000
	progressTime = 0.050
)

type simNetwork struct {
	trace Trace
	i     int     // current period
	left  float64 // seconds left in it
	now   float64 // seconds since the simulation began
}

func newSimNetwork(t Trace) *simNetwork {
	return &simNetwork{trace: t, left: t[0].Duration}
}

func (n *simNetwork) period() Period { return n.trace[n.i] }

func (n *simNetwork) nextPeriod() {
	n.i = (n.i + 1) % len(n.trace)
	n.left = n.trace[n.i].Duration
}

// pass lets d seconds go by.
func (n *simNetwork) pass(d float64) {
	for d > n.left {
		d -= n.left
		n.now += n.left
		n.nextPeriod()
	}
	n.left -= d
	n.now += d
}

// latency waits for one request's first bit: one "unit" of latency, where
// a period of latency L consumes units at 1/L per second. It returns the
// time it took.
func (n *simNetwork) latency() float64 {
	start := n.now
	units := 1.0
	for units > 0 {
		l := n.period().Latency
		if t := units * l; t <= n.left {
			n.left -= t
			n.now += t
			break
		}
		units -= n.left / l // l > 0 here: otherwise t = 0 fits
		n.now += n.left
		n.nextPeriod()
	}
	return n.now - start
}

// transfer receives bits, at most until enough progress was made to look
// at the download again (at least minBits bits and minTime seconds, the
// larger in bits at the current bandwidth); it returns the bits received.
// With minBits and minTime both zero it receives all of them.
func (n *simNetwork) transfer(bits, minBits, minTime float64) float64 {
	all := minBits <= 0 && minTime <= 0
	got := 0.0
	for bits > 0 && (all || minBits > 0 || minTime > 0) {
		bw := n.period().Bandwidth
		if bw <= 0 { // nothing arrives in this period
			if !all && minBits <= 0 && minTime <= n.left {
				n.left -= minTime
				n.now += minTime
				break
			}
			minTime -= n.left
			n.now += n.left
			n.nextPeriod()
			continue
		}
		want := bits
		if !all {
			want = min(bits, max(minBits, minTime*bw))
		}
		if room := n.left * bw; want <= room {
			t := want / bw
			n.left -= t
			n.now += t
			got += want
			break
		}
		b := n.left * bw
		got += b
		bits -= b
		minBits -= b
		minTime -= n.left
		n.now += n.left
		n.nextPeriod()
	}
	return got
}
