package lab

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// arrivals sends count datagrams of 972 bytes (1000 on the wire) from a to
// b at lab time 0 and returns when each arrived, calling at(t) changes
// first.
func arrivals(t *testing.T, n *Network, a, b *Host, count int, changes map[time.Duration]func()) []time.Duration {
	t.Helper()
	pa, pb := udpPair(t, a, b)
	start := n.Elapsed()
	for at, f := range changes {
		n.AfterFunc(at, f)
	}
	for i := 0; i < count; i++ {
		pa.WriteTo(make([]byte, 972), pb.LocalAddr())
	}
	var got []time.Duration
	buf := make([]byte, 2000)
	for i := 0; i < count; i++ {
		if _, _, err := pb.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
		got = append(got, n.Elapsed()-start)
	}
	return got
}

func rate(r float64) *float64 { return &r }

func TestLinkChanges(t *testing.T) {
	ms := time.Millisecond
	t.Run("each direction has its own rate", func(t *testing.T) {
		n, a, b, _ := pair(t, LinkConfig{Rate: 1e6, RateBA: 4e6, Delay: 10 * ms, Queue: -1})
		near(t, "a to b", arrivals(t, n, a, b, 1, nil)[0], 18*ms, 0)
		near(t, "b to a", arrivals(t, n, b, a, 1, nil)[0], 12*ms, 0)
	})
	t.Run("a faster rate finishes the packet on the wire sooner", func(t *testing.T) {
		n, a, b, l := pair(t, LinkConfig{Rate: 1e6, Delay: 10 * ms, Queue: -1})
		// 8000 bits at 1 Mbps: 4000 sent by 4 ms, the rest at 2 Mbps in 2 ms;
		// the second packet then takes 4 ms.
		got := arrivals(t, n, a, b, 2, map[time.Duration]func(){
			4 * ms: func() { l.Set(LinkChange{RateAB: rate(2e6)}) },
		})
		near(t, "first", got[0], 16*ms, 0)
		near(t, "second", got[1], 20*ms, 0)
		ab, _, _, _ := l.Stats()
		near(t, "busy", ab.Busy, 10*ms, 0)
	})
	t.Run("rate 0 holds packets until the link is back", func(t *testing.T) {
		n, a, b, l := pair(t, LinkConfig{Rate: 1e6, Delay: 10 * ms, Queue: -1})
		got := arrivals(t, n, a, b, 2, map[time.Duration]func(){
			4 * ms:  func() { l.Set(LinkChange{RateAB: rate(0)}) },
			20 * ms: func() { l.Set(LinkChange{RateAB: rate(1e6)}) },
		})
		near(t, "first", got[0], 34*ms, 0)
		near(t, "second", got[1], 42*ms, 0)
	})
	t.Run("delay, loss and queue", func(t *testing.T) {
		n, a, b, l := pair(t, LinkConfig{Rate: 1e6, Delay: 10 * ms, Queue: -1})
		d := 30 * ms
		l.Set(LinkChange{Delay: &d})
		near(t, "new delay", arrivals(t, n, a, b, 1, nil)[0], 38*ms, 0)
		if c := l.Config(); c.Delay != d || c.Rate != 1e6 || c.RateBA != 1e6 {
			t.Errorf("config %+v", c)
		}
		if err := l.Set(LinkChange{Loss: rate(1)}); err == nil {
			t.Error("loss 1 accepted")
		}
	})
	t.Run("a trace replays steps", func(t *testing.T) {
		n, a, b, l := pair(t, LinkConfig{Rate: 1e9, Delay: 0, Queue: -1})
		// 2 ms at 1 Mbps (2000 bits of the first packet), 3 ms out, then
		// 4 Mbps: the remaining 6000 bits take 1.5 ms.
		if err := l.Trace([]Step{{Dur: 2 * ms, Rate: 1e6}, {Dur: 3 * ms, Rate: 0}, {Dur: 10 * ms, Rate: 4e6}}, false, AToB); err != nil {
			t.Fatal(err)
		}
		got := arrivals(t, n, a, b, 2, nil)
		near(t, "first", got[0], 6500*time.Microsecond, 0)
		near(t, "second", got[1], 8500*time.Microsecond, 0)
		near(t, "other direction untouched", arrivals(t, n, b, a, 1, nil)[0], 8*time.Microsecond, 0)
		// After the last step the link keeps its last rate.
		n.Sleep(context.Background(), time.Second)
		if c := l.Config(); c.Rate != 4e6 || c.RateBA != 1e9 {
			t.Errorf("after the trace: %+v", c)
		}
	})
	t.Run("a looping trace starts again", func(t *testing.T) {
		n, _, _, l := pair(t, LinkConfig{Rate: 1e6, Queue: -1})
		l.Trace([]Step{{Dur: time.Second, Rate: 1e6}, {Dur: time.Second, Rate: 2e6}}, true, Both)
		for i, want := range []float64{1e6, 2e6, 1e6, 2e6} {
			if c := l.Config(); c.Rate != want || c.RateBA != want {
				t.Errorf("second %d: rate %g, want %g", i, c.Rate, want)
			}
			n.Sleep(context.Background(), time.Second)
		}
		l.Set(LinkChange{RateAB: rate(5e6), RateBA: rate(5e6)})
		n.Sleep(context.Background(), 3*time.Second)
		if c := l.Config(); c.Rate != 5e6 {
			t.Errorf("set did not stop the trace: %+v", c)
		}
	})
	t.Run("bad traces", func(t *testing.T) {
		_, _, _, l := pair(t, LinkConfig{Rate: 1e6, Queue: -1})
		for _, steps := range [][]Step{nil, {{Dur: 0, Rate: 1}}, {{Dur: ms, Rate: -1}}} {
			if err := l.Trace(steps, true, Both); err == nil {
				t.Errorf("trace %v accepted", steps)
			}
		}
	})
}

