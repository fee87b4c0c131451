package dash

import (
	"fmt"
	"math"

	"github.com/netplay-dev/netplay/runtime/neterr"
)

// Config is how a player plays.
type Config struct {
	// Rule chooses each segment's quality.
	Rule Rule
	// Buffer is the most seconds of video the player buffers (25); when
	// the buffer is full it waits before the next request.
	Buffer float64
	// Startup is the seconds of video buffered before playback starts
	// (0: one segment, as Sabre and most players do).
	Startup float64
	// HalfLives of the throughput estimator, seconds (3 and 8).
	HalfLives []float64
	// Op names the operation in errors ("dash.simulate").
	Op string
	// AbandonFrees tells the rules that an abandoned download stops using
	// the network at once (State.AbandonFrees): Simulate sets it.
	AbandonFrees bool
	// MaxAbandon bounds the abandoned downloads of one segment (0: no
	// bound, as in Sabre). On a real network the bytes of an abandoned
	// download already on their way still hold the bottleneck, so Play
	// abandons a segment once at most.
	MaxAbandon int
}

// An Entry is one segment's line in a session's log.
type Entry struct {
	Index        int
	Quality      int     // index in the ladder, 0 the lowest
	Bitrate      float64 // bits per second of that quality
	Size         int64   // bits
	Start        float64 // seconds since the session began, when it was requested
	DownloadTime float64 // seconds from request to last bit, latency included
	Latency      float64 // seconds to the first bit
	Throughput   float64 // bits per second while receiving
	BufferBefore float64 // seconds buffered when it was requested
	BufferAfter  float64 // seconds buffered once it arrived
	Stall        float64 // seconds frozen while waiting for it
	Wait         float64 // seconds waited for room in the buffer before requesting it
	Abandoned    int     // downloads of it given up before this one
}

// QoE sums up a session the way Sabre and the ABR literature do.
type QoE struct {
	AvgBitrate     float64 // mean bitrate over segments, bps
	PlayedBitrate  float64 // time-average played bitrate, bps (Sabre's figure)
	Rebuffer       float64 // seconds frozen after playback started
	RebufferEvents int
	Switches       int
	BitrateChange  float64 // total |change| between consecutive segments, bps
	Startup        float64 // seconds from the first request to playback
	Utility        float64 // mean ln(bitrate/lowest bitrate)
	RebufferRatio  float64 // rebuffering / total session time
	// Score is the linear QoE of Pensieve and MPC: Σ R − 4.3·rebuffer −
	// Σ|ΔR|, with R in Mbps.
	Score    float64
	Duration float64 // seconds from the first request to the end of playback
}

// A Session is a finished (or failed) playback.
type Session struct {
	Video *Video
	Rule  string
	Log   []Entry
	QoE   QoE
	// Played over a network (Play): the server's address and the MPD.
	Server   string
	Manifest *Manifest
}

// transport is how a session gets segments: over a simulated network or
// over HTTP. Times are seconds since the session began.
type transport interface {
	now() float64
	// idle lets d seconds pass before the next request.
	idle(d float64) error
	// fetch downloads segment i at quality q (size bits, if known); abandon,
	// if not nil, is asked as the download progresses whether to give up.
	fetch(i, q int, size int64, abandon func(Progress) bool) (fetched, error)
}

type fetched struct {
	bits      float64 // received
	time      float64 // seconds from request to the last bit received
	latency   float64 // seconds to the first bit
	abandoned bool
}

type player struct {
	v     *Video
	cfg   Config
	tr    transport
	buf   *playout
	est   *Estimator
	last  float64 // transport time already accounted for in buf
	sess  *Session
	prevQ int
}

