package dash

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/runtime/http"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// dashJS finds dash.js as .ci/run installs it (npm dashjs, pinned), or at
// $NETPLAY_DASHJS; missing, the test fails in CI and skips elsewhere.
func dashJS(t *testing.T) string {
	t.Helper()
	p := os.Getenv("NETPLAY_DASHJS")
	if p == "" {
		p, _ = filepath.Abs("../../.ci/npm/node_modules/dashjs/dist/dash.all.min.js")
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("dash.js is needed for this test and is not installed (.ci/run installs it): %v", err)
		}
		t.Skipf("dash.js not installed at %s (.ci/run installs it)", p)
	}
	return p
}

const playerPage = `<!doctype html>
<html><body>
<video id="v" muted autoplay playsinline></video>
<script src="/dash.all.min.js"></script>
<script>
function report(ev) {
  fetch("/report", {method: "POST", body: JSON.stringify(ev)});
}
const player = dashjs.MediaPlayer().create();
player.updateSettings({streaming: {buffer: {stableBufferTime: 6, bufferTimeAtTopQuality: 6, bufferTimeAtTopQualityLongForm: 6}}});
player.on(dashjs.MediaPlayer.events.FRAGMENT_LOADING_COMPLETED, function (e) {
  if (e.request && e.request.mediaType === "video" && e.request.type === "MediaSegment") {
    report({event: "fragment", index: e.request.index, quality: e.request.quality});
  }
});
player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, function (e) {
  if (e.mediaType === "video") report({event: "rendered", quality: e.newQuality});
});
player.on(dashjs.MediaPlayer.events.ERROR, function (e) {
  report({event: "error", error: JSON.stringify(e.error || e)});
});
player.initialize(document.getElementById("v"), MPD_URL, true);
</script></body></html>`

type playerEvent struct {
	Event   string `json:"event"`
	Index   int    `json:"index"`
	Quality int    `json:"quality"`
	Error   string `json:"error"`
	at      time.Time
}

