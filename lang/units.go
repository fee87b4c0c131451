package lang

import (
	"fmt"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.starlark.net/starlark"
)

// Durations, rates and sizes are accepted as plain numbers (seconds, bits per
// second, bytes) or as strings with units: "50ms", "1.54Mbps", "256KiB".
// They are parsed here and nowhere else.

// Duration converts a number of seconds or a string such as "50ms", "2s",
// "1.5m" into a duration.
func Duration(v starlark.Value) (time.Duration, error) {
	switch v := v.(type) {
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(v)
		return secondsToDuration(f)
	case starlark.String:
		s := strings.TrimSpace(string(v))
		s = strings.ReplaceAll(s, " ", "")
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return secondsToDuration(f)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want seconds or a string such as \"50ms\", \"2s\"", string(v))
		}
		if d < 0 {
			return 0, fmt.Errorf("invalid duration %q: negative", string(v))
		}
		return d, nil
	}
	return 0, fmt.Errorf("got %s for a duration, want a number of seconds or a string such as \"50ms\"", v.Type())
}

func secondsToDuration(f float64) (time.Duration, error) {
	if math.IsNaN(f) || f < 0 || f > float64(math.MaxInt64)/1e9 {
		return 0, fmt.Errorf("invalid duration %v seconds", f)
	}
	return time.Duration(f * 1e9), nil
}

var rateUnits = map[string]float64{
	"bps": 1, "bit/s": 1, "b/s": 1,
	"kbps": 1e3, "Kbps": 1e3, "kbit/s": 1e3, "Kbit/s": 1e3,
	"Mbps": 1e6, "mbps": 1e6, "Mbit/s": 1e6,
	"Gbps": 1e9, "gbps": 1e9, "Gbit/s": 1e9,
	"Tbps": 1e12,
	"Bps":  8, "B/s": 8, "KBps": 8e3, "kB/s": 8e3, "KB/s": 8e3, "MBps": 8e6, "MB/s": 8e6, "GBps": 8e9, "GB/s": 8e9,
	"KiB/s": 8 * 1024, "MiB/s": 8 * 1024 * 1024,
}

// Rate converts a number of bits per second or a string such as "1.54Mbps",
// "100Kbps", "1Gbps", "2MB/s" (bytes) into bits per second.
func Rate(v starlark.Value) (float64, error) {
	f, err := withUnit(v, "rate", rateUnits, "bps")
	if err == nil && f <= 0 {
		return 0, fmt.Errorf("invalid rate %s: must be positive", v)
	}
	return f, err
}

var sizeUnits = map[string]float64{
	"B": 1, "b": 1, "byte": 1, "bytes": 1,
	"KB": 1e3, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	"bit": 1.0 / 8, "bits": 1.0 / 8, "Kbit": 1e3 / 8, "kbit": 1e3 / 8, "Mbit": 1e6 / 8, "Gbit": 1e9 / 8,
}

// Size converts a number of bytes or a string such as "256KiB", "1.5MB",
// "100Kbit" into bytes.
func Size(v starlark.Value) (int64, error) {
	f, err := withUnit(v, "size", sizeUnits, "B")
	if err != nil {
		return 0, err
	}
	if f < 0 || f > math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %s", v)
	}
	return int64(math.Round(f)), nil
}

func withUnit(v starlark.Value, what string, units map[string]float64, example string) (float64, error) {
	switch v := v.(type) {
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("invalid %s %v", what, f)
		}
		return f, nil
	case starlark.String:
		s := strings.ReplaceAll(strings.TrimSpace(string(v)), " ", "")
		i := strings.IndexFunc(s, func(r rune) bool {
			return !(unicode.IsDigit(r) || r == '.' || r == '+' || r == '-')
		})
		num, unit := s, ""
		if i >= 0 {
			num, unit = s[:i], s[i:]
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid %s %q: want a number followed by a unit such as %q", what, string(v), "1"+example)
		}
		if unit == "" {
			return f, nil
		}
		m, ok := units[unit]
		if !ok {
			return 0, fmt.Errorf("invalid %s %q: unknown unit %q", what, string(v), unit)
		}
		return f * m, nil
	}
	return 0, fmt.Errorf("got %s for a %s, want a number or a string such as %q", v.Type(), what, "10"+example)
}

// FormatDuration is neterr.FormatDuration.
func FormatDuration(d time.Duration) string { return neterr.FormatDuration(d) }
