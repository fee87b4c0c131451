package grade

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Submission grades one submission folder with the tests of files: each
// test runs in a fresh interpreter and the submission's programs in
// sandboxed children, so nothing is shared between tests or submissions.
func Submission(files []string, dir string, opts Options) *Report {
	start := time.Now()
	abs, err := filepath.Abs(dir)
	if err == nil {
		dir = abs
	}
	opts.Submission = dir
	r := &Report{Submission: filepath.Base(dir)}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		r.Output = fmt.Sprintf("no submission folder %s", dir)
	}
	for _, f := range files {
		for _, t := range RunFile(f, opts) {
			if t.Func == "" {
				// The test file itself failed: the instructor's problem, but
				// the student must see that nothing was graded.
				r.Output += fmt.Sprintf("the tests in %s could not run: %s\n", filepath.Base(f), t.Message)
				continue
			}
			t.File = filepath.Base(t.File)
			r.Tests = append(r.Tests, t)
		}
	}
	// Number the tests across files, in order.
	for i := range r.Tests {
		r.Tests[i].Number = i + 1
	}
	r.Duration = time.Since(start)
	return r
}

// Shard is the i-th of n slices of a batch (0 ≤ I < N); the zero Shard is
// the whole batch.
type Shard struct{ I, N int }

// ParseShard reads "i/n".
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.I, &sh.N); err != nil || sh.N < 1 || sh.I < 0 || sh.I >= sh.N {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with 0 <= i < n, such as 0/4", s)
	}
	return sh, nil
}

// Submissions lists the submission folders in dir (sorted; hidden ones
// skipped) and keeps the shard's slice: every n-th, from the i-th.
func Submissions(dir string, sh Shard) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			all = append(all, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(all)
	if sh.N <= 1 {
		return all, nil
	}
	var mine []string
	for k, s := range all {
		if k%sh.N == sh.I {
			mine = append(mine, s)
		}
	}
	return mine, nil
}

// Batch grades the submissions with j in parallel and returns their
// reports in the submissions' order. progress, if not nil, is called after
// each one.
func Batch(files, subs []string, j int, opts Options, progress func(r *Report)) []*Report {
	if j < 1 {
		j = 1
	}
	reports := make([]*Report, len(subs))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := 0; w < j; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				r := Submission(files, subs[k], opts)
				reports[k] = r
				if progress != nil {
					mu.Lock()
					progress(r)
					mu.Unlock()
				}
			}
		}()
	}
	for k := range subs {
		next <- k
	}
	close(next)
	wg.Wait()
	return reports
}
