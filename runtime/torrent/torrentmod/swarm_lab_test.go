package torrentmod_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
)

// runScript runs scripts/<name> with args as a user would (within five
// minutes) and returns what it printed; a failing script fails the test.
func runScript(t *testing.T, name string, args ...string) string {
	t.Helper()
	r := startest.RunArgs(t, append([]string{name}, args...), 5*time.Minute, startest.Script(t, name))
	if r.Err != nil {
		t.Fatalf("%s\n%s%s", lang.FormatError(r.Err), r.Stdout, r.Stderr)
	}
	return r.Stdout
}

var fluidRE = regexp.MustCompile(`lab time ([0-9.]+) s, fluid model ([0-9.]+) s`)

// The P2P fluid bound: a swarm-shaped load (a server, N peers with their own
// upload and download rates, every peer relaying to every other) finishes
// on the lab network within 3% of the fluid model's time, so a torrent's
// distance from the bound is the protocol's, not the lab's. The load is a
// script (scripts/lab_swarm_fluid.star), so this is a test of the bindings
// the torrent module stands on rather than of the lab engine.
func TestSwarmMeetsTheFluidBound(t *testing.T) {
	for _, c := range []struct{ peers, mb string }{{"10", "1"}, {"30", "1"}} {
		t.Run(c.peers+" peers", func(t *testing.T) {
			if c.peers == "30" && testing.Short() {
				t.Skip("870 connections")
			}
			out := runScript(t, "lab_swarm_fluid.star", c.peers, c.mb)
			m := fluidRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no result in:\n%s", out)
			}
			got, _ := strconv.ParseFloat(m[1], 64)
			fluid, _ := strconv.ParseFloat(m[2], 64)
			if e := (got - fluid) / fluid; e < 0 || e > 0.03 {
				t.Errorf("lab time %.4f s, fluid model %.4f s: %+.2f%%, want within 3%% above", got, fluid, 100*e)
			}
			t.Log(out)
		})
	}
}

// A swarm repeats exactly: peers' readers, writers, chokers, announcers
// and the script's tasks waiting for them, woken at one lab instant, run
// in the same order whatever the Go scheduler does, so the churn
// experiment prints the same times at any GOMAXPROCS, beside a CPU-burning
// process, and under the race detector, which shuffles the scheduler's
// choices on purpose.
func TestSwarmIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two swarms eight times")
	}
	out := startest.Everywhere(t, []string{"torrent_churn.star"}, 5*time.Minute, startest.Script(t, "torrent_churn.star"))
	if !strings.Contains(out, "last peer:") {
		t.Errorf("unexpected output:\n%s", out)
	}
}
