// Command torrent measures a netplay leecher's download rate from a
// netplay seeder on loopback beside a real client's, anacrolix/torrent
// (built from interop/anacrolix, a separate Go module), leeching from the
// same seeder in the same run. The bar: netplay at least 50% of anacrolix.
//
//	go run ./bench/torrent [-size 64MiB-in-bytes] [-rounds 2]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
	"github.com/netplay-dev/netplay/runtime/torrent"
)

func main() {
	size := flag.Int("size", 64<<20, "bytes to download")
	rounds := flag.Int("rounds", 2, "downloads by each client (the best counts)")
	flag.Parse()
	if err := run(*size, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench/torrent:", err)
		os.Exit(1)
	}
}

func run(size, rounds int) error {
	dir, err := os.MkdirTemp("", "bench-torrent")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	peerBin := filepath.Join(dir, "anacrolix-peer")
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	build := exec.Command("go", "build", "-C", filepath.Join(root, "interop", "anacrolix"), "-o", peerBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the anacrolix peer: %v\n%s", err, out)
	}

	data := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	meta, err := torrent.Create(data, "bench.bin", 256<<10, "")
	if err != nil {
		return err
	}
	tf := filepath.Join(dir, "bench.torrent")
	if err := os.WriteFile(tf, meta.Encode(), 0o644); err != nil {
		return err
	}
	seeder, err := torrent.NewPeer(torrent.Config{Meta: meta, Data: data, Stack: stack.OS, Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer seeder.Stop()
	seeder.Start()

	var best [2]float64
	for round := range rounds {
		// netplay
		l, err := torrent.NewPeer(torrent.Config{Meta: meta, Stack: stack.OS, Listen: "127.0.0.1:0"})
		if err != nil {
			return err
		}
		start := time.Now()
		l.Start()
		l.Connect(seeder.Addr())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err = l.Wait(ctx)
		cancel()
		secs := time.Since(start).Seconds()
		ok := err == nil && bytes.Equal(l.Data(), data)
		l.Stop()
		if !ok {
			return fmt.Errorf("netplay leecher failed: %v", err)
		}
		best[0] = max(best[0], float64(size)/secs)

		// anacrolix
		secs, err = anacrolix(peerBin, tf, filepath.Join(dir, fmt.Sprintf("a%d", round)), seeder.Addr())
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("a%d", round), "bench.bin"))
		if err != nil || !bytes.Equal(got, data) {
			return fmt.Errorf("anacrolix leecher has different bytes (%v)", err)
		}
		best[1] = max(best[1], float64(size)/secs)
	}
	fmt.Printf("download of %d bytes from a netplay seeder on loopback, best of %d:\n", size, rounds)
	fmt.Printf("  netplay leecher:   %8.1f MB/s\n", best[0]/1e6)
	fmt.Printf("  anacrolix leecher: %8.1f MB/s\n", best[1]/1e6)
	fmt.Printf("netplay / anacrolix: %.2f (bar: 0.50)\n", best[0]/best[1])
	return nil
}

// anacrolix downloads the torrent into dir from the peer at addr with the
// anacrolix peer program and returns the seconds it reported.
func anacrolix(bin, torrentFile, dir, addr string) (float64, error) {
	os.MkdirAll(dir, 0o755)
	cmd := exec.Command(bin, "-torrent", torrentFile, "-dir", dir, "-peer", addr, "-no-trackers")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer cmd.Wait()
	timer := time.AfterFunc(5*time.Minute, func() { cmd.Process.Kill() }) // the PID we started
	defer timer.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var secs float64
		var n int64
		if _, err := fmt.Sscanf(sc.Text(), "complete %f %d", &secs, &n); err == nil {
			return secs, nil
		}
	}
	return 0, fmt.Errorf("anacrolix peer ended without completing: %s", strings.TrimSpace(stderr.String()))
}

// moduleRoot is the folder of netplay's go.mod, above the working directory.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/netplay-dev/netplay\n") {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("netplay's go.mod not found above the working directory")
		}
		d = parent
	}
}
