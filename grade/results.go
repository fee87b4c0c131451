package grade

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Report is the grading of one submission.
type Report struct {
	Submission string // its name (the folder's base name)
	Tests      []Result
	Output     string // about the whole submission (a test file that failed to load)
	Duration   time.Duration
}

// Score and MaxScore add up the tests.
func (r *Report) Score() float64 {
	s := 0.0
	for _, t := range r.Tests {
		s += t.Score
	}
	return round(s)
}

func (r *Report) MaxScore() float64 {
	s := 0.0
	for _, t := range r.Tests {
		s += t.MaxScore
	}
	return round(s)
}

// round keeps scores free of binary noise (0.1+0.2), so reruns compare equal.
func round(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// Formats names the results formats.
var Formats = []string{"text", "gradescope", "prairielearn", "junit", "csv"}

// Write writes the report in format.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "", "text":
		return r.writeText(w)
	case "gradescope":
		return writeJSON(w, r.Gradescope())
	case "prairielearn":
		return writeJSON(w, r.PrairieLearn())
	case "junit":
		return writeJUnit(w, []*Report{r})
	case "csv":
		return WriteCSV(w, []*Report{r})
	}
	return fmt.Errorf("unknown results format %q (want %s)", format, strings.Join(Formats, ", "))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func (r *Report) writeText(w io.Writer) error {
	if r.Output != "" {
		fmt.Fprintln(w, strings.TrimRight(r.Output, "\n"))
	}
	for _, t := range r.Tests {
		mark := "ok  "
		switch t.Status {
		case Failed:
			mark = "FAIL"
		case Skipped:
			mark = "skip"
		}
		fmt.Fprintf(w, "%s  %-40s %s/%s\n", mark, t.Name, num(t.Score), num(t.MaxScore))
		if t.Status != Passed {
			if out := strings.TrimRight(t.Output(), "\n"); out != "" {
				fmt.Fprintln(w, indent(out))
			}
		}
	}
	_, err := fmt.Fprintf(w, "score: %s/%s\n", num(r.Score()), num(r.MaxScore()))
	return err
}

// GradescopeTest is one test in Gradescope's results.json.
type GradescopeTest struct {
	Score        float64        `json:"score"`
	MaxScore     float64        `json:"max_score"`
	Status       string         `json:"status"`
	Name         string         `json:"name"`
	Number       string         `json:"number"`
	Output       string         `json:"output"`
	OutputFormat string         `json:"output_format"`
	Tags         []string       `json:"tags"`
	Visibility   string         `json:"visibility"`
	ExtraData    map[string]any `json:"extra_data"`
}

// GradescopeResults is Gradescope's results.json, with the fields of its
// published autograder specification.
type GradescopeResults struct {
	Score            float64          `json:"score"`
	ExecutionTime    float64          `json:"execution_time"`
	Output           string           `json:"output"`
	OutputFormat     string           `json:"output_format"`
	Visibility       string           `json:"visibility"`
	StdoutVisibility string           `json:"stdout_visibility"`
	ExtraData        map[string]any   `json:"extra_data"`
	Tests            []GradescopeTest `json:"tests"`
	Leaderboard      []any            `json:"leaderboard"`
}

// Gradescope is the report as Gradescope's results.json.
func (r *Report) Gradescope() *GradescopeResults {
	g := &GradescopeResults{
		Score:            r.Score(),
		ExecutionTime:    math.Round(r.Duration.Seconds()*1000) / 1000,
		Output:           r.Output,
		OutputFormat:     "text",
		Visibility:       "visible",
		StdoutVisibility: "hidden",
		ExtraData:        map[string]any{"max_score": r.MaxScore(), "submission": r.Submission},
		Tests:            []GradescopeTest{},
		Leaderboard:      []any{},
	}
	for _, t := range r.Tests {
		status := "passed"
		if t.Status != Passed {
			status = "failed"
		}
		out := t.Output()
		if t.Status == Skipped {
			out = "skipped: " + out
		}
		tags := t.Tags
		if tags == nil {
			tags = []string{}
		}
		g.Tests = append(g.Tests, GradescopeTest{
			Score: t.Score, MaxScore: t.MaxScore, Status: status, Name: t.Name,
			Number: strconv.Itoa(t.Number), Output: out, OutputFormat: "text", Tags: tags,
			Visibility: t.Visibility, ExtraData: map[string]any{"file": t.File, "function": t.Func},
		})
	}
	return g
}

