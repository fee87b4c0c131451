package labmod_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// noOS is the real stack's clock with every network call refused loudly:
// a lab script must never reach the operating system's network.
type noOS struct{ stack.Stack }

func (noOS) Dial(context.Context, string, string) (net.Conn, error) {
	panic("lab script dialled through the OS stack")
}
func (noOS) Listen(context.Context, string, string) (net.Listener, error) {
	panic("lab script listened on the OS stack")
}
func (noOS) ListenPacket(context.Context, string, string) (net.PacketConn, error) {
	panic("lab script opened a datagram socket on the OS stack")
}
func (noOS) LookupHost(context.Context, string) ([]netip.Addr, error) {
	panic("lab script resolved a name through the OS stack")
}

// sockets counts the process's open sockets.
func sockets(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// runScript runs a script of scripts/ on noOS instead of the OS stack,
// within timeout, checking that the number of open sockets never changes
// meanwhile.
func runScript(t *testing.T, name string, timeout time.Duration) string {
	t.Helper()
	src := startest.Script(t, name)
	before := sockets(t)
	stop := make(chan struct{})
	changed := make(chan int, 1)
	go func() {
		// Every millisecond, not in a tight loop: a goroutine burning a
		// processor beside the lab slows its clock, which runs the process
		// on one processor (runtime/lab/procs.go).
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				close(changed)
				return
			case <-tick.C:
			}
			if n := sockets(t); n != before {
				select {
				case changed <- n:
				default:
				}
			}
		}
	}()
	r := startest.RunOn(t, noOS{stack.OS}, timeout, src, nil)
	close(stop)
	if n, ok := <-changed; ok {
		t.Errorf("%s: the process had %d open sockets during the run, %d before", name, n, before)
	}
	if r.Err != nil {
		t.Fatalf("%s failed: %s\n%s%s", name, lang.FormatError(r.Err), r.Stdout, r.Stderr)
	}
	return r.Stdout
}

var rowRE = regexp.MustCompile(`(?m)^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([-+][0-9.]+)%$`)

func TestPageLoadExperiment(t *testing.T) {
	out := runScript(t, "lab_page_load.star", startest.Timeout)
	rows := rowRE.FindAllStringSubmatch(out, -1)
	if len(rows) != 48 {
		t.Fatalf("found %d result rows, want 48:\n%s", len(rows), out)
	}
	for _, r := range rows {
		m, _ := strconv.ParseFloat(r[6], 64)
		f, _ := strconv.ParseFloat(r[7], 64)
		if e := (m - f) / f; e < -0.05 || e > 0.05 {
			t.Errorf("%s N=%s D=%s C=%s: measured %.4f, formula %.4f (%+.1f%%)", r[1], r[2], r[3], r[4], m, f, 100*e)
		}
		// the course's connection counts: one per object without persistence.
		n, _ := strconv.Atoi(r[2])
		conns, _ := strconv.Atoi(r[5])
		want := 1
		if strings.HasPrefix(r[1], "non-persistent") || strings.HasPrefix(r[1], "parallel") {
			want = n + 1
		}
		if conns != want {
			t.Errorf("%s N=%d: %d connections, want %d", r[1], n, conns, want)
		}
	}
	t.Run("two runs agree", func(t *testing.T) {
		again := runScript(t, "lab_page_load.star", startest.Timeout)
		rows2 := rowRE.FindAllStringSubmatch(again, -1)
		for i := range rows {
			a, _ := strconv.ParseFloat(rows[i][6], 64)
			b, _ := strconv.ParseFloat(rows2[i][6], 64)
			if d := (a - b) / a; d < -0.02 || d > 0.02 {
				t.Errorf("row %d: %.4f then %.4f", i, a, b)
			}
		}
	})
}

func num(t *testing.T, out, re string) float64 {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no match for %q in:\n%s", re, out)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	return f
}

func TestInstitutionalCacheExperiment(t *testing.T) {
	out := runScript(t, "lab_institutional_cache.star", startest.Timeout)
	parts := strings.Split(out, "access-link utilisation")
	if len(parts) != 4 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	within := func(what string, got, want, tol float64) {
		t.Helper()
		if e := (got - want) / want; e < -tol || e > tol {
			t.Errorf("%s = %.4f, want %.4f ±%.0f%%", what, got, want, 100*tol)
		}
	}
	within("utilisation without a cache", num(t, parts[1], `measured ([0-9.]+)`), 0.974, 0.05)
	within("utilisation with a 154 Mbps link", num(t, parts[2], `measured ([0-9.]+)`), 0.0097, 0.05)
	within("utilisation with a cache", num(t, parts[3], `measured ([0-9.]+)`), 0.58, 0.05)
	first := num(t, parts[1], `first third ([0-9.]+)s`)
	last := num(t, parts[1], `last third ([0-9.]+)s`)
	if last < first+0.3 {
		t.Errorf("without a cache the delay should grow: first third %.2fs, last third %.2fs", first, last)
	}
	within("delay with a 154 Mbps link", num(t, parts[2], `average delay\s+measured ([0-9.]+)s`), 2.0, 0.05)
	within("delay with a cache", num(t, parts[3], `average delay\s+measured ([0-9.]+)s`), 1.2, 0.05)
	within("hit rate", num(t, out, `hit rate\s+measured ([0-9.]+)`), 0.4, 0.01)
}

var dnsRowRE = regexp.MustCompile(`(?m)^(.+?)\s+([0-9.]+) ms   formula ([0-9.]+) ms \(\S+\)   queries (\d+) \(formula (\d+)\)$`)

func TestDNSExperiment(t *testing.T) {
	out := runScript(t, "lab_dns.star", startest.Timeout)
	rows := dnsRowRE.FindAllStringSubmatch(out, -1)
	if len(rows) != 4 {
		t.Fatalf("found %d rows, want 4:\n%s", len(rows), out)
	}
	for _, r := range rows {
		m, _ := strconv.ParseFloat(r[2], 64)
		f, _ := strconv.ParseFloat(r[3], 64)
		if e := (m - f) / f; e < -0.05 || e > 0.05 {
			t.Errorf("%s: %.2f ms, formula %.2f ms", r[1], m, f)
		}
		if r[4] != r[5] {
			t.Errorf("%s: %s queries, formula %s", r[1], r[4], r[5])
		}
	}
	// The recursive chain is real: each server was asked by the one above.
	for _, want := range []string{"root's log: query from 10.0.0.3:", "(local)", "tld's log: query from 10.0.0.5:", "(root)", "auth's log: query from 10.0.0.6:", "(tld)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Reno flows through one bottleneck converge to equal shares: Jain's index
// of two and then four flows at least 0.95, the link nearly full.
func TestRenoFairnessExperiment(t *testing.T) {
	// 6 s alone; a minute or more under -race beside the whole suite.
	out := runScript(t, "lab_reno_fairness.star", 5*time.Minute)
	m := regexp.MustCompile(`JAIN ([0-9.]+) ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no JAIN line in:\n%s", out)
	}
	for i, flows := range []string{"2", "4"} {
		if j, _ := strconv.ParseFloat(m[i+1], 64); j < 0.95 {
			t.Errorf("%s flows: Jain's index %.4f, want >= 0.95\n%s", flows, j, out)
		}
		total := num(t, out, flows+` flows, [0-9.-]+ s: .* total ([0-9.]+)`)
		if total < 9 || total > 10 {
			t.Errorf("%s flows carried %.2f Mbps through a 10 Mbps bottleneck\n%s", flows, total, out)
		}
	}
}
