// Command http benchmarks netplay's HTTP server with a Starlark handler
// against Python's http.server and a bare Go net/http handler, with wrk on
// loopback, in one run, and prints requests/s and ratios.
//
//	go run ./bench/http [-d 5s] [-c 20] [-t 2]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"go.starlark.net/starlark"
)

var (
	dur     = flag.Duration("d", 5*time.Second, "wrk duration per server")
	conns   = flag.Int("c", 20, "wrk connections")
	threads = flag.Int("t", 2, "wrk threads")
)

func main() {
	flag.Parse()
	if _, err := exec.LookPath("wrk"); err != nil {
		fail("wrk is required: %v", err)
	}

	// netplay: a hello handler written in Starlark
	in := lang.New(lang.Options{Stdout: os.Stdout, Stderr: os.Stderr, Predeclared: modules.Universe(modules.Env{})})
	defer in.Close()
	g, err := in.ExecFile("bench.star", `
def hello(req):
    return "hello\n"
srv = http.serve("127.0.0.1:0", handler=hello)
`)
	if err != nil {
		fail("netplay server: %s", lang.FormatError(err))
	}
	u, _ := g["srv"].(starlark.HasAttrs).Attr("url")
	netplayURL := string(u.(starlark.String)) + "/"

	// bare Go net/http
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	go nethttp.Serve(ln, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("hello\n"))
	}))
	goURL := "http://" + ln.Addr().String() + "/"

	// Python's http.server serving a small file
	dir, _ := os.MkdirTemp("", "npbench")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello\n"), 0o644)
	port := freePort()
	py := exec.Command("python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, strconv.Itoa(port))
	if err := py.Start(); err != nil {
		fail("python3: %v", err)
	}
	defer func() { py.Process.Kill(); py.Wait() }()
	waitPort(port)
	pyURL := fmt.Sprintf("http://127.0.0.1:%d/hello.txt", port)

	fmt.Printf("wrk -t%d -c%d -d%s on loopback\n", *threads, *conns, *dur)
	star := bench("netplay, Starlark handler", netplayURL)
	pyr := bench("python3 -m http.server", pyURL)
	gor := bench("bare Go net/http", goURL)
	fmt.Println()
	fmt.Printf("netplay / python: %.1fx (bar: >= 10x)\n", star/pyr)
	fmt.Printf("netplay / bare Go: %.0f%% (bar: >= 40%%)\n", 100*star/gor)
}

var rpsRE = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

func bench(name, url string) float64 {
	cmd := exec.Command("wrk", "-t", strconv.Itoa(*threads), "-c", strconv.Itoa(*conns), "-d", dur.String(), url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		fail("wrk %s: %v\n%s", url, err, out.String())
	}
	m := rpsRE.FindStringSubmatch(out.String())
	if m == nil {
		fail("wrk output without Requests/sec:\n%s", out.String())
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	errs := regexp.MustCompile(`(?m)^\s*(Non-2xx.*|Socket errors.*)$`).FindAllString(out.String(), -1)
	line := fmt.Sprintf("%-28s %10.0f requests/s", name, rps)
	if len(errs) > 0 {
		line += "  (wrk: " + strings.Join(errs, "; ") + ")"
	}
	fmt.Println(line)
	return rps
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitPort(port int) {
	for i := 0; i < 1200; i++ { // 30 s: python3 starts slowly on a loaded machine
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	fail("python http.server did not start")
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/http: "+format+"\n", args...)
	os.Exit(1)
}
