package torrent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// freePort asks the OS stack for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := stack.OS.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// transmission runs transmission-cli on torrentFile with its config in a
// fresh folder: DHT, PEX, LPD, uTP and port forwarding off, bound to
// 127.0.0.1, plaintext connections preferred (netplay has no MSE).
func transmission(t *testing.T, torrentFile, dir string) {
	t.Helper()
	bin := peertest.Need(t, "transmission-cli")
	cfg := filepath.Join(dir, "config")
	os.MkdirAll(cfg, 0o755)
	port := freePort(t)
	settings := map[string]any{
		"dht-enabled": false, "pex-enabled": false, "lpd-enabled": false, "utp-enabled": false,
		"port-forwarding-enabled": false, "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
		"peer-port": port, "encryption": 0, "rename-partial-files": true, "start-added-torrents": true,
		"speed-limit-up-enabled": false, "speed-limit-down-enabled": false, "message-level": 2,
	}
	b, _ := json.Marshal(settings)
	if err := os.WriteFile(filepath.Join(cfg, "settings.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-g", cfg, "-w", dir, "-p", strconv.Itoa(port), "-M", "-et", torrentFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() // only the process this test started, by its PID
		cmd.Wait()
		if t.Failed() {
			t.Logf("transmission-cli output:\n%s", lastLines(out.String(), 30))
		}
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// transmission-cli downloads from a netplay seeder found through the
// netplay tracker. Transmission 3.00 does not connect out to 127.x peers,
// so the seeder connects to it when its next announce lists it.
func TestTransmissionDownloadsFromNetplay(t *testing.T) {
	peertest.Need(t, "transmission-cli")
	tr, err := NewTracker(stack.OS, "127.0.0.1:0", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	data := content(3<<20+12345, 11)
	meta, _ := Create(data, "from-netplay.bin", 256<<10, tr.URL())
	dir := t.TempDir()
	tf := filepath.Join(dir, "x.torrent")
	os.WriteFile(tf, meta.Encode(), 0o644)
	seeder := newPeer(t, Config{Meta: meta, Data: data})
	seeder.Start()
	transmission(t, tf, dir)
	target := filepath.Join(dir, "from-netplay.bin")
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if got, err := os.ReadFile(target); err == nil && bytes.Equal(got, data) {
			if seeder.Stats().Uploaded < int64(len(data)) {
				t.Fatalf("transmission has the file but the seeder uploaded only %d bytes", seeder.Stats().Uploaded)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("transmission did not download the file (seeder stats %+v)", seeder.Stats())
}

// A netplay leecher downloads from transmission-cli seeding.
func TestNetplayDownloadsFromTransmission(t *testing.T) {
	peertest.Need(t, "transmission-cli")
	tr, err := NewTracker(stack.OS, "127.0.0.1:0", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	data := content(2<<20+777, 12)
	meta, _ := Create(data, "from-transmission.bin", 64<<10, tr.URL())
	dir := t.TempDir()
	tf := filepath.Join(dir, "x.torrent")
	os.WriteFile(tf, meta.Encode(), 0o644)
	os.WriteFile(filepath.Join(dir, "from-transmission.bin"), data, 0o644)
	transmission(t, tf, dir)
	// Wait until transmission has checked its data and announced as a seeder.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ps := tr.Peers(meta.InfoHash)
		if len(ps) == 1 && ps[0].Left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transmission did not announce as a seeder: %+v", ps)
		}
		time.Sleep(50 * time.Millisecond)
	}
	l := newPeer(t, Config{Meta: meta})
	l.Start()
	waitAll(t, l)
	if !bytes.Equal(l.Data(), data) {
		t.Fatal("different bytes")
	}
	s := l.Stats()
	if len(s.Peers) != 1 || !strings.HasPrefix(s.Peers[0].ID, "-TR") {
		t.Fatalf("downloaded from %+v, want transmission (-TR…)", s.Peers)
	}
}

// anacrolixPeer builds interop/anacrolix (github.com/anacrolix/torrent in
// its own Go module, which `go test ./...` does not enter) once per run.
func anacrolixPeer(t *testing.T) string {
	t.Helper()
	goBin := peertest.Need(t, "go")
	anacrolixOnce.Do(func() {
		out := filepath.Join(os.TempDir(), "netplay-anacrolix-peer")
		cmd := exec.Command(goBin, "build", "-C", "../../interop/anacrolix", "-o", out, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			anacrolixErr = fmt.Errorf("building interop/anacrolix: %v\n%s", err, b)
			return
		}
		anacrolixBin = out
	})
	if anacrolixErr != nil {
		t.Fatal(anacrolixErr)
	}
	return anacrolixBin
}

var (
	anacrolixOnce sync.Once
	anacrolixBin  string
	anacrolixErr  error
)

// startAnacrolix runs the anacrolix peer and returns its port and a
// channel that yields its "complete" line.
func startAnacrolix(t *testing.T, args ...string) (int, <-chan string) {
	t.Helper()
	cmd := exec.Command(anacrolixPeer(t), args...)
	stdout, _ := cmd.StdoutPipe()
	stdin, _ := cmd.StdinPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill() // the PID this test started
		cmd.Wait()
		if t.Failed() {
			t.Logf("anacrolix peer stderr:\n%s", lastLines(stderr.String(), 30))
		}
	})
	sc := bufio.NewScanner(stdout)
	port := 0
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "port %d", &port); err == nil {
			break
		}
	}
	if port == 0 {
		t.Fatal("anacrolix peer did not say its port")
	}
	done := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "complete") {
				done <- sc.Text()
				return
			}
		}
		close(done)
	}()
	return port, done
}

