package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The worked example in docs/examples/udp_lab is graded as a human grader
// would: a point for what works, none for what only looks like it works.
var udpLabScores = map[string]string{
	"correct":       "10",
	"off_by_one":    "5.2", // client right; server uppercases all but the last letter
	"infinite_loop": "4",   // client right; server never answers
	"memory_bomb":   "4",   // client right; server stopped at its memory limit
	"never_binds":   "4",   // client right; server exits before binding
	"fake_client":   "6",   // server right; client prints a guess without asking
}

func udpLab(t *testing.T) string {
	t.Helper()
	return filepath.Join(repoRoot(t), "docs", "examples", "udp_lab")
}

func runMain(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(args, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("netplay %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

func TestGradeUDPLabBatch(t *testing.T) {
	lab := udpLab(t)
	dir := t.TempDir()
	tests := filepath.Join(lab, "udp_lab_test.star")
	subs := filepath.Join(lab, "submissions")
	// Two shards on two "machines", then merged.
	for _, sh := range []string{"0/2", "1/2"} {
		res := filepath.Join(dir, "shard"+sh[:1])
		runMain(t, "grade", tests, "--submissions", subs, "-j", "2", "--shard", sh,
			"--results-dir", res, "--csv", filepath.Join(dir, "scores"+sh[:1]+".csv"))
	}
	all := filepath.Join(dir, "all.csv")
	runMain(t, "grade", "merge", filepath.Join(dir, "shard0"), filepath.Join(dir, "shard1"), "--csv", all)
	f, err := os.Open(all)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range rows[1:] {
		got[row[0]] = row[1]
		if row[2] != "10" {
			t.Errorf("%s: max score %s, want 10", row[0], row[2])
		}
	}
	for name, want := range udpLabScores {
		if got[name] != want {
			t.Errorf("%s scored %q, want %s", name, got[name], want)
		}
	}
	if len(got) != len(udpLabScores) {
		t.Errorf("merged %d submissions, want %d: %v", len(got), len(udpLabScores), got)
	}
}

// gradescopeTopLevel and gradescopeTest are the fields of Gradescope's
// published results.json specification.
var (
	gradescopeTopLevel = []string{"execution_time", "extra_data", "leaderboard", "output", "output_format", "score", "stdout_visibility", "tests", "visibility"}
	gradescopeTest     = []string{"extra_data", "max_score", "name", "number", "output", "output_format", "score", "status", "tags", "visibility"}
)

func keys(m map[string]any) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// TestGradeUDPLabReruns grades the same submissions ten times: the same
// score and the same results.json, execution times aside.
func TestGradeUDPLabReruns(t *testing.T) {
	lab := udpLab(t)
	tests := filepath.Join(lab, "udp_lab_test.star")
	times := regexp.MustCompile(`"execution_time": [0-9.e+-]+`)
	// The allotted port is 21000 unless another grader on the machine
	// holds it (go test runs packages in parallel): the rest must repeat.
	ports := regexp.MustCompile(`\b2[1-9][0-9]{3}\b`)
	for _, sub := range []string{"off_by_one", "fake_client"} {
		t.Run(sub, func(t *testing.T) {
			var first string
			for i := 0; i < 10; i++ {
				out := runMain(t, "grade", tests, "--submission", filepath.Join(lab, "submissions", sub), "--format", "gradescope")
				var res map[string]any
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatalf("results.json: %v\n%s", err, out)
				}
				if got := strings.Join(keys(res), " "); got != strings.Join(gradescopeTopLevel, " ") {
					t.Fatalf("top-level fields %s, want %s", got, strings.Join(gradescopeTopLevel, " "))
				}
				for _, test := range res["tests"].([]any) {
					if got := strings.Join(keys(test.(map[string]any)), " "); got != strings.Join(gradescopeTest, " ") {
						t.Fatalf("test fields %s, want %s", got, strings.Join(gradescopeTest, " "))
					}
				}
				if score := res["score"].(float64); formatScore(score) != udpLabScores[sub] {
					t.Fatalf("run %d: score %v, want %s", i+1, score, udpLabScores[sub])
				}
				norm := ports.ReplaceAllString(times.ReplaceAllString(out, `"execution_time": 0`), "PORT")
				if i == 0 {
					first = norm
				} else if norm != first {
					t.Fatalf("run %d differs from the first:\n%s\nfirst:\n%s", i+1, norm, first)
				}
			}
		})
	}
}

func formatScore(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
