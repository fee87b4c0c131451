package labmod

import (
	"fmt"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/lab"
	"go.starlark.net/starlark"
)

// Starlark side of per-direction rates, live link changes and traces.

// linkRates reads rate=: one rate for both directions, or a pair
// (a_to_b, b_to_a). zero says whether 0 (an outage) is allowed.
func linkRates(fn string, v starlark.Value, zero bool) (ab, ba float64, err error) {
	if t, ok := v.(starlark.Tuple); ok {
		if len(t) != 2 {
			return 0, 0, fmt.Errorf("%s: for parameter rate: want one rate or a pair (a_to_b, b_to_a), got a tuple of %d", fn, len(t))
		}
		if ab, err = oneRate(t[0], zero); err == nil {
			ba, err = oneRate(t[1], zero)
		}
	} else {
		ab, err = oneRate(v, zero)
		ba = ab
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%s: for parameter rate: %v", fn, err)
	}
	return ab, ba, nil
}

func oneRate(v starlark.Value, zero bool) (float64, error) {
	if zero {
		if f, ok := starlark.AsFloat(v); ok && f <= 0 {
			if f < 0 {
				return 0, fmt.Errorf("invalid rate %s: must be >= 0", v)
			}
			return 0, nil
		}
		if s, ok := v.(starlark.String); ok && (s == "0" || s == "0bps") {
			return 0, nil
		}
	}
	return lang.Rate(v)
}

func linkSet(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	lv, _ := lang.Receiver[*linkValue](b)
	var rateV, delayV, lossV, queueV starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "rate?", &rateV, "delay?", &delayV, "loss?", &lossV, "queue?", &queueV); err != nil {
		return nil, err
	}
	var c lab.LinkChange
	if rateV != nil {
		ab, ba, err := linkRates(b.Name(), rateV, true)
		if err != nil {
			return nil, err
		}
		c.RateAB, c.RateBA = &ab, &ba
	}
	if delayV != nil {
		d, err := lang.Duration(delayV)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter delay: %v", b.Name(), err)
		}
		c.Delay = &d
	}
	if lossV != nil {
		f, ok := starlark.AsFloat(lossV)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter loss: got %s, want a probability", b.Name(), lossV.Type())
		}
		c.Loss = &f
	}
	if queueV != nil {
		q, err := queueArg(b.Name(), queueV)
		if err != nil {
			return nil, err
		}
		c.Queue = &q
	}
	if err := lv.l.Set(c); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

func queueArg(fn string, v starlark.Value) (int, error) {
	if v == starlark.None {
		return -1, nil
	}
	q := -1
	if err := starlark.AsInt(v, &q); err != nil || q < 0 {
		return 0, fmt.Errorf("%s: for parameter queue: got %s, want a number of packets >= 0 or None", fn, v.String())
	}
	return q, nil
}

func linkTrace(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	lv, _ := lang.Receiver[*linkValue](b)
	var stepsV starlark.Iterable
	loop := false
	var dirV starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "steps", &stepsV, "loop?", &loop, "direction?", &dirV); err != nil {
		return nil, err
	}
	steps, err := stepsArg(b.Name(), stepsV)
	if err != nil {
		return nil, err
	}
	which := lab.Both
	switch dirV {
	case starlark.None:
	case starlark.String("a_to_b"):
		which = lab.AToB
	case starlark.String("b_to_a"):
		which = lab.BToA
	default:
		return nil, fmt.Errorf("%s: for parameter direction: got %s, want \"a_to_b\", \"b_to_a\" or None (both)", b.Name(), dirV.String())
	}
	if err := lv.l.Trace(steps, loop, which); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

// stepsArg reads [(seconds, rate), ...] or [(seconds, rate, delay), ...].
func stepsArg(fn string, v starlark.Iterable) ([]lab.Step, error) {
	var steps []lab.Step
	it := v.Iterate()
	defer it.Done()
	var x starlark.Value
	for i := 0; it.Next(&x); i++ {
		t, ok := x.(starlark.Indexable)
		if !ok || t.Len() < 2 || t.Len() > 3 {
			return nil, fmt.Errorf("%s: step %d: got %s, want (seconds, rate) or (seconds, rate, delay)", fn, i, x.String())
		}
		dur, err := lang.Duration(t.Index(0))
		if err != nil {
			return nil, fmt.Errorf("%s: step %d: seconds: %v", fn, i, err)
		}
		if dur <= 0 {
			return nil, fmt.Errorf("%s: step %d: seconds must be positive, got %s", fn, i, t.Index(0).String())
		}
		rate, err := oneRate(t.Index(1), true)
		if err != nil {
			return nil, fmt.Errorf("%s: step %d: rate: %v", fn, i, err)
		}
		s := lab.Step{Dur: dur, Rate: rate}
		if t.Len() == 3 {
			if s.Delay, err = lang.Duration(t.Index(2)); err != nil {
				return nil, fmt.Errorf("%s: step %d: delay: %v", fn, i, err)
			}
			s.HasDelay = true
		}
		steps = append(steps, s)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s: for parameter steps: want at least one (seconds, rate) step", fn)
	}
	return steps, nil
}

var loadTraceBuiltin = lang.Func("lab.load_trace", `load_trace(path, bin="100ms", latency=False) -> list

Reads a bandwidth trace file into steps for link.trace: a list of
(seconds, bits_per_second) tuples, each rate holding for its seconds. The
format is recognised from the content:
- Sabre's JSON, [{"duration_ms": 5000, "bandwidth_kbps": 1363,
  "latency_ms": 20}, ...]; with latency=True each step is
  (seconds, bits_per_second, delay_seconds), and link.trace sets the
  link's delay too.
- Pensieve's text, "seconds Mbps" per line: each line's bandwidth holds
  from the previous line's time to its own.
- Mahimahi's, one millisecond timestamp per line, each a chance to deliver
  one 1500-byte packet; opportunities are counted over bins of bin, so a
  bin with 10 of them in 100 ms is 1.2 Mbps.

    steps = lab.load_trace("trace.json")
    print(steps[0])                       # (5.0, 1363000.0)
    link.trace(steps, direction="b_to_a")`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	var binV starlark.Value = starlark.String("100ms")
	latency := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "bin?", &binV, "latency?", &latency); err != nil {
		return nil, err
	}
	bin, err := lang.Duration(binV)
	if err != nil || bin <= 0 {
		return nil, fmt.Errorf("%s: for parameter bin: want a positive duration such as \"100ms\"", b.Name())
	}
	data, err := lang.ReadFile(th, b.Name(), path)
	if err != nil {
		return nil, err
	}
	steps, err := lab.ParseTrace(data, bin)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", b.Name(), path, err)
	}
	out := make([]starlark.Value, len(steps))
	for i, s := range steps {
		t := starlark.Tuple{starlark.Float(s.Dur.Seconds()), starlark.Float(s.Rate)}
		if latency && s.HasDelay {
			t = append(t, starlark.Float(s.Delay.Seconds()))
		}
		out[i] = t
	}
	return starlark.NewList(out), nil
})

// rateValue is a link's rate as a script sees it: one number, or a pair
// when the directions differ.
func rateValue(c lab.LinkConfig) starlark.Value {
	if c.Rate == c.RateBA {
		return starlark.Float(c.Rate)
	}
	return starlark.Tuple{starlark.Float(c.Rate), starlark.Float(c.RateBA)}
}
