// Package time is the Starlark module time: go.starlark.net's time module
// (time.now(), durations, parsing and formatting) plus Python's time.time(),
// time.monotonic() and time.sleep(). Inside a lab network every one of them
// follows lab time.
package time

import (
	"fmt"
	"time"

	"github.com/netplay-dev/netplay/lang"
	startime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// Module is the time module.
var Module = newModule()

func newModule() *lang.Module {
	upstream := starlark.StringDict{}
	for name, v := range startime.Module.Members {
		if name != "time" { // replaced by Python's time.time()
			upstream[name] = v
		}
	}
	members, notes := lang.Adopt("time", upstream, upstreamDocs)
	members["time"] = timeTime
	members["monotonic"] = monotonic
	members["sleep"] = lang.Func("time.sleep", `sleep(seconds)

Same as the global sleep(seconds).`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
			return nil, err
		}
		d, err := lang.Duration(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return starlark.None, lang.Sleep(th, d)
	})
	return lang.NewModule("time", `Time: the current time, durations, and Python's time.time() and
time.sleep(). Inside a lab network, lab time.`, members, notes...)
}

var timeTime = lang.Func("time.time", `time() -> float

The current time in seconds since the Unix epoch, as Python's time.time();
the difference of two calls measures an interval.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	now := lang.InterpOf(th).Clock().Now()
	return starlark.Float(float64(now.UnixNano()) / 1e9), nil
})

var monotonic = lang.Func("time.monotonic", `monotonic() -> float

Seconds from an arbitrary start, never going backwards: for measuring
intervals.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	now := lang.InterpOf(th).Clock().Now()
	return starlark.Float(now.Sub(epoch).Seconds()), nil
})

var epoch = time.Unix(0, 0)

// upstreamDocs documents go.starlark.net's own time members.
var upstreamDocs = map[string]string{
	"from_timestamp":    "from_timestamp(sec, nsec=0) -> time\n\nThe time sec seconds (and nsec nanoseconds) after the Unix epoch.",
	"is_valid_timezone": "is_valid_timezone(loc) -> bool\n\nWhether loc is a known time zone name.",
	"now":               "now() -> time\n\nThe current time (lab time inside a lab network).",
	"parse_duration":    "parse_duration(d) -> duration\n\nParses a duration string such as \"1h30m\".",
	"parse_time":        "parse_time(x, format=\"2006-01-02T15:04:05Z07:00\", location=\"UTC\") -> time\n\nParses a time string.",
	"nanosecond":        "nanosecond\n\nA duration of one nanosecond.",
	"microsecond":       "microsecond\n\nA duration of one microsecond.",
	"millisecond":       "millisecond\n\nA duration of one millisecond.",
	"second":            "second\n\nA duration of one second.",
	"minute":            "minute\n\nA duration of one minute.",
	"hour":              "hour\n\nA duration of one hour.",
}
