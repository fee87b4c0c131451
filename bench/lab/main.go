// Command lab measures how fast the lab network runs: segments per real
// second and lab seconds per real second on three loads, one 50 MB HTTP
// transfer over a 100 Mbps link, 30 hosts each fetching 2 MB from one
// server, and a swarm-shaped load (one server, N peers with their own
// upload and download rates, every peer relaying its part to every other).
// Given -old with the path of another netplay binary, or with git:REV to
// build that revision of this repository (-old first is the first lab,
// main at 1a6a5a8, before lab v2), it runs the same scripts with it and
// prints the speed-up beside them.
//
// Part of a load's time is not the lab's: the script builds the body it
// serves, and a reader copies what it receives into memory of its own.
// For the two HTTP loads the program also times that work alone (the
// "floor": the same body built, and copied once per receiver, with no
// network) and prints the speed-up of what is left, the lab's share.
//
// With the default sizes it also prints the speed-up against the times the
// lab v2 issue measured for the first lab (3.0 s and 6.2 s on 2 cores).
// Those were not taken beside this build: the first lab's binary takes
// 0.5-0.7 s and 0.7-0.8 s for the same loads on an idle 2-core machine,
// and 3.1-3.4 s and 4.5-5.5 s built with -race.
//
//	go run ./bench/lab [-runs 3] [-mb 50] [-hosts 30] [-each 2] [-peers 10] [-old /path/to/netplay|git:REV|first] [-new /path/to/netplay] [-only transfer] [-cpuprofile cpu.prof]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
)

// Each load prints "RESULT lab_seconds packets" (packets summed over every
// link and direction).
const transfer = `
net = lab.network()
client, server = net.host("client"), net.host("server")
l = net.link(client, server, rate="100Mbps", delay="10ms")
body = "x" * (MB * 1000000)
srv = server.http.serve(":80", handler=lambda req: body)
t0 = net.now()
r = client.http.get("http://server/")
if len(r.body) != len(body):
    fail("short body")
print("RESULT %f %d" % (net.now() - t0, l.stats().packets))
`

const fanout = `
net = lab.network()
server = net.host("server")
r = net.router("r")
links = [net.link(server, r, rate="1Gbps", delay="1ms")]
body = "x" * (EACH * 1000000)
srv = server.http.serve(":80", handler=lambda req: body)
hosts = []
for i in range(HOSTS):
    h = net.host("h%d" % i)
    links.append(net.link(h, r, rate="100Mbps", delay="5ms"))
    hosts.append(h)
def get(h):
    if len(h.http.get("http://server/").body) != len(body):
        fail("short body")
t0 = net.now()
tasks = [spawn(get, h) for h in hosts]
for t in tasks:
    t.join()
print("RESULT %f %d" % (net.now() - t0, sum([l.stats().packets for l in links])))
`

// The floors: the work of transfer and fanout that is not the lab's.
const transferFloor = `
body = "x" * (MB * 1000000)
got = body + "y"
print("RESULT 0 0")
`

const fanoutFloor = `
body = "x" * (EACH * 1000000)
for i in range(HOSTS):
    got = body + "y"
print("RESULT 0 0")
`

// The swarm is scripts/lab_swarm_fluid.star, read from the repository.
func swarmScript() string {
	src, err := os.ReadFile(filepath.Join(repoRoot(), "scripts", "lab_swarm_fluid.star"))
	if err != nil {
		log.Fatal(err)
	}
	return string(src)
}

type load struct {
	name, src string
	floor     string // the same work without the lab, or ""
	vars      map[string]int
	args      []string // sys.argv[1:]
	issue     float64  // seconds the lab v2 issue measured for the first lab, or 0
}

// noise is the least share of a run's time the lab must take for the
// speed-up of its share to be printed: below it, run-to-run variation
// (several milliseconds on the 2-core machine) is most of the difference.
const noise = 10 * time.Millisecond

// The first lab: main before lab v2.
const firstLab = "1a6a5a8"

type result struct {
	real            time.Duration
	labSec, packets float64
	fluid           string
}

