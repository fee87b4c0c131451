package lang

import (
	"testing"
	"time"

	"go.starlark.net/starlark"
)

func TestDuration(t *testing.T) {
	cases := []struct {
		name string
		in   starlark.Value
		want time.Duration
	}{
		{"int seconds", starlark.MakeInt(2), 2 * time.Second},
		{"float seconds", starlark.Float(0.5), 500 * time.Millisecond},
		{"milliseconds", starlark.String("50ms"), 50 * time.Millisecond},
		{"seconds with unit", starlark.String("1.5s"), 1500 * time.Millisecond},
		{"numeric string", starlark.String("3"), 3 * time.Second},
		{"spaces", starlark.String(" 20 ms "), 20 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Duration(c.in)
			if err != nil || got != c.want {
				t.Fatalf("Duration(%s) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
	for _, bad := range []starlark.Value{starlark.String("soon"), starlark.MakeInt(-1), starlark.String("-2s"), starlark.None} {
		if _, err := Duration(bad); err == nil {
			t.Errorf("Duration(%s) succeeded, want an error", bad)
		}
	}
}

func TestRate(t *testing.T) {
	cases := []struct {
		in   string
		want float64
	}{
		{"1.54Mbps", 1.54e6},
		{"100Kbps", 1e5},
		{"1Gbps", 1e9},
		{"15bps", 15},
		{"2MB/s", 16e6},
		{"154 Mbps", 154e6},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := Rate(starlark.String(c.in))
			if err != nil || got != c.want {
				t.Fatalf("Rate(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
	for _, bad := range []string{"fast", "10 furlongs", "0Mbps", ""} {
		if _, err := Rate(starlark.String(bad)); err == nil {
			t.Errorf("Rate(%q) succeeded, want an error", bad)
		}
	}
}

func TestSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{
		{"256KiB", 256 * 1024},
		{"1.5MB", 1500000},
		{"100Kbit", 12500},
		{"1GiB", 1 << 30},
		{"42", 42},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := Size(starlark.String(c.in))
			if err != nil || got != c.want {
				t.Fatalf("Size(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
}

func FuzzUnits(f *testing.F) {
	for _, s := range []string{"50ms", "1.54Mbps", "256KiB", "1e9", "--1", "9999999999999999999s", "1.5.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := starlark.String(s)
		if d, err := Duration(v); err == nil && d < 0 {
			t.Errorf("Duration(%q) = %v, negative", s, d)
		}
		if r, err := Rate(v); err == nil && r <= 0 {
			t.Errorf("Rate(%q) = %v, not positive", s, r)
		}
		if n, err := Size(v); err == nil && n < 0 {
			t.Errorf("Size(%q) = %v, negative", s, n)
		}
	})
}
