package dashmod

import (
	"fmt"
	"math"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/dash"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"go.starlark.net/starlark"
)

func argErr(op, format string, args ...any) error {
	return neterr.Errorf(neterr.KindArgument, op, "", format, args...)
}

// seconds reads a duration argument: a number of seconds or "50ms".
func seconds(op, param string, v starlark.Value) (float64, error) {
	d, err := lang.Duration(v)
	if err != nil {
		return 0, argErr(op, "%s: %v", param, err)
	}
	return d.Seconds(), nil
}

// bitrate reads a rate argument: bits per second or "300kbps".
func bitrate(op, param string, v starlark.Value) (float64, error) {
	r, err := lang.Rate(v)
	if err != nil {
		return 0, argErr(op, "%s: %v", param, err)
	}
	if _, isNum := v.(starlark.String); !isNum && r < 1000 {
		return 0, argErr(op, "%s: %s bits per second is too low for video: numbers are bits per second (write \"%vkbps\" for kbps)", param, v, v)
	}
	return r, nil
}

// bitratesArg reads a ladder of bitrates.
func bitratesArg(op string, v starlark.Value) ([]float64, error) {
	it, ok := v.(starlark.Iterable)
	if !ok || v == starlark.None {
		return nil, argErr(op, "bitrates: got %s, want a list of bitrates such as [\"300kbps\", \"1Mbps\"]", v.Type())
	}
	var out []float64
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		r, err := bitrate(op, fmt.Sprintf("bitrates[%d]", i), x)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, argErr(op, "bitrates: the list is empty")
	}
	return out, nil
}

// traceArg reads a bandwidth trace: a list of (seconds, rate) or
// (seconds, rate, latency) steps, or a file in Sabre's, Pensieve's or
// Mahimahi's format.
func traceArg(th *starlark.Thread, op string, v starlark.Value) (dash.Trace, error) {
	if path, ok := v.(starlark.String); ok {
		data, err := lang.ReadFile(th, op, string(path))
		if err != nil {
			if neterr.Kind(err) != "" {
				return nil, err
			}
			return nil, argErr(op, "trace: %v", err)
		}
		t, err := dash.ParseTrace(data)
		if err != nil {
			return nil, argErr(op, "%s: %v", path, err)
		}
		return t, nil
	}
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, argErr(op, "trace: got %s, want a list of (seconds, bps) steps or a trace file's path", v.Type())
	}
	var t dash.Trace
	iter := it.Iterate()
	defer iter.Done()
	var step starlark.Value
	for i := 0; iter.Next(&step); i++ {
		p, err := stepArg(op, i, step)
		if err != nil {
			return nil, err
		}
		t = append(t, p)
	}
	if err := t.Check(); err != nil {
		return nil, argErr(op, "%v", err)
	}
	return t, nil
}

func stepArg(op string, i int, step starlark.Value) (dash.Period, error) {
	if d, ok := step.(*starlark.Dict); ok {
		return sabreStep(op, i, d)
	}
	seq, ok := step.(starlark.Indexable)
	if !ok || (seq.Len() != 2 && seq.Len() != 3) {
		return dash.Period{}, argErr(op, "trace step %d: got %s, want (seconds, bps) or (seconds, bps, latency)", i, step)
	}
	var p dash.Period
	// Durations: a non-positive number gets its own message, since
	// lang.Duration's would not name the step's field.
	if f, isNum := starlark.AsFloat(seq.Index(0)); isNum && !(f > 0) {
		return p, argErr(op, "trace step %d: duration %v s: must be positive", i, seq.Index(0))
	}
	d, err := lang.Duration(seq.Index(0))
	if err != nil {
		return p, argErr(op, "trace step %d: duration: %v", i, err)
	}
	if d <= 0 {
		return p, argErr(op, "trace step %d: duration %v: must be positive", i, seq.Index(0))
	}
	p.Duration = d.Seconds()
	rv := seq.Index(1)
	if f, isNum := starlark.AsFloat(rv); isNum {
		if !(f >= 0) || math.IsInf(f, 0) {
			return p, argErr(op, "trace step %d: bandwidth %v bps: must not be negative", i, rv)
		}
		p.Bandwidth = f
	} else if p.Bandwidth, err = lang.Rate(rv); err != nil {
		return p, argErr(op, "trace step %d: bandwidth: %v", i, err)
	}
	if seq.Len() == 3 {
		l, err := lang.Duration(seq.Index(2))
		if err != nil {
			return p, argErr(op, "trace step %d: latency: %v", i, err)
		}
		p.Latency = l.Seconds()
	}
	return p, nil
}

