package torrent

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