// run plays v over tr segment by segment and returns the session; on
// failure it returns what was played so far and the error.
func run(v *Video, tr transport, cfg Config) (*Session, error) {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 25
	}
	p := v.SegmentDuration
	if cfg.Buffer < p {
		return nil, neterr.Errorf(neterr.KindArgument, cfg.Op, "", "buffer %vs is shorter than one segment (%vs)", cfg.Buffer, p)
	}
	// Playback must be able to start before the buffer is full.
	cfg.Startup = min(max(cfg.Startup, p), max(p, cfg.Buffer-p))
	pl := &player{v: v, cfg: cfg, tr: tr, buf: newPlayout(v),
		est: NewEstimator(p, cfg.HalfLives...), prevQ: -1,
		sess: &Session{Video: v, Rule: cfg.Rule.Name()}}
	pl.last = tr.now()
	err := pl.play()
	pl.finish()
	return pl.sess, err
}

// tick accounts for the time that passed on the transport since last time.
func (pl *player) tick() {
	now := pl.tr.now()
	pl.buf.pass(now - pl.last)
	pl.last = now
}

func (pl *player) state(i int) *State {
	v := pl.v
	s := &State{Segment: i, Segments: v.Segments(), SegmentDuration: v.SegmentDuration,
		Time: pl.last, Buffer: pl.buf.level(), BufferMax: pl.cfg.Buffer,
		Throughput: pl.est.Throughput, Latency: pl.est.Latency, Samples: pl.est.Samples(),
		Bitrates: v.Bitrates, Last: pl.prevQ, AbandonFrees: pl.cfg.AbandonFrees}
	s.Sizes = v.Sizes[i:]
	return s
}

func (pl *player) play() error {
	p := pl.v.SegmentDuration
	abandoner, _ := pl.cfg.Rule.(Abandoner)
	var entry Entry
	stallMark := 0.0
	for i := 0; i < pl.v.Segments(); {
		// Wait for room in the buffer.
		waited := 0.0
		if full := pl.buf.level() + p - pl.cfg.Buffer; full > 0 && pl.buf.playing {
			if err := pl.tr.idle(full); err != nil {
				return err
			}
			waited = pl.tr.now() - pl.last
			pl.tick()
		}
		st := pl.state(i)
		q, err := pl.cfg.Rule.Choose(st)
		if err != nil {
			return pl.ruleError(i, err)
		}
		if q < 0 || q >= len(pl.v.Bitrates) {
			return neterr.Errorf(neterr.KindScript, pl.cfg.Op, "", "segment %d: abr %s returned quality %d: want 0 to %d (an index into the %d bitrates)",
				i, pl.cfg.Rule.Name(), q, len(pl.v.Bitrates)-1, len(pl.v.Bitrates))
		}
		size := pl.v.Sizes[i][q]
		start, before := pl.last, pl.buf.level()
		var check func(Progress) bool
		if abandoner != nil && (pl.cfg.MaxAbandon == 0 || entry.Abandoned < pl.cfg.MaxAbandon) {
			check = func(pr Progress) bool {
				pr.Segment, pr.Quality = i, q
				if pr.Size == 0 { // the transport did not learn it
					pr.Size = size
				}
				pr.Buffer = before
				if pl.buf.playing {
					pr.Buffer = max(0, before-pr.Time)
				}
				return abandoner.Abandon(st, pr)
			}
		}
		f, err := pl.tr.fetch(i, q, size, check)
		pl.tick()
		if err != nil {
			return err
		}
		if f.abandoned {
			entry.Abandoned++
			entry.Wait += waited
			continue
		}
		receiving := max(f.time-f.latency, 1e-6)
		pl.buf.add(q, pl.cfg.Startup)
		pl.est.Add(receiving, f.bits/receiving, f.latency)
		entry.Index, entry.Quality, entry.Bitrate, entry.Size = i, q, pl.v.Bitrates[q], int64(math.Round(f.bits))
		entry.Start, entry.DownloadTime, entry.Latency = start, f.time, f.latency
		entry.Throughput = f.bits / receiving
		entry.BufferBefore, entry.BufferAfter = before, pl.buf.level()
		entry.Stall = pl.buf.rebuffer - stallMark
		entry.Wait += waited
		stallMark = pl.buf.rebuffer
		pl.sess.Log = append(pl.sess.Log, entry)
		entry = Entry{}
		pl.prevQ = q
		i++
	}
	return nil
}

