package dash

import "math"

// playout is the player's buffer and what watching it was like: segments
// wait in the buffer and play one after the other; when the buffer runs
// dry the picture freezes (a rebuffering event) until the next segment
// arrives. The accounting follows Sabre's, so its figures compare.
type playout struct {
	segment  float64 // seconds per segment
	bitrates []float64

	queue   []int   // qualities of the buffered segments, oldest first
	partial float64 // seconds of queue[0] already played
	playing bool    // playback has started (the startup buffer filled)

	startup  float64 // seconds before playback started
	total    float64 // seconds since the first request: startup, playing and frozen
	rebuffer float64 // seconds frozen after playback started
	events   int     // times the buffer ran dry while playing

	// In the order segments played:
	played     int     // segments that started playing
	bitrateSum float64 // sum of their bitrates
	changeSum  float64 // sum of |bitrate change| between consecutive ones
	switches   int
	lastPlayed int
}

func newPlayout(v *Video) *playout {
	return &playout{segment: v.SegmentDuration, bitrates: v.Bitrates, lastPlayed: -1}
}

// level is the seconds of video in the buffer.
func (b *playout) level() float64 {
	return b.segment*float64(len(b.queue)) - b.partial
}

// add puts a downloaded segment at the end of the buffer; playback starts
// once the buffer holds startup seconds.
func (b *playout) add(quality int, startup float64) {
	b.queue = append(b.queue, quality)
	if !b.playing && b.level() >= startup-1e-9 {
		b.playing = true
		b.startup = b.total
	}
}

// pass lets t seconds of wall (or lab, or trace) time go by: before
// playback starts they are startup delay; then the buffer plays, and
// what the buffer cannot cover is rebuffering.
func (b *playout) pass(t float64) {
	if t <= 0 {
		return
	}
	b.total += t
	if !b.playing {
		return
	}
	if len(b.queue) == 0 {
		b.rebuffer += t // still frozen: not a new event
		return
	}
	for t > 0 && len(b.queue) > 0 {
		if b.partial == 0 {
			b.startPlaying(b.queue[0])
		}
		rest := b.segment - b.partial
		if t < rest {
			b.partial += t
			return
		}
		t -= rest
		b.queue = b.queue[1:]
		b.partial = 0
	}
	if t > 1e-9 { // not a rounding error's leftover
		b.rebuffer += t
		b.events++
	}
}

// startPlaying counts segment quality q as it begins to play.
func (b *playout) startPlaying(q int) {
	b.played++
	b.bitrateSum += b.bitrates[q]
	if b.lastPlayed >= 0 && q != b.lastPlayed {
		b.switches++
		b.changeSum += math.Abs(b.bitrates[q] - b.bitrates[b.lastPlayed])
	}
	b.lastPlayed = q
}

// drain plays what is left in the buffer (the session's downloads are
// over; nothing more can freeze).
func (b *playout) drain() {
	if !b.playing && len(b.queue) > 0 {
		b.playing = true
		b.startup = b.total
	}
	b.pass(b.level())
	b.queue, b.partial = nil, 0
}
