package labmod_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

var kaminskyRE = regexp.MustCompile(`(?m)^(one fixed source port|random source ports)\s+poisoned (\d+) of (\d+) attacks \(([0-9.]+), formula ([0-9.]+):`)

func TestKaminskyExperiment(t *testing.T) {
	if testing.Short() || raceOn {
		// Tens of thousands of forged replies; TestEveryScript runs the
		// script too, and the mechanism is tested above.
		t.Skip("runs tens of thousands of forged replies")
	}
	// Seconds when the machine is idle, a minute when it is loaded.
	out := runScript(t, "lab_kaminsky.star", 5*time.Minute)
	rows := kaminskyRE.FindAllStringSubmatch(out, -1)
	if len(rows) != 2 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if fixed, _ := strconv.Atoi(rows[0][2]); fixed == 0 {
		t.Errorf("no attack succeeded against a fixed source port:\n%s", out)
	}
	if random, _ := strconv.Atoi(rows[1][2]); random != 0 {
		t.Errorf("an attack succeeded against random source ports:\n%s", out)
	}
}
