// Command socket compares, in one run, the round trips per second of the
// course's UDP and TCP uppercase programs written in netplay, in Python
// (the originals) and in bare Go (client and server, each its own process,
// as the others), and netplay's start-up time against Python's. The
// programs take turns in rounds and each one's rate is the median of its
// rounds, so that other work on the machine weighs on all of them alike.
// All traffic stays on 127.0.0.1; every run is bounded.
//
//	go run ./bench/socket [-n 20000] [-rounds 5] [-pin] [-netplay PATH]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	// The bare Go programs run as separate processes, like the others:
	// this binary, re-executed as "-go-server udp PORT" or
	// "-go-client udp HOST PORT N".
	if len(os.Args) > 2 && os.Args[1] == "-go-server" {
		goServer(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "-go-client" {
		n, _ := strconv.Atoi(os.Args[5])
		fmt.Println(goClient(os.Args[2], os.Args[3]+":"+os.Args[4], n))
		return
	}
	n := flag.Int("n", 20000, "round trips per program and protocol")
	rounds := flag.Int("rounds", 5, "rounds the round trips are split into, the programs taking turns")
	starts := flag.Int("starts", 20, "start-ups timed per program")
	npPath := flag.String("netplay", "", "netplay binary (default: build it)")
	flag.BoolVar(&pin, "pin", false, "run each server on CPU 0 and each client on CPU 1 (taskset), for steadier numbers")
	flag.Parse()

	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	root := filepath.Join(dir, "..", "..")
	np := *npPath
	if np == "" {
		np = filepath.Join(os.TempDir(), "netplay-bench")
		build := exec.Command("go", "build", "-o", np, "./cmd/netplay")
		build.Dir = root
		build.Stderr = os.Stderr
		must(build.Run())
	}
	// The real interpreter, not a version manager's shim script, so that
	// start-up compares the interpreters themselves.
	pyExe, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	must(err)
	py := strings.TrimSpace(string(pyExe))

	*rounds = max(1, min(*rounds, *n))
	self, err := os.Executable()
	must(err)
	fmt.Printf("%d round trips each, in %d rounds, loopback, %d CPUs, pinned: %v\n\n", *n, *rounds, runtime.NumCPU(), pin)
	fmt.Printf("%-5s %14s %14s %14s %10s %10s\n", "", "netplay rt/s", "python rt/s", "go rt/s", "np/py", "np/go")
	for _, proto := range []string{"udp", "tcp"} {
		up := strings.ToUpper(proto)
		// The programs take turns, a round each, so that a load that comes
		// and goes on a shared machine falls on all of them alike; each
		// one's rate is the median of its rounds.
		var nps, pys, gos []float64
		for r := 0; r < *rounds; r++ {
			k := *n / *rounds
			nps = append(nps, measure(proto, []string{np, "run", filepath.Join(root, "scripts", proto+"_server.star")},
				[]string{np, "run", filepath.Join(dir, proto+"_loop.star")}, k))
			pys = append(pys, measure(proto, []string{py, filepath.Join(root, "testdata", "python", up+"Server.py")},
				[]string{py, filepath.Join(dir, proto+"_loop.py")}, k))
			gos = append(gos, measure(proto, []string{self, "-go-server", proto}, []string{self, "-go-client", proto}, k))
		}
		npRate, pyRate, goRate := median(nps), median(pys), median(gos)
		fmt.Printf("%-5s %14.0f %14.0f %14.0f %9.2fx %9.2fx\n", up, npRate, pyRate, goRate, npRate/pyRate, npRate/goRate)
	}

	empty := filepath.Join(os.TempDir(), "netplay-bench-empty.star")
	must(os.WriteFile(empty, nil, 0o644))
	npStart := medianStart(*starts, np, "run", empty)
	pyStart := medianStart(*starts, py, "-c", "pass")
	fmt.Printf("\nstart-up (median of %d): netplay run empty.star %.1f ms, python3 -c pass %.1f ms, ratio %.2f\n",
		*starts, ms(npStart), ms(pyStart), float64(npStart)/float64(pyStart))
}

// pin runs servers and clients on separate CPUs, so the kernel's placement
// of two busy processes does not decide the result.
var pin bool

func pinned(cpu string, argv []string) []string {
	if !pin {
		return argv
	}
	return append([]string{"taskset", "-c", cpu}, argv...)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func freePort(proto string) int {
	if proto == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		must(err)
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	must(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// measure starts server (with a port argument), waits until it is ready,
// runs client (host, port, n) and returns the rate it prints. The server is
// ended by its own pid.
func measure(proto string, server, client []string, n int) float64 {
	port := strconv.Itoa(freePort(proto))
	server, client = pinned("0", server), pinned("1", client)
	srv := exec.Command(server[0], append(server[1:], port)...)
	out, err := srv.StdoutPipe()
	must(err)
	srv.Stderr = os.Stderr
	must(srv.Start())
	defer func() { srv.Process.Kill(); srv.Wait() }()
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil || !strings.Contains(line, "ready") {
		must(fmt.Errorf("%v did not start: %q %v", server, line, err))
	}
	go io.Copy(io.Discard, r)
	cl := exec.Command(client[0], append(client[1:], "127.0.0.1", port, strconv.Itoa(n))...)
	cl.Stderr = os.Stderr
	res, err := cl.Output()
	must(err)
	rate, err := strconv.ParseFloat(strings.TrimSpace(string(res)), 64)
	must(err)
	return rate
}

// goServer is the uppercase server in bare Go.
func goServer(proto, port string) {
	addr := "127.0.0.1:" + port
	if proto == "udp" {
		pc, err := net.ListenPacket("udp4", addr)
		must(err)
		fmt.Println("The server is ready to receive")
		b := make([]byte, 2048)
		for {
			k, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(strings.ToUpper(string(b[:k]))), from)
		}
	}
	ln, err := net.Listen("tcp4", addr)
	must(err)
	fmt.Println("The server is ready to receive")
	b := make([]byte, 1024)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		k, _ := c.Read(b)
		c.Write([]byte(strings.ToUpper(string(b[:k]))))
		c.Close()
	}
}

// goClient is the round-trip loop in bare Go; it returns the rate.
func goClient(proto, addr string, n int) float64 {
	msg := []byte("hello world")
	buf := make([]byte, 2048)
	start := time.Now()
	if proto == "udp" {
		c, err := net.Dial("udp4", addr)
		must(err)
		defer c.Close()
		for i := 0; i < n; i++ {
			c.Write(msg)
			_, err := c.Read(buf)
			must(err)
		}
	} else {
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp4", addr)
			must(err)
			c.Write(msg)
			_, err = c.Read(buf)
			must(err)
			c.Close()
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

func medianStart(runs int, name string, args ...string) time.Duration {
	var ds []time.Duration
	for i := 0; i < runs; i++ {
		start := time.Now()
		must(exec.Command(name, args...).Run())
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