func (pl *player) ruleError(i int, err error) error {
	if neterr.Kind(err) != "" {
		return err
	}
	return neterr.Errorf(neterr.KindScript, pl.cfg.Op, "", "segment %d: abr %s failed: %v", i, pl.cfg.Rule.Name(), err)
}

// finish plays out the buffer and sums up the session.
func (pl *player) finish() {
	b := pl.buf
	b.drain()
	q := &pl.sess.QoE
	q.Rebuffer, q.RebufferEvents, q.Startup, q.Duration = b.rebuffer, b.events, b.startup, b.total
	if b.total > 0 {
		q.RebufferRatio = b.rebuffer / b.total
		q.PlayedBitrate = b.bitrateSum * b.segment / b.total
	}
	log := pl.sess.Log
	for k, e := range log {
		q.AvgBitrate += e.Bitrate
		q.Utility += math.Log(e.Bitrate / pl.v.Bitrates[0])
		q.Score += e.Bitrate / 1e6
		if k > 0 && e.Quality != log[k-1].Quality {
			q.Switches++
			d := math.Abs(e.Bitrate - log[k-1].Bitrate)
			q.BitrateChange += d
			q.Score -= d / 1e6
		}
	}
	if n := float64(len(log)); n > 0 {
		q.AvgBitrate /= n
		q.Utility /= n
	}
	q.Score -= 4.3 * q.Rebuffer
}

// Simulate plays v over trace with the network model of Sabre: no
// sockets and no clock, so the same inputs give the same session, bit for
// bit, every time.
func Simulate(v *Video, trace Trace, cfg Config) (*Session, error) {
	if cfg.Op == "" {
		cfg.Op = "dash.simulate"
	}
	if err := v.Check(); err != nil {
		return nil, neterr.Errorf(neterr.KindArgument, cfg.Op, "", "video: %v", err)
	}
	if err := trace.Check(); err != nil {
		return nil, neterr.Errorf(neterr.KindArgument, cfg.Op, "", "%v", err)
	}
	if cfg.Rule == nil {
		return nil, neterr.Errorf(neterr.KindArgument, cfg.Op, "", "no abr rule")
	}
	cfg.AbandonFrees = true
	return run(v, &simTransport{newSimNetwork(trace)}, cfg)
}

type simTransport struct{ n *simNetwork }

func (t *simTransport) now() float64 { return t.n.now }

func (t *simTransport) idle(d float64) error { t.n.pass(d); return nil }

func (t *simTransport) fetch(i, q int, size int64, abandon func(Progress) bool) (fetched, error) {
	start := t.n.now
	lat := t.n.latency()
	bits := float64(size)
	if abandon == nil {
		got := t.n.transfer(bits, 0, 0)
		return fetched{bits: got, time: t.n.now - start, latency: lat}, nil
	}
	// Look at the download after every step of progress, as Sabre does;
	// the first step's time counts the latency.
	got, minTime := 0.0, progressTime-lat
	for got < bits {
		got += t.n.transfer(bits-got, progressBits, minTime)
		minTime = progressTime
		if got < bits && abandon(Progress{Downloaded: got, Time: t.n.now - start, Latency: lat}) {
			return fetched{bits: got, time: t.n.now - start, latency: lat, abandoned: true}, nil
		}
	}
	return fetched{bits: bits, time: t.n.now - start, latency: lat}, nil
}

// String describes a QoE in the units users read: kbps and seconds.
func (q QoE) String() string {
	return fmt.Sprintf("played %.1f kbps, rebuffer %.3f s in %d events, %d switches (%.0f kbps), startup %.3f s, score %.2f",
		q.PlayedBitrate/1000, q.Rebuffer, q.RebufferEvents, q.Switches, q.BitrateChange/1000, q.Startup, q.Score)
}