// A netplay leecher downloads from anacrolix/torrent seeding, found
// through the netplay tracker.
func TestNetplayDownloadsFromAnacrolix(t *testing.T) {
	tr, err := NewTracker(stack.OS, "127.0.0.1:0", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	data := content(3<<20+99, 13)
	meta, _ := Create(data, "from-anacrolix.bin", 256<<10, tr.URL())
	dir := t.TempDir()
	tf := filepath.Join(dir, "x.torrent")
	os.WriteFile(tf, meta.Encode(), 0o644)
	os.WriteFile(filepath.Join(dir, "from-anacrolix.bin"), data, 0o644)
	_, done := startAnacrolix(t, "-torrent", tf, "-dir", dir, "-seed")
	select {
	case line := <-done:
		if line == "" {
			t.Fatal("anacrolix peer ended before checking its data")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("anacrolix peer did not find its data complete")
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(tr.Peers(meta.InfoHash)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("anacrolix did not announce")
		}
		time.Sleep(50 * time.Millisecond)
	}
	l := newPeer(t, Config{Meta: meta})
	l.Start()
	waitAll(t, l)
	if !bytes.Equal(l.Data(), data) {
		t.Fatal("different bytes")
	}
}

// anacrolix/torrent downloads from a netplay seeder.
func TestAnacrolixDownloadsFromNetplay(t *testing.T) {
	data := content(3<<20+5, 14)
	meta, _ := Create(data, "from-netplay.bin", 256<<10, "")
	dir := t.TempDir()
	tf := filepath.Join(dir, "x.torrent")
	os.WriteFile(tf, meta.Encode(), 0o644)
	seeder := newPeer(t, Config{Meta: meta, Data: data})
	seeder.Start()
	_, done := startAnacrolix(t, "-torrent", tf, "-dir", dir, "-peer", seeder.Addr(), "-no-trackers")
	select {
	case line := <-done:
		if line == "" {
			t.Fatal("anacrolix peer ended without completing")
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("anacrolix did not complete (seeder stats %+v)", seeder.Stats())
	}
	got, err := os.ReadFile(filepath.Join(dir, "from-netplay.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("anacrolix has different bytes (%v)", err)
	}
}