// sabreStep reads a step as Sabre writes it (json.decode of its trace
// file): {"duration_ms": …, "bandwidth_kbps": …, "latency_ms": …}.
func sabreStep(op string, i int, d *starlark.Dict) (dash.Period, error) {
	get := func(key string, required bool) (float64, error) {
		v, found, _ := d.Get(starlark.String(key))
		if !found {
			if required {
				return 0, argErr(op, "trace step %d: %s is missing", i, key)
			}
			return 0, nil
		}
		f, ok := starlark.AsFloat(v)
		if !ok {
			return 0, argErr(op, "trace step %d: %s: got %s, want a number", i, key, v.Type())
		}
		return f, nil
	}
	var p dash.Period
	ms, err := get("duration_ms", true)
	if err != nil {
		return p, err
	}
	if !(ms > 0) {
		return p, argErr(op, "trace step %d: duration_ms %v: must be positive", i, ms)
	}
	kbps, err := get("bandwidth_kbps", true)
	if err != nil {
		return p, err
	}
	if !(kbps >= 0) {
		return p, argErr(op, "trace step %d: bandwidth_kbps %v: must not be negative", i, kbps)
	}
	lat, err := get("latency_ms", false)
	if err != nil {
		return p, err
	}
	if !(lat >= 0) {
		return p, argErr(op, "trace step %d: latency_ms %v: must not be negative", i, lat)
	}
	return dash.Period{Duration: ms / 1000, Bandwidth: kbps * 1000, Latency: lat / 1000}, nil
}

// ruleArg reads abr=: a built-in rule's name or a Starlark function.
func ruleArg(th *starlark.Thread, op string, v starlark.Value, locked bool) (dash.Rule, error) {
	switch v := v.(type) {
	case starlark.String:
		r, err := dash.NewRule(string(v))
		if err != nil {
			return nil, argErr(op, "abr: %v", err)
		}
		return r, nil
	case starlark.Callable:
		return &funcRule{th: th, fn: v, locked: locked, op: op}, nil
	}
	return nil, argErr(op, "abr: got %s, want \"throughput\", \"bba\", \"bola\" or a function(state) returning a quality", v.Type())
}

// funcRule is an ABR rule written in Starlark: called with a
// dash.abr_state, it returns a quality index.
type funcRule struct {
	th     *starlark.Thread
	fn     starlark.Callable
	op     string
	locked bool // the caller holds the interpreter lock (simulate); play releases it
}

func (r *funcRule) Name() string { return r.fn.Name() }

func (r *funcRule) Choose(s *dash.State) (int, error) {
	var v starlark.Value
	var err error
	if r.locked {
		v, err = starlark.Call(r.th, r.fn, starlark.Tuple{stateValue(s)}, nil)
	} else {
		in := lang.InterpOf(r.th)
		in.Lock()
		v, err = starlark.Call(r.th, r.fn, starlark.Tuple{stateValue(s)}, nil)
		in.Unlock()
	}
	if err != nil {
		if ee, ok := err.(*starlark.EvalError); ok {
			return 0, neterr.Errorf(neterr.KindScript, r.op, "", "segment %d: abr function %s failed: %s", s.Segment, r.fn.Name(), ee.Backtrace())
		}
		return 0, neterr.Errorf(neterr.KindScript, r.op, "", "segment %d: abr function %s failed: %v", s.Segment, r.fn.Name(), err)
	}
	q, ok := v.(starlark.Int)
	if !ok {
		return 0, neterr.Errorf(neterr.KindScript, r.op, "", "segment %d: abr function %s returned %s (%s) for the quality, want an int index into the %d bitrates", s.Segment, r.fn.Name(), v, v.Type(), len(s.Bitrates))
	}
	i, ok := q.Int64()
	if !ok || i < 0 || i >= int64(len(s.Bitrates)) {
		return 0, neterr.Errorf(neterr.KindScript, r.op, "", "segment %d: abr function %s returned quality %s: want 0 to %d (an index into the %d bitrates)", s.Segment, r.fn.Name(), q, len(s.Bitrates)-1, len(s.Bitrates))
	}
	return int(i), nil
}
