package lab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A Step of a bandwidth trace: the rate (bits per second, 0 for an outage)
// holds for Dur. Delay, when HasDelay, is the one-way delay from then on
// (Sabre's traces carry a latency per step).
type Step struct {
	Dur      time.Duration
	Rate     float64
	Delay    time.Duration
	HasDelay bool
}

// Direction names the directions of a link a change applies to.
type Direction int

const (
	Both Direction = iota
	AToB
	BToA
)

func (w Direction) dirs(l *Link) []*dir {
	switch w {
	case AToB:
		return l.dirs[:1]
	case BToA:
		return l.dirs[1:]
	}
	return l.dirs[:]
}

// LinkChange is what Link.Set changes; nil fields stay as they are.
type LinkChange struct {
	RateAB, RateBA *float64
	Delay          *time.Duration
	Loss           *float64
	Queue          *int // <0: unlimited
}

// Set changes a live link at the current lab time. A new rate applies to
// the bits not yet sent, including those of the packet being transmitted;
// a new delay to packets that leave from now on; loss and queue to packets
// that arrive from now on. Setting a direction's rate stops a trace
// replaying on it.
func (l *Link) Set(c LinkChange) error {
	for _, r := range []*float64{c.RateAB, c.RateBA} {
		if r != nil && (*r < 0 || math.IsNaN(*r) || math.IsInf(*r, 0)) {
			return fmt.Errorf("a link's rate must be >= 0, got %g", *r)
		}
	}
	if c.Delay != nil && *c.Delay < 0 {
		return fmt.Errorf("a link's delay must be >= 0")
	}
	if c.Loss != nil && (*c.Loss < 0 || *c.Loss >= 1 || math.IsNaN(*c.Loss)) {
		return fmt.Errorf("a link's loss must be a probability in [0, 1), got %g", *c.Loss)
	}
	n := l.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	for i, r := range []*float64{c.RateAB, c.RateBA} {
		if r != nil {
			d := l.dirs[i]
			d.stopTrace()
			d.setRate(*r)
		}
	}
	for _, d := range l.dirs {
		if c.Delay != nil && d.delay != *c.Delay {
			d.delay = *c.Delay
			n.rerouted()
		}
		if c.Loss != nil {
			d.loss = *c.Loss
		}
		if c.Queue != nil {
			d.limit = *c.Queue
		}
	}
	return nil
}

// traceRun is a trace replaying on one direction.
type traceRun struct {
	steps []Step
	loop  bool
	i     int
	ev    *event
}

func (d *dir) stopTrace() {
	if d.trace != nil {
		d.l.n.cancel(d.trace.ev)
		d.trace = nil
	}
}

// Trace replays steps on the link from the current lab time: each step's
// rate holds for its duration, then the next one's. After the last step
// the trace starts again if loop, otherwise the last rate stays. which
// says the directions (both by default). A new trace or a Set of the rate
// replaces a running one.
func (l *Link) Trace(steps []Step, loop bool, which Direction) error {
	if len(steps) == 0 {
		return fmt.Errorf("a trace needs at least one step")
	}
	for i, s := range steps {
		if s.Dur <= 0 {
			return fmt.Errorf("trace step %d: duration must be positive, got %s", i, s.Dur)
		}
		if s.Rate < 0 || math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0) {
			return fmt.Errorf("trace step %d: rate must be >= 0, got %g", i, s.Rate)
		}
		if s.HasDelay && s.Delay < 0 {
			return fmt.Errorf("trace step %d: delay must be >= 0", i)
		}
	}
	n := l.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	for _, d := range which.dirs(l) {
		d.stopTrace()
		d.trace = &traceRun{steps: append([]Step(nil), steps...), loop: loop}
		d.traceStep()
	}
	return nil
}

// traceStep applies the current step and schedules the next (n.mu held).
func (d *dir) traceStep() {
	tr := d.trace
	n := d.l.n
	s := tr.steps[tr.i]
	if s.HasDelay && s.Delay != d.delay {
		d.delay = s.Delay
		n.rerouted()
	}
	if s.Rate != d.rate {
		d.setRate(s.Rate)
	}
	tr.i++
	if tr.i == len(tr.steps) {
		if !tr.loop {
			d.trace = nil
			return
		}
		tr.i = 0
	}
	tr.ev = n.at(n.now+s.Dur, func() {
		if d.trace == tr {
			d.traceStep()
		}
	})
}

// MahimahiPacket is the size of one delivery opportunity in a Mahimahi
// trace.
const MahimahiPacket = 1500

// LoadTrace reads a bandwidth trace file into steps. The format is told by
// the content: a JSON list is Sabre's ([{"duration_ms", "bandwidth_kbps",
// "latency_ms"}, ...]), lines of one integer are Mahimahi's (a millisecond
// timestamp per 1500-byte delivery opportunity, counted over bins of bin),
// lines of two numbers are Pensieve's ("seconds Mbps": the bandwidth
// measured up to that time).
func LoadTrace(path string, bin time.Duration) ([]Step, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	steps, err := ParseTrace(data, bin)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	return steps, nil
}

// ParseTrace parses a trace in any of the formats LoadTrace reads.
func ParseTrace(data []byte, bin time.Duration) ([]Step, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, fmt.Errorf("empty trace")
	}
	if t[0] == '[' {
		return parseSabre(t)
	}
	first := strings.Fields(string(t[:bytes.IndexByte(append(t, '\n'), '\n')]))
	switch len(first) {
	case 1:
		return parseMahimahi(t, bin)
	case 2:
		return parsePensieve(t)
	}
	return nil, fmt.Errorf("line 1: want a Mahimahi timestamp (ms) or Pensieve's \"seconds Mbps\", got %q", strings.Join(first, " "))
}

