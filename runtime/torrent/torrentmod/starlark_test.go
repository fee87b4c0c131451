package torrentmod_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/grade"
)

// The module's Starlark tests, as `netplay test testdata` runs them.
func TestStarlark(t *testing.T) {
	files, err := filepath.Glob("testdata/*_test.star")
	if err != nil || len(files) == 0 {
		t.Fatal("no testdata/*_test.star")
	}
	for _, f := range files {
		var out bytes.Buffer
		for _, r := range grade.RunFile(f, grade.Options{Timeout: 120 * time.Second, Stdout: &out, Stderr: &out}) {
			t.Run(r.Func, func(t *testing.T) {
				if r.Status != grade.Passed {
					t.Errorf("%s: %s", r.Status, r.Output())
				}
			})
		}
		if t.Failed() {
			t.Log(out.String())
		}
	}
}
