package dashmod_test

import (
	"bytes"
	"path/filepath"
	"testing"

	nptesting "github.com/netplay-dev/netplay/stdlib/testing"
)

// TestStarlark runs the test_* functions of testdata/*_test.star: the
// module used the way scripts use it.
func TestStarlark(t *testing.T) {
	files, err := nptesting.Find([]string{"testdata"})
	if err != nil || len(files) == 0 {
		t.Fatalf("no tests found: %v", err)
	}
	data, _ := filepath.Abs("../../../scripts/data")
	var out bytes.Buffer
	sum := nptesting.Run(files, nptesting.Options{Stdout: &out, Stderr: &out, AllowFS: []string{data}})
	t.Log(out.String())
	if sum.Failed > 0 || sum.Passed == 0 {
		t.Fatalf("%d failed, %d passed", sum.Failed, sum.Passed)
	}
}
