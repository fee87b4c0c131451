package dash

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A Period is one step of a bandwidth trace: for Duration seconds the
// network delivers Bandwidth bits per second, and each request waits
// Latency seconds before its first bit (Sabre's model of a round trip).
type Period struct {
	Duration, Bandwidth, Latency float64
}

// A Trace is a network's bandwidth over time; simulations repeat it from
// the start when it runs out, as Sabre does.
type Trace []Period

// Check says what is wrong with t, naming the period and the field.
func (t Trace) Check() error {
	if len(t) == 0 {
		return fmt.Errorf("trace is empty")
	}
	var bits float64
	for i, p := range t {
		switch {
		case math.IsNaN(p.Duration) || math.IsInf(p.Duration, 0) || p.Duration <= 0:
			return fmt.Errorf("trace period %d: duration %v s: must be positive", i, p.Duration)
		case math.IsNaN(p.Bandwidth) || math.IsInf(p.Bandwidth, 0) || p.Bandwidth < 0:
			return fmt.Errorf("trace period %d: bandwidth %v bps: must not be negative", i, p.Bandwidth)
		case math.IsNaN(p.Latency) || math.IsInf(p.Latency, 0) || p.Latency < 0:
			return fmt.Errorf("trace period %d: latency %v s: must not be negative", i, p.Latency)
		case p.Latency > 0 && p.Latency >= p.Duration*1e6:
			return fmt.Errorf("trace period %d: latency %v s is out of proportion to its duration %v s", i, p.Latency, p.Duration)
		}
		bits += p.Duration * p.Bandwidth
	}
	if bits < 1 {
		return fmt.Errorf("trace delivers no data: every period has bandwidth 0")
	}
	return nil
}

// Duration is the trace's length in seconds (one pass).
func (t Trace) Duration() float64 {
	var d float64
	for _, p := range t {
		d += p.Duration
	}
	return d
}

// BandwidthAt is the bandwidth at time s (the trace repeating).
func (t Trace) BandwidthAt(s float64) float64 {
	d := t.Duration()
	if d <= 0 {
		return 0
	}
	s = math.Mod(s, d)
	for _, p := range t {
		if s < p.Duration {
			return p.Bandwidth
		}
		s -= p.Duration
	}
	return t[len(t)-1].Bandwidth
}

// ParseTrace reads a trace file in any of the formats netplay knows,
// telling them apart by their content: Sabre's JSON list of
// {duration_ms, bandwidth_kbps, latency_ms}; Pensieve's text, one
// "seconds Mbps" pair per line (seconds since the start); Mahimahi's, one
// delivery opportunity of 1500 bytes per line (milliseconds since the
// start).
func ParseTrace(data []byte) (Trace, error) {
	s := bytes.TrimSpace(data)
	if len(s) > 0 && (s[0] == '[' || s[0] == '{') {
		return ParseSabreTrace(data)
	}
	for _, line := range strings.Split(string(s), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			if len(f) == 1 {
				return ParseMahimahi(data, 1)
			}
			break
		}
	}
	return ParsePensieve(data)
}

type sabrePeriod struct {
	DurationMS    *float64 `json:"duration_ms"`
	BandwidthKbps *float64 `json:"bandwidth_kbps"`
	LatencyMS     *float64 `json:"latency_ms"`
}

// ParseSabreTrace reads Sabre's network trace: a JSON list of
// {"duration_ms": …, "bandwidth_kbps": …, "latency_ms": …}.
func ParseSabreTrace(data []byte) (Trace, error) {
	var ps []sabrePeriod
	if err := json.Unmarshal(data, &ps); err != nil {
		return nil, fmt.Errorf("sabre trace: %v", jsonError(data, err))
	}
	t := make(Trace, 0, len(ps))
	for i, p := range ps {
		switch {
		case p.DurationMS == nil:
			return nil, fmt.Errorf("sabre trace period %d: duration_ms is missing", i)
		case p.BandwidthKbps == nil:
			return nil, fmt.Errorf("sabre trace period %d: bandwidth_kbps is missing", i)
		case *p.DurationMS <= 0:
			return nil, fmt.Errorf("sabre trace period %d: duration_ms %v: must be positive", i, *p.DurationMS)
		}
		var lat float64
		if p.LatencyMS != nil {
			lat = *p.LatencyMS / 1000
		}
		t = append(t, Period{Duration: *p.DurationMS / 1000, Bandwidth: *p.BandwidthKbps * 1000, Latency: lat})
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("sabre %v", err)
	}
	return t, nil
}

