package lang_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
)

// TestPythonFormat checks str.format, format(), %, and the list methods against what Python 3
// printed for the same expressions (testdata/pycompat_golden.json).
func TestPythonCompat(t *testing.T) {
	golden, err := os.ReadFile("testdata/pycompat_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][2]string
	if err := json.Unmarshal(golden, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("only %d cases: the golden file is broken", len(cases))
	}
	var src strings.Builder
	for _, c := range cases {
		src.WriteString("print(repr(" + c[0] + "))\n")
	}
	out := startest.MustRun(t, src.String())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("got %d lines for %d cases", len(lines), len(cases))
	}
	for i, c := range cases {
		var got string
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Errorf("%s: cannot read %s: %v", c[0], lines[i], err)
			continue
		}
		if got != c[1] {
			t.Errorf("%s = %q, Python says %q", c[0], got, c[1])
		}
	}
}

// TestPythonCompatGolden regenerates the golden table with python3, so it
// cannot drift from Python.
func TestPythonCompatGolden(t *testing.T) {
	py := peertest.Need(t, "python3")
	out, err := exec.Command(py, "testdata/pycompat.py").Output()
	if err != nil {
		t.Fatal(err)
	}
	golden, _ := os.ReadFile("testdata/pycompat_golden.json")
	if strings.TrimSpace(string(out)) != strings.TrimSpace(string(golden)) {
		t.Fatal("testdata/pycompat_golden.json is stale: run `python3 testdata/pycompat.py > testdata/pycompat_golden.json` in lang/")
	}
}

// TestFormatErrors: what Python rejects fails with a message naming the problem.
func TestFormatErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`"%d %d" % (1,)`, "not enough arguments"},
		{`"%d" % (1, 2)`, "not all arguments converted"},
		{`"%d" % "x"`, "a number is required, not string"},
		{`"{:.2f}".format("x")`, "unknown format code 'f'"},
		{`"{}{}".format(1)`, "only 1 positional arguments"},
		{`"{:d}".format(1.5)`, "unknown format code 'd' for a value of type float"},
		{`"{".format()`, "expected '}'"},
		{`format(1, ",x")`, "cannot specify ','"},
		{`fmt = "%.2f"
fmt % 1.5`, `use "{:.2f}".format(x)`},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			r := startest.Run(t, c.src, nil)
			if r.Err == nil {
				t.Fatalf("no error")
			}
			if msg := lang.FormatError(r.Err); !strings.Contains(msg, c.want) {
				t.Fatalf("error %q lacks %q", msg, c.want)
			}
		})
	}
}

// TestCodecs checks str.encode and bytes.decode, whose usual calls (no
// arguments, valid UTF-8) take a fast path.
func TestCodecs(t *testing.T) {
	out := startest.MustRun(t, `
print(repr("héllo".encode()), repr(b"h\xc3\xa9llo".decode()))
print(repr("abc".encode("utf-8")), repr(b"abc".decode(encoding="ascii")))
print(repr(b"a\xffb".decode()), repr("".encode()), repr(b"".decode()))
print(catch(lambda: "x".encode("latin-1")).error.message)
print(catch(lambda: b"x".decode("utf-8", "strict", 3)).ok)
`)
	want := `b"héllo" "héllo"
b"abc" "abc"
"a�b" b"" ""
encode: encoding "latin-1" not supported: strings are UTF-8
False
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
