package grade

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

func sampleReport() *Report {
	return &Report{Submission: "alice", Tests: []Result{
		{File: "lab_test.star", Func: "test_a", Name: "answers", Number: 1, Status: Passed, Score: 2, MaxScore: 2, Visibility: "visible"},
		{File: "lab_test.star", Func: "test_b", Name: "five sentences", Number: 2, Status: Failed, Score: 1.2, MaxScore: 2,
			Message: "your server did not answer within 2s", Tags: []string{"server"}, Visibility: "hidden"},
	}}
}

func TestResultsFormats(t *testing.T) {
	cases := []struct {
		format string
		want   []string
	}{
		{"text", []string{"ok    answers", "FAIL  five sentences", "1.2/2", "your server did not answer within 2s", "score: 3.2/4"}},
		{"gradescope", []string{`"score": 3.2`, `"max_score": 2`, `"status": "failed"`, `"number": "2"`, `"visibility": "hidden"`, `"leaderboard": []`}},
		{"prairielearn", []string{`"score": 0.8`, `"gradable": true`, `"points": 1.2`, `"max_points": 2`}},
		{"junit", []string{`<testsuite name="alice" tests="2" failures="1"`, `<failure message="your server did not answer within 2s"`}},
		{"csv", []string{"submission,score,max_score,answers,five sentences\nalice,3.2,4,2,1.2\n"}},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := sampleReport().Write(&b, c.format); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("%s output lacks %q:\n%s", c.format, w, b.String())
				}
			}
		})
	}
}

func TestGradescopeRoundTrip(t *testing.T) {
	var b bytes.Buffer
	sampleReport().Write(&b, "gradescope")
	r, err := FromGradescope(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if r.Submission != "alice" || r.Score() != 3.2 || r.MaxScore() != 4 || len(r.Tests) != 2 {
		t.Fatalf("read back %+v", r)
	}
	var raw map[string]any
	json.Unmarshal(b.Bytes(), &raw)
	if _, ok := raw["tests"].([]any)[0].(map[string]any)["tags"].([]any); !ok {
		t.Errorf("tags must be a list even when empty: %s", b.String())
	}
}

func TestShards(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c", "d", "e", ".hidden"} {
		os.Mkdir(filepath.Join(dir, n), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)
	cases := []struct {
		shard string
		want  string
	}{
		{"", "a b c d e"},
		{"0/2", "a c e"},
		{"1/2", "b d"},
		{"2/3", "c"},
	}
	for _, c := range cases {
		t.Run(c.shard, func(t *testing.T) {
			var sh Shard
			if c.shard != "" {
				var err error
				if sh, err = ParseShard(c.shard); err != nil {
					t.Fatal(err)
				}
			}
			subs, err := Submissions(dir, sh)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range subs {
				names = append(names, filepath.Base(s))
			}
			if got := strings.Join(names, " "); got != c.want {
				t.Errorf("shard %q: %s, want %s", c.shard, got, c.want)
			}
		})
	}
	for _, bad := range []string{"2/2", "-1/2", "1/0", "x"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted it", bad)
		}
	}
}

func TestCapBuf(t *testing.T) {
	c := &capBuf{max: 8}
	c.Write([]byte("hello "))
	c.Write([]byte("world, again"))
	if got := c.String(); got != "hello wo\n… (10 more bytes not kept)" {
		t.Errorf("got %q", got)
	}
}

func TestPlainValuesCross(t *testing.T) {
	ok := []string{`None`, `(1, "a", b"\x00\xff", [1.5, True], {"k": (1,)}, set([1, 2]))`}
	for _, src := range ok {
		v, err := Decode(src)
		if err != nil {
			t.Fatalf("Decode(%s): %v", src, err)
		}
		if err := Plain(v); err != nil {
			t.Fatalf("Plain(%s): %v", src, err)
		}
		back, err := Decode(v.String())
		if err != nil {
			t.Fatalf("Decode(%s): %v", v.String(), err)
		}
		if eq, _ := starlark.Equal(v, back); !eq {
			t.Errorf("%s came back as %s", v, back)
		}
	}
	if err := Plain(starlark.NewBuiltin("f", nil)); err == nil {
		t.Error("a builtin counted as plain data")
	}
}
