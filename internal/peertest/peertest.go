// Package peertest finds the real peer tools that interoperability tests
// talk to (dig, curl, swaks, python3 …), applying the project's rule in one
// place: in CI (CI set) a missing tool fails the test; elsewhere it skips it
// with a message.
package peertest

import (
	"os"
	"os/exec"
	"testing"
)

// Need returns the path of tool, or ends the test: failed in CI, skipped
// elsewhere.
func Need(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed for this test and is not installed (.ci/run installs it)", tool)
		}
		t.Skipf("%s not installed", tool)
	}
	return p
}
