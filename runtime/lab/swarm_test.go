package lab_test

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
)

var fluidRE = regexp.MustCompile(`lab time ([0-9.]+) s, fluid model ([0-9.]+) s`)

// The P2P fluid bound: a swarm-shaped load (a server, N peers with their own
// upload and download rates, every peer relaying to every other) finishes
// within 3% of the fluid model's time, so a torrent's distance from the
// bound is the protocol's.
func TestSwarmMeetsTheFluidBound(t *testing.T) {
	src, err := os.ReadFile("../../scripts/lab_swarm_fluid.star")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ peers, mb string }{{"10", "1"}, {"30", "1"}} {
		t.Run(c.peers+" peers", func(t *testing.T) {
			if c.peers == "30" && testing.Short() {
				t.Skip("870 connections")
			}
			var out, errb bytes.Buffer
			argv := []string{"lab_swarm_fluid.star", c.peers, c.mb}
			in := lang.New(lang.Options{Stdout: &out, Stderr: &errb, Argv: argv, Timeout: 5 * time.Minute,
				Predeclared: modules.Universe(modules.Env{Argv: argv})})
			_, err := in.ExecFile("lab_swarm_fluid.star", src)
			in.Close()
			if err != nil {
				t.Fatalf("%s\n%s%s", lang.FormatError(err), out.String(), errb.String())
			}
			m := fluidRE.FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no result in:\n%s", out.String())
			}
			got, _ := strconv.ParseFloat(m[1], 64)
			fluid, _ := strconv.ParseFloat(m[2], 64)
			if e := (got - fluid) / fluid; e < 0 || e > 0.03 {
				t.Errorf("lab time %.4f s, fluid model %.4f s: %+.2f%%, want within 3%% above", got, fluid, 100*e)
			}
			t.Log(out.String())
		})
	}
}