// ParsePensieve reads Pensieve's cooked traces: per line, the time in
// seconds since the trace began and the bandwidth from then on in Mbps.
// The last line lasts as long as the one before it.
func ParsePensieve(data []byte) (Trace, error) {
	var times, rates []float64
	lines := bufio.NewScanner(bytes.NewReader(data))
	lines.Buffer(nil, 1<<20)
	n := 0
	for lines.Scan() {
		n++
		f := strings.Fields(lines.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("pensieve trace line %d: want \"seconds Mbps\", got %q", n, lines.Text())
		}
		ts, err1 := strconv.ParseFloat(f[0], 64)
		mbps, err2 := strconv.ParseFloat(f[1], 64)
		switch {
		case err1 != nil || math.IsNaN(ts) || math.IsInf(ts, 0):
			return nil, fmt.Errorf("pensieve trace line %d: time %q is not a number of seconds", n, f[0])
		case err2 != nil || math.IsNaN(mbps) || math.IsInf(mbps, 0):
			return nil, fmt.Errorf("pensieve trace line %d: bandwidth %q is not a number of Mbps", n, f[1])
		case mbps < 0:
			return nil, fmt.Errorf("pensieve trace line %d: bandwidth %v Mbps: must not be negative", n, mbps)
		case len(times) > 0 && ts <= times[len(times)-1]:
			return nil, fmt.Errorf("pensieve trace line %d: time %v s is not after the line before (%v s): a period's duration must be positive", n, ts, times[len(times)-1])
		}
		times, rates = append(times, ts), append(rates, mbps*1e6)
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("pensieve trace line %d: %v", n+1, err)
	}
	if len(times) == 0 {
		return nil, fmt.Errorf("pensieve trace: no lines")
	}
	t := make(Trace, len(times))
	for i := range times {
		d := 1.0
		switch {
		case i+1 < len(times):
			d = times[i+1] - times[i]
		case i > 0:
			d = times[i] - times[i-1]
		}
		t[i] = Period{Duration: d, Bandwidth: rates[i]}
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("pensieve %v", err)
	}
	return t, nil
}

// MahimahiPacket is the bits one line of a Mahimahi trace delivers.
const MahimahiPacket = 1500 * 8

// ParseMahimahi reads a Mahimahi link trace (each line the millisecond at
// which one 1500-byte packet may be delivered; the trace repeats after its
// last line) as periods of window seconds each.
func ParseMahimahi(data []byte, window float64) (Trace, error) {
	if !(window > 0) {
		return nil, fmt.Errorf("mahimahi trace: window %v s: must be positive", window)
	}
	var ms []float64
	lines := bufio.NewScanner(bytes.NewReader(data))
	lines.Buffer(nil, 1<<20)
	n := 0
	for lines.Scan() {
		n++
		f := strings.TrimSpace(lines.Text())
		if f == "" || strings.HasPrefix(f, "#") {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		switch {
		case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
			return nil, fmt.Errorf("mahimahi trace line %d: %q is not a time in milliseconds", n, f)
		case v < 0:
			return nil, fmt.Errorf("mahimahi trace line %d: time %v ms: must not be negative", n, v)
		case len(ms) > 0 && v < ms[len(ms)-1]:
			return nil, fmt.Errorf("mahimahi trace line %d: time %v ms is before the line before (%v ms)", n, v, ms[len(ms)-1])
		}
		ms = append(ms, v)
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("mahimahi trace line %d: %v", n+1, err)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("mahimahi trace: no lines")
	}
	total := ms[len(ms)-1] / 1000 // the trace's period, as mahimahi repeats it
	if total <= 0 {
		return nil, fmt.Errorf("mahimahi trace line %d: the last time is 0 ms: the trace has no duration", n)
	}
	if total/window > 10_000_000 {
		return nil, fmt.Errorf("mahimahi trace: %v s in windows of %v s is too many periods", total, window)
	}
	periods := int(math.Ceil(total / window))
	counts := make([]int, periods)
	for _, v := range ms {
		i := min(int(v/1000/window), periods-1)
		counts[i]++
	}
	t := make(Trace, periods)
	for i, c := range counts {
		d := window
		if i == periods-1 {
			d = total - window*float64(periods-1)
		}
		t[i] = Period{Duration: d, Bandwidth: float64(c) * MahimahiPacket / d}
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("mahimahi %v", err)
	}
	return t, nil
}