// TestDashJSPlaysAndFollowsBandwidth has a real player, dash.js in headless
// Chromium, play segments made by Encode (ffmpeg) and served by Serve,
// paced at 4 Mbps. Once it plays the top quality, the server is paced
// down to 300 kbps: dash.js's fragment requests must switch down to the
// lowest quality; back at 4 Mbps, they must switch up again. Chromium
// talks only to loopback.
func TestDashJSPlaysAndFollowsBandwidth(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a minute of video in real time")
	}
	ffmpeg := peertest.Need(t, "ffmpeg")
	chromium := peertest.Need(t, "chromium")
	js := dashJS(t)
	script, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	v, err := Encode(context.Background(), EncodeOptions{Dir: filepath.Join(dir, "video"), Bitrates: []float64{150e3, 500e3, 1500e3},
		Segment: 2, Duration: 150, Width: 160, Height: 90, FPS: 12, FFmpeg: ffmpeg})
	if err != nil {
		t.Fatal(err)
	}
	// The server is paced all along, never left at loopback speed: dash.js
	// takes a video segment that arrives in under 50 ms for a cached
	// response (streaming.cacheLoadThresholds) and leaves it out of its
	// throughput history, so after an unpaced recovery it would keep the
	// slow samples of the drop and stay at the lowest quality.
	const rate, dropRate = 4e6, 300e3
	srv, err := Serve(context.Background(), stack.OS, "127.0.0.1:0", v, ServeOptions{Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	var mu sync.Mutex
	var events []playerEvent
	page := bytes.ReplaceAll([]byte(playerPage), []byte("MPD_URL"), []byte(fmt.Sprintf("%q", srv.URL())))
	web, err := http.Serve(context.Background(), stack.OS, "127.0.0.1:0", http.ServerConfig{Handler: func(r *http.InRequest) *http.Reply {
		switch r.Path {
		case "/":
			return &http.Reply{Status: 200, Header: http.Header{{Name: "Content-Type", Value: "text/html"}}, Body: page}
		case "/dash.all.min.js":
			return &http.Reply{Status: 200, Header: http.Header{{Name: "Content-Type", Value: "text/javascript"}}, Body: script}
		case "/report":
			var e playerEvent
			if json.Unmarshal(r.Body, &e) == nil {
				e.at = time.Now()
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}
			return &http.Reply{Status: 204}
		}
		return &http.Reply{Status: 404}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer web.Stop()

	// Only loopback: every other name fails to resolve, no background
	// services, a throw-away profile.
	cmd := exec.Command(chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio",
		"--autoplay-policy=no-user-gesture-required", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-default-apps", "--disable-extensions", "--no-proxy-server",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--remote-debugging-port=0", web.URL()+"/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var chromeOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &chromeOut, &chromeOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the browser's own process group
		cmd.Wait()
	}()

	// waitFor waits for a fragment after since that satisfies ok.
	waitFor := func(what string, since time.Time, limit time.Duration, ok func(playerEvent) bool) playerEvent {
		t.Helper()
		deadline := time.Now().Add(limit)
		for time.Now().Before(deadline) {
			mu.Lock()
			for _, e := range events {
				if e.Event == "error" {
					mu.Unlock()
					t.Fatalf("dash.js reported an error: %s", e.Error)
				}
				if e.Event == "fragment" && e.at.After(since) && ok(e) {
					mu.Unlock()
					return e
				}
			}
			mu.Unlock()
			time.Sleep(100 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("dash.js: no %s within %s; events: %+v\nchromium: %s", what, limit, events, chromeOut.String())
		return playerEvent{}
	}
	top := len(v.Bitrates) - 1
	start := time.Now()
	first := waitFor("fragment", start, 60*time.Second, func(playerEvent) bool { return true })
	t.Logf("first fragment: %+v", first)
	up := waitFor("fragment at the top quality", start, 60*time.Second, func(e playerEvent) bool { return e.Quality == top })
	t.Logf("top quality reached at segment %d", up.Index)

	// The bandwidth drops below the top bitrate.
	srv.SetRate(dropRate)
	drop := time.Now()
	down := waitFor("fragment below the top quality after the drop", drop, 60*time.Second, func(e playerEvent) bool { return e.Quality < top })
	t.Logf("after the drop to %.0f kbps: segment %d at quality %d (%.1f s)", dropRate/1e3, down.Index, down.Quality, time.Since(drop).Seconds())
	low := waitFor("fragment at the lowest quality after the drop", drop, 60*time.Second, func(e playerEvent) bool { return e.Quality == 0 })
	t.Logf("and segment %d at the lowest quality (%.1f s)", low.Index, time.Since(drop).Seconds())

	// And comes back: dash.js must climb again.
	srv.SetRate(rate)
	recovered := time.Now()
	again := waitFor("fragment at the top quality after the recovery", recovered, 60*time.Second, func(e playerEvent) bool {
		return e.Quality == top && e.Index > low.Index
	})
	t.Logf("after the recovery to %.0f kbps: segment %d at the top quality again (%.1f s)", rate/1e3, again.Index, time.Since(recovered).Seconds())
	mu.Lock()
	var qualities []int
	for _, e := range events {
		if e.Event == "fragment" {
			qualities = append(qualities, e.Quality)
		}
	}
	mu.Unlock()
	t.Logf("qualities of the fragments, in order: %v", qualities)

	// dash.js fetched what it reported from netplay's server.
	served := map[string]bool{}
	for _, r := range srv.Log() {
		if r.Status == 200 {
			served[r.Path] = true
		}
	}
	if p := fmt.Sprintf("/%d/%d.m4s", down.Quality, down.Index+1); !served[p] {
		t.Errorf("dash.js reported segment %d at quality %d, but the server never served %s", down.Index, down.Quality, p)
	}
}
