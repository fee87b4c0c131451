package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/netplay-dev/netplay/grade"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

const gradeUsage = `usage:
  netplay grade TESTS... --submission DIR [--results FILE] [--format F]
  netplay grade TESTS... --submissions DIR [-j N] [--csv FILE] [--results-dir D] [--shard i/n]
  netplay grade --gradescope TESTS...
  netplay grade merge D1 D2... --csv FILE

TESTS are *_test.star files (or folders of them). Formats: text (the
default), gradescope, prairielearn, junit, csv.

flags:
  --submission DIR     grade one submission folder
  --submissions DIR    grade each folder inside DIR
  --results FILE       write the results there (default: standard output)
  --format F           the results format (default: from --results' extension)
  -j N                 grade N submissions at a time (default 1)
  --csv FILE           a row of scores per submission
  --results-dir D      a Gradescope results.json per submission, as D/NAME.json
  --shard i/n          grade only the i-th of n slices (0 <= i < n)
  --gradescope         run as Gradescope's run_autograder: read
                       /autograder/submission, write /autograder/results/results.json
                       (--autograder-root or $NETPLAY_AUTOGRADER_ROOT move /autograder)
  --timeout D          each test's time limit (default 30s)
  --max-memory SIZE    each child's memory (default 256MiB)
  --max-cpu D          each child's CPU time (default 10s)
  --max-output SIZE    what is kept of each child's stdout and stderr (default 64KiB)
  --max-steps N        each child's Starlark steps
  --seed N             the seed of random in tests and children (default 1)
`

type gradeFlags struct {
	submission, submissions   string
	results, format, csv      string
	resultsDir, shard, agRoot string
	jobs                      int
	gradescope                bool
	maxOutput                 int64
}

// parseInterleaved parses flags that may come after positional arguments,
// as in "netplay grade lab_test.star --submission s1".
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func gradeCmd(o *options, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) > 0 && args[0] == "merge" {
		return mergeCmd(args[1:], stdout)
	}
	var g gradeFlags
	fs := flag.NewFlagSet("grade", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addFlags(fs, o)
	fs.StringVar(&g.submission, "submission", "", "")
	fs.StringVar(&g.submissions, "submissions", "", "")
	fs.StringVar(&g.results, "results", "", "")
	fs.StringVar(&g.format, "format", "", "")
	fs.StringVar(&g.csv, "csv", "", "")
	fs.StringVar(&g.resultsDir, "results-dir", "", "")
	fs.StringVar(&g.shard, "shard", "", "")
	fs.StringVar(&g.agRoot, "autograder-root", os.Getenv("NETPLAY_AUTOGRADER_ROOT"), "")
	fs.IntVar(&g.jobs, "j", 1, "")
	fs.BoolVar(&g.gradescope, "gradescope", false, "")
	fs.Var(sizeFlag{&g.maxOutput}, "max-output", "")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stdout, gradeUsage)
			return 0, nil
		}
		return 0, usageError{fmt.Sprintf("grade: %v", err)}
	}
	if len(paths) == 0 {
		return 0, usageError{"grade: missing test files"}
	}
	files, err := grade.Find(paths)
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no *_test.star files in %v", paths)
	}
	if err != nil && !g.gradescope {
		return 0, fmt.Errorf("grade: %v", err)
	}
	if g.gradescope {
		root := g.agRoot
		if root == "" {
			root = "/autograder"
		}
		g.submission = filepath.Join(root, "submission")
		g.results = filepath.Join(root, "results", "results.json")
		g.format = "gradescope"
		if err := os.MkdirAll(filepath.Dir(g.results), 0o755); err != nil {
			return 0, fmt.Errorf("grade: %v", err)
		}
		if err != nil {
			// Gradescope shows the student a results file, not our stderr:
			// say that the autograder itself is broken.
			r := &grade.Report{Output: "the autograder could not run its tests: " + err.Error()}
			writeResults(r, g.results, "gradescope", stdout)
			return 1, fmt.Errorf("grade: %v", err)
		}
	}
	if (g.submission == "") == (g.submissions == "") {
		return 0, usageError{"grade: give either --submission DIR or --submissions DIR"}
	}
	if g.format == "" {
		g.format = formatOf(g.results)
	}
	if !validFormat(g.format) {
		return 0, usageError{fmt.Sprintf("grade: unknown format %q (want %s)", g.format, strings.Join(grade.Formats, ", "))}
	}
	opts := grade.Options{
		Timeout: o.timeout,
		AllowFS: o.allowFS,
		Seed:    o.seed,
		Limits:  grade.Limits{CPU: o.maxCPU, Memory: o.maxMemory, Output: int(g.maxOutput), Steps: o.maxSteps},
	}
	if exe, err := os.Executable(); err == nil {
		opts.Netplay = []string{exe, "netplay"}
	}
	if g.submission != "" {
		r := grade.Submission(files, g.submission, opts)
		return 0, writeResults(r, g.results, g.format, stdout)
	}
	return batch(files, &g, opts, stdout, stderr)
}