func main() {
	mb := flag.Int("mb", 50, "megabytes of the single transfer")
	hosts := flag.Int("hosts", 30, "hosts fetching from one server")
	each := flag.Int("each", 2, "megabytes each host fetches")
	peers := flag.Int("peers", 10, "peers of the swarm")
	swarmMB := flag.Int("swarm-mb", 4, "megabytes of the swarm's file")
	old := flag.String("old", "", "another netplay binary to run the same loads with")
	self := flag.String("new", "", "run this lab's loads with this netplay binary too, instead of in this process (like -old, for a like-for-like comparison)")
	only := flag.String("only", "", "run only the loads whose name contains this (transfer, fetching, swarm)")
	runs := flag.Int("runs", 3, "runs of each script; the fastest counts")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of this lab's runs to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *old == "first" {
		*old = "git:" + firstLab
	}
	if rev, ok := strings.CutPrefix(*old, "git:"); ok {
		bin, err := buildRevision(rev)
		if err != nil {
			log.Fatalf("building %s: %v", *old, err)
		}
		*old = bin
	}
	if *old != "" && *self == "" {
		// Like for like: both builds start as processes.
		bin, err := buildHere()
		if err != nil {
			log.Fatalf("building this tree: %v", err)
		}
		defer os.RemoveAll(filepath.Dir(bin))
		*self = bin
	}
	issue := func(secs float64, defaults bool) float64 {
		if defaults {
			return secs
		}
		return 0
	}
	loads := []load{
		{fmt.Sprintf("one %d MB HTTP transfer over 100 Mbps", *mb), transfer, transferFloor, map[string]int{"MB": *mb}, nil, issue(3.0, *mb == 50)},
		{fmt.Sprintf("%d hosts each fetching %d MB from one server", *hosts, *each), fanout, fanoutFloor, map[string]int{"HOSTS": *hosts, "EACH": *each}, nil, issue(6.2, *hosts == 30 && *each == 2)},
		{fmt.Sprintf("swarm: server and %d peers, %d MB file, all-to-all relays", *peers, *swarmMB), swarmScript(), "", nil, []string{strconv.Itoa(*peers), strconv.Itoa(*swarmMB)}, 0},
	}
	for _, l := range loads {
		if !strings.Contains(l.name, *only) {
			continue
		}
		src := prelude(l.vars) + l.src
		run := func(src string) (result, error) {
			return best(*runs, func() (result, error) {
				if *self != "" {
					return runBinary(*self, src, l.args)
				}
				return runHere(src, l.args)
			})
		}
		runOld := func(src string) (result, error) {
			return best(*runs, func() (result, error) { return runBinary(*old, src, l.args) })
		}
		r, err := run(src)
		if err != nil {
			pprof.StopCPUProfile()
			log.Fatalf("%s: %v", l.name, err)
		}
		fmt.Printf("%s\n", l.name)
		report("  this lab:    ", r)
		if r.fluid != "" {
			fmt.Printf("  lab time %s\n", r.fluid)
		}
		var floor result
		if l.floor != "" {
			if floor, err = run(prelude(l.vars) + l.floor); err != nil {
				log.Fatalf("%s, without the lab: %v", l.name, err)
			}
			fmt.Printf("  without the lab (body built, copied per reader): %.3fs; the lab's share %.3fs\n", floor.real.Seconds(), (r.real - floor.real).Seconds())
		}
		if l.issue > 0 {
			fmt.Printf("  against the issue's measurement of the first lab (%.1fs, not taken beside this run): %.1fx\n", l.issue, l.issue/r.real.Seconds())
		}
		if *old == "" {
			continue
		}
		o, err := runOld(src)
		if err != nil {
			msg := err.Error()
			if i := strings.Index(msg, "Error: "); i >= 0 {
				msg = strings.TrimSpace(msg[i:])
			}
			fmt.Printf("  old binary:   cannot run it: %s\n", msg)
			continue
		}
		report("  old binary:  ", o)
		fmt.Printf("  speed-up this/old: %.1fx (lab times %.4fs vs %.4fs)\n", o.real.Seconds()/r.real.Seconds(), r.labSec, o.labSec)
		if l.floor != "" {
			// No lab at all would still take the floor.
			fmt.Printf("  most a whole run could gain over old, the lab taking no time: %.1fx\n", o.real.Seconds()/floor.real.Seconds())
			of, err := runOld(prelude(l.vars) + l.floor)
			if err != nil {
				fmt.Printf("  old binary without the lab: failed: %v\n", err)
				continue
			}
			oldShare, share := o.real-of.real, r.real-floor.real
			if share < noise {
				// A difference of two runs this short is mostly noise.
				fmt.Printf("  old binary without the lab: %.3fs; the lab's share %.3fs: this lab's share is under %v, within run-to-run noise",
					of.real.Seconds(), oldShare.Seconds(), noise)
				if oldShare > noise {
					fmt.Printf(" (the speed-up of the lab's share is over %.0fx)", oldShare.Seconds()/noise.Seconds())
				}
				fmt.Println()
				continue
			}
			fmt.Printf("  old binary without the lab: %.3fs; the lab's share %.3fs: speed-up of the lab's share %.1fx\n",
				of.real.Seconds(), oldShare.Seconds(), oldShare.Seconds()/share.Seconds())
		}
	}
}