func parseSabre(data []byte) ([]Step, error) {
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, fmt.Errorf("sabre trace: %v", err)
	}
	num := func(i int, row map[string]json.RawMessage, key string, need bool) (float64, bool, error) {
		raw, ok := row[key]
		if !ok {
			if need {
				return 0, false, fmt.Errorf("sabre trace entry %d: missing %q", i, key)
			}
			return 0, false, nil
		}
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || f < 0 || math.IsInf(f, 0) {
			return 0, false, fmt.Errorf("sabre trace entry %d: %q must be a number >= 0, got %s", i, key, raw)
		}
		return f, true, nil
	}
	var steps []Step
	for i, row := range rows {
		dur, _, err := num(i, row, "duration_ms", true)
		if err != nil {
			return nil, err
		}
		if dur <= 0 {
			return nil, fmt.Errorf("sabre trace entry %d: duration_ms must be positive", i)
		}
		bw, _, err := num(i, row, "bandwidth_kbps", true)
		if err != nil {
			return nil, err
		}
		lat, has, err := num(i, row, "latency_ms", false)
		if err != nil {
			return nil, err
		}
		steps = append(steps, Step{Dur: ms(dur), Rate: bw * 1000, Delay: ms(lat), HasDelay: has})
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("sabre trace: no entries")
	}
	return steps, nil
}

func ms(f float64) time.Duration { return time.Duration(math.Round(f * 1e6)) }

// lines calls f with each non-blank line's fields and its 1-based number.
func lines(data []byte, f func(no int, fields []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 1<<20)
	no := 0
	for sc.Scan() {
		no++
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		if err := f(no, fs); err != nil {
			return err
		}
	}
	return sc.Err()
}

// maxTraceSteps bounds what a trace file may expand into.
const maxTraceSteps = 1 << 20

func parseMahimahi(data []byte, bin time.Duration) ([]Step, error) {
	if bin <= 0 {
		return nil, fmt.Errorf("mahimahi trace: bin must be positive")
	}
	var stamps []int64
	last := int64(0)
	err := lines(data, func(no int, fs []string) error {
		if len(fs) != 1 {
			return fmt.Errorf("line %d: want one timestamp in ms, got %q", no, strings.Join(fs, " "))
		}
		v, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil || v < 0 || v > 1e9 {
			return fmt.Errorf("line %d: %q is not a timestamp in ms", no, fs[0])
		}
		if v < last {
			return fmt.Errorf("line %d: timestamp %d goes back in time (after %d)", no, v, last)
		}
		last = v
		stamps = append(stamps, v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mahimahi trace: %v", err)
	}
	// The trace's period is its last timestamp (Mahimahi replays it in a
	// loop); an opportunity at time t delivers in the bin holding t-1 ms.
	period := time.Duration(last) * time.Millisecond
	if period <= 0 {
		return nil, fmt.Errorf("mahimahi trace: its last timestamp must be after 0 ms")
	}
	nbins := int64((period + bin - 1) / bin)
	if nbins > maxTraceSteps {
		return nil, fmt.Errorf("mahimahi trace: %d bins of %s; use a larger bin", nbins, bin)
	}
	counts := make([]int, nbins)
	for _, s := range stamps {
		at := time.Duration(max(s-1, 0)) * time.Millisecond
		counts[min(int64(at/bin), nbins-1)]++
	}
	var steps []Step
	for i, c := range counts {
		dur := bin
		if end := time.Duration(i+1) * bin; end > period {
			dur = period - time.Duration(i)*bin
		}
		rate := float64(c*MahimahiPacket*8) / dur.Seconds()
		if k := len(steps); k > 0 && steps[k-1].Rate == rate {
			steps[k-1].Dur += dur
			continue
		}
		steps = append(steps, Step{Dur: dur, Rate: rate})
	}
	return steps, nil
}

func parsePensieve(data []byte) ([]Step, error) {
	type row struct{ t, mbps float64 }
	var rows []row
	err := lines(data, func(no int, fs []string) error {
		if len(fs) != 2 {
			return fmt.Errorf("line %d: want \"seconds Mbps\", got %q", no, strings.Join(fs, " "))
		}
		t, err1 := strconv.ParseFloat(fs[0], 64)
		b, err2 := strconv.ParseFloat(fs[1], 64)
		if err1 != nil || err2 != nil || t < 0 || b < 0 || math.IsInf(t, 0) || math.IsInf(b, 0) || t > 1e9 {
			return fmt.Errorf("line %d: %q is not \"seconds Mbps\" with numbers >= 0", no, strings.Join(fs, " "))
		}
		if k := len(rows); k > 0 && t < rows[k-1].t {
			return fmt.Errorf("line %d: time %g goes back (after %g)", no, t, rows[k-1].t)
		}
		if len(rows) >= maxTraceSteps {
			return fmt.Errorf("line %d: more than %d lines", no, maxTraceSteps)
		}
		rows = append(rows, row{t, b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pensieve trace: %v", err)
	}
	// Each line's bandwidth holds from the previous line's time to its own,
	// as Pensieve's simulator reads it; the first from 0.
	var steps []Step
	prev := 0.0
	for _, r := range rows {
		dur := time.Duration(math.Round((r.t - prev) * 1e9))
		prev = r.t
		if dur <= 0 {
			continue
		}
		steps = append(steps, Step{Dur: dur, Rate: r.mbps * 1e6})
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("pensieve trace: no interval of positive length")
	}
	return steps, nil
}
