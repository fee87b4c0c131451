package dashmod_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/netplay-dev/netplay/grade"
)

// copyDir copies the files of src (not its folders) into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dst, 0o755)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStarlark runs the test_* functions of testdata/*_test.star — the
// module used the way scripts use it — in a scratch folder holding them
// and Sabre's example data (sabre/), where the tests may write files.
func TestStarlark(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata", dir)
	copyDir(t, "../../../scripts/data/sabre", filepath.Join(dir, "sabre"))
	files, err := grade.Find([]string{dir})
	if err != nil || len(files) == 0 {
		t.Fatalf("no tests found: %v", err)
	}
	var out bytes.Buffer
	sum := grade.Run(files, grade.Options{Stdout: &out, Stderr: &out})
	t.Log(out.String())
	if sum.Failed > 0 || sum.Passed == 0 {
		t.Fatalf("%d failed, %d passed", sum.Failed, sum.Passed)
	}
}
