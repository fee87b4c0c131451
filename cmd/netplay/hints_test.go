package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestPythonHabitHints: each Python habit the parser rejects is followed by
// one line saying what to write instead.
func TestPythonHabitHints(t *testing.T) {
	cases := []struct{ name, src, where, hint string }{
		{"import", "import socket\n", ":1:1:", "hint: netplay has no import"},
		{"from import", "from socket import *\n", ":1:1:", "hint: netplay has no import"},
		{"try", "try:\n    x = 1\nexcept:\n    pass\n", ":1:1:", "catch(f, *args)"},
		{"class", "class Server:\n    pass\n", ":1:1:", "use a dict"},
		{"global", "count = 0\ndef f():\n    global count\n    count += 1\n", ":3:5:", "keep state in a dict or list"},
		{"chained assignment", "a = b = 0\n", ":1:8:", "one assignment per line"},
		{"f-string", "x = 1\nprint(f\"{x}\")\n", ":2:", "use \"{} is {:.2f}\".format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main([]string{"-c", c.src}, strings.NewReader(""), &out, &errb)
			if code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], c.where) || !strings.Contains(lines[1], c.hint) {
				t.Fatalf("stderr:\n%s\nwant an error at %s and a hint with %q", errb.String(), c.where, c.hint)
			}
		})
	}
}

// TestCourseUDPClientHint: the course's own UDPClient.py fails at its first
// import with the hint, not with a bare parser message.
func TestCourseUDPClientHint(t *testing.T) {
	var out, errb bytes.Buffer
	path := filepath.Join(repoRoot(t), "testdata", "python", "UDPClient.py")
	if code := Main([]string{"run", path}, strings.NewReader(""), &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want := "UDPClient.py:2:1: got import, want primary expression\nhint: netplay has no import: socket, http, dns"
	if !strings.Contains(errb.String(), want) {
		t.Fatalf("stderr:\n%s\nwant %q", errb.String(), want)
	}
}

// TestStructBuiltin: the struct a hint points to exists.
func TestStructBuiltin(t *testing.T) {
	var out, errb bytes.Buffer
	Main([]string{"-c", `s = struct(host="h", port=1)
print(s.host, s.port)`}, strings.NewReader(""), &out, &errb)
	if out.String() != "h 1\n" {
		t.Fatalf("printed %q, stderr %q", out.String(), errb.String())
	}
}
