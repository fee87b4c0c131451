package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"github.com/netplay-dev/netplay/internal/peertest"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run the netplay binary as users do, against real peers.

var build struct {
	once sync.Once
	path string
	err  error
}

// netplayBin builds the command once per test run.
func netplayBin(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "netplay-bin")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "netplay")
		out, err := exec.Command("go", "build", "-o", build.path, ".").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// freePort returns a port that was free a moment ago on 127.0.0.1.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer starts a long-running server process and waits until it prints
// that it is ready. It is ended, by its own pid, when the test ends.
func startServer(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "ready to receive") {
				ready <- true
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s %v did not become ready; stderr:\n%s", name, args, stderr.String())
	}
}

// runClient runs a client process with stdin and returns its output.
func runClient(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestSeedPrograms runs the course's UDP and TCP programs ported to netplay
// against each other and against the Python originals, both ways.
func TestSeedPrograms(t *testing.T) {
	np := netplayBin(t)
	root := repoRoot(t)
	py := peertest.Need(t, "python3")
	star := func(name string) string { return filepath.Join(root, "scripts", name) }
	pyfile := func(name string) string { return filepath.Join(root, "testdata", "python", name) }
	type prog struct{ bin, file string }
	npUDPServer, npUDPClient := prog{np, star("udp_server.star")}, prog{np, star("udp_client.star")}
	npTCPServer, npTCPClient := prog{np, star("tcp_server.star")}, prog{np, star("tcp_client.star")}
	npConcurrent := prog{np, star("tcp_concurrent_server.star")}
	pyUDPServer, pyUDPClient := prog{py, pyfile("UDPServer.py")}, prog{py, pyfile("UDPClient.py")}
	pyTCPServer, pyTCPClient := prog{py, pyfile("TCPServer.py")}, prog{py, pyfile("TCPClient.py")}
	run := func(p prog, args ...string) []string {
		if p.bin == np {
			return append([]string{"run", p.file}, args...)
		}
		return append([]string{p.file}, args...)
	}
	cases := []struct {
		name           string
		network        string
		server, client prog
		want           string
	}{
		{"udp netplay to netplay", "udp", npUDPServer, npUDPClient, "HELLO, UDP WORLD"},
		{"udp netplay client to python server", "udp", pyUDPServer, npUDPClient, "HELLO, UDP WORLD"},
		{"udp python client to netplay server", "udp", npUDPServer, pyUDPClient, "HELLO, UDP WORLD"},
		{"tcp netplay to netplay", "tcp", npTCPServer, npTCPClient, "From Server: HELLO, UDP WORLD"},
		{"tcp netplay client to python server", "tcp", pyTCPServer, npTCPClient, "From Server: HELLO, UDP WORLD"},
		{"tcp python client to netplay server", "tcp", npTCPServer, pyTCPClient, "From Server: HELLO, UDP WORLD"},
		{"tcp python client to netplay concurrent server", "tcp", npConcurrent, pyTCPClient, "From Server: HELLO, UDP WORLD"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := fmt.Sprint(freePort(t, c.network))
			startServer(t, c.server.bin, run(c.server, port)...)
			for i := 0; i < 3; i++ { // the server keeps serving
				out := runClient(t, "hello, udp world\n", c.client.bin, run(c.client, "127.0.0.1", port)...)
				if !strings.Contains(out, c.want) {
					t.Fatalf("client printed %q, want %q", out, c.want)
				}
				if !strings.Contains(out, "Input lowercase sentence:") {
					t.Errorf("client did not prompt: %q", out)
				}
			}
		})
	}
}

// TestConcurrentServerFortyClients holds 40 connections open at once to the
// concurrent server and talks on all of them interleaved.
func TestConcurrentServerFortyClients(t *testing.T) {
	np := netplayBin(t)
	port := freePort(t, "tcp")
	startServer(t, np, "run", filepath.Join(repoRoot(t), "scripts", "tcp_concurrent_server.star"), fmt.Sprint(port))
	const clients = 40
	conns := make([]net.Conn, clients)
	readers := make([]*bufio.Reader, clients)
	for i := range conns {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		conns[i], readers[i] = c, bufio.NewReader(c)
	}
	for round := 0; round < 3; round++ {
		for i, c := range conns {
			fmt.Fprintf(c, "client %d round %d\n", i, round)
		}
		for i, r := range readers {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("client %d round %d: %v", i, round, err)
			}
			if want := fmt.Sprintf("CLIENT %d ROUND %d\n", i, round); line != want {
				t.Fatalf("client %d got %q, want %q", i, line, want)
			}
		}
	}
}

// noArgs lists the scripts that are not run alone by TestEveryScript,
// with the test that runs them.
var notStandalone = map[string]string{
	"udp_server.star":            "TestSeedPrograms",
	"udp_client.star":            "TestSeedPrograms",
	"tcp_server.star":            "TestSeedPrograms",
	"tcp_client.star":            "TestSeedPrograms",
	"tcp_concurrent_server.star": "TestConcurrentServerFortyClients",
}

// testArgs are the arguments TestEveryScript gives the scripts whose
// default run takes too long for a test: the worked example's default
// 1/10 scale moves 2 GB through the lab (18 s of real time on the idle
// 2-core machine, several times that while the rest of the suite runs
// beside it), 1/100 moves 200 MB.
var testArgs = map[string][]string{
	"torrent_worked_example.star": {"100"},
}

// TestEveryScript runs each script in scripts/ as a user would, with no
// arguments (but testArgs): each must finish by itself and succeed.
func TestEveryScript(t *testing.T) {
	np := netplayBin(t)
	scripts, err := filepath.Glob(filepath.Join(repoRoot(t), "scripts", "*.star"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	for _, s := range scripts {
		name := filepath.Base(s)
		if by, ok := notStandalone[name]; ok {
			t.Logf("%s is run by %s", name, by)
			continue
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, np, append([]string{"run", "--seed", "1", s}, testArgs[name]...)...)
			cmd.Dir = filepath.Dir(s)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("netplay run %s: %v\n%s", name, err, out)
			}
			if len(bytes.TrimSpace(out)) == 0 {
				t.Errorf("%s printed nothing", name)
			}
		})
	}
}
