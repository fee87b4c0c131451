// Package bench_test keeps the side-by-side benchmarks working: each runs
// once in a tiny configuration and must print its comparison. The numbers
// themselves are not checked (no test asserts a time); run the programs with
// their defaults to measure.
package bench_test

import (
	"context"
	"github.com/netplay-dev/netplay/internal/peertest"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestBenchmarksRun(t *testing.T) {
	cases := []struct {
		name string
		tool string // the real peer the benchmark drives
		args []string
		want []string
	}{
		{"socket", "python3", []string{"-n", "200", "-starts", "2"}, []string{"UDP", "TCP", "start-up"}},
		{"http", "wrk", []string{"-d", "1s", "-c", "4"}, []string{"netplay / python:", "netplay / bare Go:"}},
		{"dns", "dnsperf", []string{"-l", "1", "-c", "2"}, []string{"zone / bare:", "Starlark handler / bare:"}},
		{"smtp", "", []string{"-workers", "2", "-per", "20", "-rounds", "1"}, []string{"ratio netplay/bare:"}},
		{"lab", "", []string{"-mb", "1", "-hosts", "3", "-each", "1", "-peers", "3", "-swarm-mb", "1"}, []string{"segments/s", "lab s/real s", "fluid model"}},
		// -old git:REV builds a revision from the repository's history.
		{"lab", "git", []string{"-mb", "1", "-hosts", "3", "-each", "1", "-peers", "3", "-swarm-mb", "1", "-runs", "1", "-old", "git:HEAD"},
			[]string{"old binary:", "speed-up this/old:", "most a whole run could gain", "old binary without the lab:"}},
		{"torrent", "go", []string{"-size", "1048576", "-rounds", "1"}, []string{"netplay / anacrolix:"}},
		{"grade", "", []string{"-n", "4", "-j", "2"}, []string{"netplay grade -j 2:", "shell loop of netplay test:", "/ shell loop:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.tool != "" {
				peertest.Need(t, c.tool)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "go", append([]string{"run", "./" + c.name}, c.args...)...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go run ./bench/%s: %v\n%s", c.name, err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