// repoRoot is this repository's directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// buildHere builds netplay from this tree into a temporary directory.
func buildHere() (string, error) {
	dir, err := os.MkdirTemp("", "netplay-bench")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "netplay")
	build := exec.Command("go", "build", "-o", bin, "./cmd/netplay")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// buildRevision builds netplay at revision rev of this repository (from
// its git history) and returns the binary's path. Binaries are kept in
// the user's cache directory, one per revision.
func buildRevision(rev string) (string, error) {
	root := repoRoot()
	full, err := exec.Command("git", "-C", root, "rev-parse", "--verify", rev+"^{commit}").Output()
	if err != nil {
		return "", fmt.Errorf("git rev-parse %s in %s: %v (a shallow clone lacks old revisions: git fetch --unshallow)", rev, root, err)
	}
	commit := strings.TrimSpace(string(full))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "netplay-bench-lab", commit)
	bin := filepath.Join(dir, "netplay")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	src, err := os.MkdirTemp("", "netplay-"+commit[:7])
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(src)
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", commit)
	var archiveErr bytes.Buffer
	archive.Stderr = &archiveErr
	untar := exec.Command("tar", "-x", "-C", src)
	if untar.Stdin, err = archive.StdoutPipe(); err != nil {
		return "", err
	}
	if err := untar.Start(); err != nil {
		return "", fmt.Errorf("tar: %v", err)
	}
	if err := archive.Run(); err != nil {
		untar.Wait()
		return "", fmt.Errorf("git archive %s: %v\n%s", commit, err, archiveErr.Bytes())
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("tar: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "building netplay at %s for the comparison...\n", commit[:7])
	build := exec.Command("go", "build", "-o", bin, "./cmd/netplay")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build at %s: %v\n%s", commit[:7], err, out)
	}
	return bin, nil
}

func prelude(vars map[string]int) string {
	var b strings.Builder
	for k, v := range vars {
		fmt.Fprintf(&b, "%s = %d\n", k, v)
	}
	return b.String()
}

func report(who string, r result) {
	fmt.Printf("%s%8.3fs real  %10.0f segments/s  %8.2f lab s/real s  (%.0f packets, %.3f lab s)\n",
		who, r.real.Seconds(), r.packets/r.real.Seconds(), r.labSec/r.real.Seconds(), r.packets, r.labSec)
}

func parse(out string, real time.Duration) (result, error) {
	r := result{real: real}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "RESULT" {
			r.labSec, _ = strconv.ParseFloat(f[1], 64)
			r.packets, _ = strconv.ParseFloat(f[2], 64)
			return r, nil
		}
		if len(f) == 3 && f[0] == "FLUID" {
			t, _ := strconv.ParseFloat(f[1], 64)
			fl, _ := strconv.ParseFloat(f[2], 64)
			r.fluid = fmt.Sprintf("%.4fs, fluid model %.4fs (%+.2f%%)", t, fl, 100*(t-fl)/fl)
		}
	}
	return r, fmt.Errorf("no RESULT line in:\n%s", out)
}

// best runs f k times and keeps the fastest run: on a machine doing other
// things the fastest is the one least disturbed.
func best(k int, f func() (result, error)) (result, error) {
	var b result
	for i := range max(k, 1) {
		r, err := f()
		if err != nil {
			return r, err
		}
		if i == 0 || r.real < b.real {
			b = r
		}
	}
	return b, nil
}

func runHere(src string, args []string) (result, error) {
	var out, errb bytes.Buffer
	argv := append([]string{"bench.star"}, args...)
	in := lang.New(lang.Options{
		Stdout:      &out,
		Stderr:      &errb,
		Argv:        argv,
		Predeclared: modules.Universe(modules.Env{Argv: argv}),
	})
	start := time.Now()
	_, err := in.ExecFile("bench.star", src)
	real := time.Since(start)
	in.Close()
	if err != nil {
		return result{}, fmt.Errorf("%s\n%s", lang.FormatError(err), errb.String())
	}
	return parse(out.String(), real)
}

func runBinary(bin, src string, args []string) (result, error) {
	dir, err := os.MkdirTemp("", "benchlab")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bench.star")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		return result{}, err
	}
	start := time.Now()
	out, err := exec.Command(bin, append([]string{"run", path}, args...)...).CombinedOutput()
	real := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("%v\n%s", err, out)
	}
	return parse(string(out), real)
}
