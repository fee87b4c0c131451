// Command grade measures, in one run, how many submissions of a 5-test
// socket lab (docs/examples/udp_lab) netplay grade grades per minute with
// -j 2 and -j 4, beside the same lab graded by a shell loop of netplay test
// runs, one submission after another. All traffic stays on 127.0.0.1.
//
//	go run ./bench/grade [-n 60] [-j 2,4] [-netplay PATH]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 60, "submissions graded per measurement")
	jobs := flag.String("j", "2,4", "parallel submissions to measure, comma-separated")
	npPath := flag.String("netplay", "", "netplay binary (default: build it)")
	flag.Parse()

	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	lab := filepath.Join(root, "docs", "examples", "udp_lab")
	np := *npPath
	if np == "" {
		np = filepath.Join(os.TempDir(), "netplay-bench-grade")
		build := exec.Command("go", "build", "-o", np, "./cmd/netplay")
		build.Dir = root
		build.Stderr = os.Stderr
		must(build.Run())
	}
	work, err := os.MkdirTemp("", "netplay-bench-grade")
	must(err)
	defer os.RemoveAll(work)

	subs := makeClass(work, lab, *n)
	tests := filepath.Join(lab, "udp_lab_test.star")
	fmt.Printf("%d submissions of a 5-test UDP lab, %d CPUs\n", *n, runtime.NumCPU())

	rates := map[string]float64{}
	var order []string
	for _, js := range strings.Split(*jobs, ",") {
		j, err := strconv.Atoi(strings.TrimSpace(js))
		must(err)
		csv := filepath.Join(work, "scores.csv")
		cpu0 := childCPU()
		start := time.Now()
		cmd := exec.Command(np, "grade", tests, "--submissions", subs, "-j", strconv.Itoa(j), "--csv", csv)
		cmd.Stderr = os.Stderr
		must(cmd.Run())
		el := time.Since(start)
		cpu := childCPU() - cpu0
		name := fmt.Sprintf("netplay grade -j %d", j)
		rates[name] = float64(*n) / el.Minutes()
		order = append(order, name)
		fmt.Printf("%-28s %6.0f submissions/min (%.1fs); CPU %.0f ms per submission (grader and children) = %.0f/min on 2 idle cores\n",
			name+":", rates[name], el.Seconds(), cpu.Seconds()*1000/float64(*n), 2*60/(cpu.Seconds()/float64(*n)))
	}

	// The same lab, one netplay test process per submission in a shell loop.
	cpu0 := childCPU()
	start := time.Now()
	loop := exec.Command("sh", "-c", `for d in "$1"/*/; do "$2" test "$d/udp_lab_test.star" >/dev/null; done; true`, "sh", subs, np)
	loop.Stderr = os.Stderr
	must(loop.Run())
	el := time.Since(start)
	shell := float64(*n) / el.Minutes()
	cpu := childCPU() - cpu0
	fmt.Printf("%-28s %6.0f submissions/min (%.1fs); CPU %.0f ms per submission\n", "shell loop of netplay test:", shell, el.Seconds(), cpu.Seconds()*1000/float64(*n))
	for _, name := range order {
		fmt.Printf("%s / shell loop: %.2fx\n", name, rates[name]/shell)
	}
	best := 0.0
	for _, r := range rates {
		best = max(best, r)
	}
	verdict := "met"
	if best < 300 {
		verdict = "NOT met"
	}
	fmt.Printf("bar: at least 300 submissions/min: %s (best %.0f)\n", verdict, best)
}

// makeClass writes n submissions of the lab into work/submissions, and
// returns that folder.
func makeClass(work, lab string, n int) string {
	// A class: mostly correct work, some wrong answers and fake clients —
	// the submissions that finish without waiting out a timeout, so the
	// measure is netplay's cost rather than the lab's time limits.
	kinds := []string{"correct", "correct", "off_by_one", "fake_client"}
	subs := filepath.Join(work, "submissions")
	for i := 0; i < n; i++ {
		kind := kinds[i%len(kinds)]
		dst := filepath.Join(subs, fmt.Sprintf("s%03d_%s", i, kind))
		must(os.MkdirAll(dst, 0o755))
		for _, f := range []string{"udp_server.star", "udp_client.star"} {
			copyFile(filepath.Join(lab, "submissions", kind, f), filepath.Join(dst, f))
		}
		// For the shell loop: netplay test runs the lab's tests from the
		// submission's folder, where t.start finds the scripts.
		copyFile(filepath.Join(lab, "udp_lab_test.star"), filepath.Join(dst, "udp_lab_test.star"))
	}
	return subs
}

// childCPU is the CPU time of this process's waited-for descendants: the
// grader and every child it started. On a shared machine it says what the
// run would take on idle cores, which wall time cannot.
func childCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func copyFile(src, dst string) {
	data, err := os.ReadFile(src)
	must(err)
	must(os.WriteFile(dst, data, 0o644))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/grade:", err)
		os.Exit(1)
	}
}