func validFormat(f string) bool {
	for _, x := range grade.Formats {
		if f == x {
			return true
		}
	}
	return false
}

// formatOf picks the results format from a file name.
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return "gradescope"
	case ".xml":
		return "junit"
	case ".csv":
		return "csv"
	}
	return "text"
}

// writeResults writes r to path (stdout if empty), whole or not at all.
func writeResults(r *grade.Report, path, format string, stdout io.Writer) error {
	var b bytes.Buffer
	if err := r.Write(&b, format); err != nil {
		return err
	}
	if path == "" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	return writeFileAtomic(path, b.Bytes())
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func batch(files []string, g *gradeFlags, opts grade.Options, stdout, stderr io.Writer) (int, error) {
	sh := grade.Shard{}
	if g.shard != "" {
		var err error
		if sh, err = grade.ParseShard(g.shard); err != nil {
			return 0, usageError{"grade: " + err.Error()}
		}
	}
	subs, err := grade.Submissions(g.submissions, sh)
	if err != nil {
		return 0, fmt.Errorf("grade: %v", err)
	}
	if g.resultsDir != "" {
		if err := os.MkdirAll(g.resultsDir, 0o755); err != nil {
			return 0, fmt.Errorf("grade: %v", err)
		}
	}
	var progress *mpb.Progress
	var bar *mpb.Bar
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		progress = mpb.New(mpb.WithOutput(f), mpb.WithWidth(40))
		bar = progress.AddBar(int64(len(subs)),
			mpb.PrependDecorators(decor.Name("grading "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.EwmaETA(decor.ET_STYLE_GO, 30)))
	}
	var writeErr error
	reports := grade.Batch(files, subs, g.jobs, opts, func(r *grade.Report) {
		if g.resultsDir != "" {
			var b bytes.Buffer
			r.Write(&b, "gradescope")
			if err := writeFileAtomic(filepath.Join(g.resultsDir, r.Submission+".json"), b.Bytes()); err != nil && writeErr == nil {
				writeErr = err
			}
		}
		if bar != nil {
			bar.Increment()
		}
	})
	if progress != nil {
		progress.Wait()
	}
	if writeErr != nil {
		return 0, fmt.Errorf("grade: %v", writeErr)
	}
	if g.csv != "" {
		var b bytes.Buffer
		grade.WriteCSV(&b, reports)
		if err := writeFileAtomic(g.csv, b.Bytes()); err != nil {
			return 0, fmt.Errorf("grade: %v", err)
		}
	}
	if g.csv == "" && g.resultsDir == "" || g.results != "" {
		// Nowhere else to put them: every submission's results, one after another.
		var b bytes.Buffer
		for _, r := range reports {
			if g.format == "text" {
				fmt.Fprintf(&b, "== %s\n", r.Submission)
			}
			r.Write(&b, g.format)
		}
		if g.format == "csv" {
			b.Reset()
			grade.WriteCSV(&b, reports)
		}
		if g.results != "" {
			return 0, writeFileAtomic(g.results, b.Bytes())
		}
		stdout.Write(b.Bytes())
		return 0, nil
	}
	fmt.Fprintf(stdout, "graded %d submissions\n", len(reports))
	return 0, nil
}

// mergeCmd joins the results folders of several shards into one CSV.
func mergeCmd(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("grade merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	csvPath := fs.String("csv", "", "")
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return 0, usageError{fmt.Sprintf("grade merge: %v", err)}
	}
	if len(dirs) == 0 {
		return 0, usageError{"grade merge: missing results folders"}
	}
	var reports []*grade.Report
	seen := map[string]string{}
	for _, d := range dirs {
		names, err := filepath.Glob(filepath.Join(d, "*.json"))
		if err != nil {
			return 0, err
		}
		if len(names) == 0 {
			return 0, fmt.Errorf("grade merge: no results in %s", d)
		}
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				return 0, fmt.Errorf("grade merge: %v", err)
			}
			r, err := grade.FromGradescope(data)
			if err != nil {
				return 0, fmt.Errorf("grade merge: %s: %v", n, err)
			}
			if r.Submission == "" {
				r.Submission = strings.TrimSuffix(filepath.Base(n), ".json")
			}
			if prev, dup := seen[r.Submission]; dup {
				return 0, fmt.Errorf("grade merge: submission %s is in both %s and %s", r.Submission, prev, n)
			}
			seen[r.Submission] = n
			reports = append(reports, r)
		}
	}
	sortReports(reports)
	var b bytes.Buffer
	grade.WriteCSV(&b, reports)
	if *csvPath == "" {
		stdout.Write(b.Bytes())
		return 0, nil
	}
	if err := writeFileAtomic(*csvPath, b.Bytes()); err != nil {
		return 0, fmt.Errorf("grade merge: %v", err)
	}
	fmt.Fprintf(stdout, "merged %d submissions into %s\n", len(reports), *csvPath)
	return 0, nil
}

func sortReports(rs []*grade.Report) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Submission < rs[j-1].Submission; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}