func TestParseTrace(t *testing.T) {
	s := time.Second
	cases := []struct {
		name, in string
		bin      time.Duration
		want     []Step
	}{
		{"sabre", `[{"duration_ms": 5000, "bandwidth_kbps": 1363, "latency_ms": 20},
		            {"duration_ms": 2500, "bandwidth_kbps": 800}]`, 0,
			[]Step{{Dur: 5 * s, Rate: 1363e3, Delay: 20 * time.Millisecond, HasDelay: true}, {Dur: 2500 * time.Millisecond, Rate: 800e3}}},
		{"pensieve", "0.0 1.5\n1.0 2.0\n2.5 0.5\n", 0,
			[]Step{{Dur: s, Rate: 2e6}, {Dur: 1500 * time.Millisecond, Rate: 0.5e6}}},
		// 10 opportunities in the first 100 ms (1.2 Mbps), none in the
		// second, 5 in the last 50 ms (1.2 Mbps).
		{"mahimahi", strings.Repeat("10\n", 10) + strings.Repeat("250\n", 5), 100 * time.Millisecond,
			[]Step{{Dur: 100 * time.Millisecond, Rate: 1.2e6}, {Dur: 100 * time.Millisecond, Rate: 0}, {Dur: 50 * time.Millisecond, Rate: 1.2e6}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTrace([]byte(c.in), c.bin)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("step %d: %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
	bad := map[string]string{
		"empty":                  "",
		"sabre negative":         `[{"duration_ms": -5, "bandwidth_kbps": 1}]`,
		"sabre zero duration":    `[{"duration_ms": 0, "bandwidth_kbps": 1}]`,
		"sabre missing field":    `[{"duration_ms": 5}]`,
		"pensieve backwards":     "1 2\n0.5 3\n",
		"pensieve text":          "1 x\n",
		"mahimahi backwards":     "5\n3\n",
		"mahimahi only zero":     "0\n",
		"three columns":          "1 2 3\n",
		"mixed mahimahi columns": "1\n2 3\n",
	}
	for name, in := range bad {
		t.Run("rejects "+name, func(t *testing.T) {
			if steps, err := ParseTrace([]byte(in), 100*time.Millisecond); err == nil {
				t.Errorf("accepted: %+v", steps)
			}
		})
	}
	t.Run("sabre's own traces", func(t *testing.T) {
		data, err := os.ReadFile("testdata/sabre_trace0000.json")
		if err != nil {
			t.Fatal(err)
		}
		steps, err := ParseTrace(data, 0)
		if err != nil || len(steps) == 0 || steps[0] != (Step{Dur: 5 * s, Rate: 1363e3, Delay: 20 * time.Millisecond, HasDelay: true}) {
			t.Fatalf("%v %+v", err, steps[:1])
		}
	})
}

func FuzzParseTrace(f *testing.F) {
	f.Add([]byte(`[{"duration_ms": 5000, "bandwidth_kbps": 1363, "latency_ms": 20}]`))
	f.Add([]byte("0.0 1.5\n1.0 2.0\n"))
	f.Add([]byte("1\n1\n5\n900\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		steps, err := ParseTrace(data, 10*time.Millisecond)
		if err != nil {
			return
		}
		for i, s := range steps {
			if s.Dur <= 0 || s.Rate < 0 {
				t.Fatalf("step %d: %+v", i, s)
			}
		}
	})
}