// PrairieLearnTest is one test in PrairieLearn's results.json.
type PrairieLearnTest struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Points      float64 `json:"points"`
	MaxPoints   float64 `json:"max_points"`
	Message     string  `json:"message"`
	Output      string  `json:"output"`
}

// PrairieLearnResults is PrairieLearn's external grader results.json.
type PrairieLearnResults struct {
	Gradable bool               `json:"gradable"`
	Score    float64            `json:"score"`
	Message  string             `json:"message"`
	Output   string             `json:"output"`
	Tests    []PrairieLearnTest `json:"tests"`
}

// PrairieLearn is the report as PrairieLearn's results.json: score in [0, 1].
func (r *Report) PrairieLearn() *PrairieLearnResults {
	p := &PrairieLearnResults{Gradable: true, Output: r.Output, Tests: []PrairieLearnTest{}}
	if max := r.MaxScore(); max > 0 {
		p.Score = round(r.Score() / max)
	}
	p.Message = fmt.Sprintf("%s of %s points", num(r.Score()), num(r.MaxScore()))
	for _, t := range r.Tests {
		p.Tests = append(p.Tests, PrairieLearnTest{
			Name: t.Name, Description: t.File + "::" + t.Func, Points: t.Score, MaxPoints: t.MaxScore,
			Message: t.Message, Output: t.Output(),
		})
	}
	return p
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Props    []junitProp `xml:"properties>property"`
	Cases    []junitCase `xml:"testcase"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitFailure `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, reports []*Report) error {
	s := junitSuites{}
	for _, r := range reports {
		suite := junitSuite{Name: r.Submission, Time: fmt.Sprintf("%.3f", r.Duration.Seconds()),
			Props: []junitProp{{"score", num(r.Score())}, {"max_score", num(r.MaxScore())}}}
		for _, t := range r.Tests {
			c := junitCase{Name: t.Name, Classname: r.Submission + "." + strings.TrimSuffix(t.File, ".star"),
				Time: fmt.Sprintf("%.3f", t.Duration.Seconds()), SystemOut: t.Output()}
			switch t.Status {
			case Failed:
				c.Failure = &junitFailure{Message: firstLine(t.Message), Text: t.Output()}
				suite.Failures++
			case Skipped:
				c.Skipped = &junitFailure{Message: t.Message}
				suite.Skipped++
			}
			suite.Cases = append(suite.Cases, c)
			suite.Tests++
		}
		s.Tests += suite.Tests
		s.Failures += suite.Failures
		s.Suites = append(s.Suites, suite)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// WriteCSV writes a row per submission: its name, score, maximum, then a
// column per test (by name, in the order first seen).
func WriteCSV(w io.Writer, reports []*Report) error {
	var names []string
	seen := map[string]bool{}
	for _, r := range reports {
		for _, t := range r.Tests {
			if !seen[t.Name] {
				seen[t.Name] = true
				names = append(names, t.Name)
			}
		}
	}
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"submission", "score", "max_score"}, names...))
	for _, r := range reports {
		row := []string{r.Submission, num(r.Score()), num(r.MaxScore())}
		by := map[string]float64{}
		has := map[string]bool{}
		for _, t := range r.Tests {
			by[t.Name] += t.Score
			has[t.Name] = true
		}
		for _, n := range names {
			if has[n] {
				row = append(row, num(by[n]))
			} else {
				row = append(row, "")
			}
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// FromGradescope reads back a report written as Gradescope's results.json,
// for netplay grade merge.
func FromGradescope(data []byte) (*Report, error) {
	var g GradescopeResults
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, err
	}
	r := &Report{Output: g.Output, Duration: time.Duration(g.ExecutionTime * float64(time.Second))}
	if s, ok := g.ExtraData["submission"].(string); ok {
		r.Submission = s
	}
	for _, t := range g.Tests {
		n, _ := strconv.Atoi(t.Number)
		status := Passed
		if t.Status != "passed" {
			status = Failed
		}
		r.Tests = append(r.Tests, Result{Name: t.Name, Number: n, Status: status, Score: t.Score, MaxScore: t.MaxScore, Tags: t.Tags, Visibility: t.Visibility})
	}
	return r, nil
}
