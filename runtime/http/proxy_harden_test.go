package http

import (
	"bufio"
	"context"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// startProxy runs a caching proxy keeping at most maxBytes on loopback.
func startProxy(t *testing.T, maxBytes int64) (*Proxy, *Server) {
	t.Helper()
	p := NewProxy(stack.OS, true, maxBytes, 30*time.Second)
	s, err := Serve(context.Background(), stack.OS, "127.0.0.1:0", ServerConfig{Handler: p.Handle, KeepAlive: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); p.Close() })
	return p, s
}

func TestProxyAnswersAHalfClosedClient(t *testing.T) {
	origin, err := Serve(context.Background(), stack.OS, "127.0.0.1:0", ServerConfig{Handler: func(r *InRequest) *Reply {
		return TextReply(200, "hello\n")
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer origin.Close()
	_, proxy := startProxy(t, 1<<20)
	for _, path := range []string{"/cached", "/again"} {
		c, err := net.Dial("tcp", proxy.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		u := origin.URL() + path
		host := strings.TrimPrefix(origin.URL(), "http://")
		io.WriteString(c, "GET "+u+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		// nc -q / shutdown(SHUT_WR): the request is sent, nothing follows.
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := nethttp.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != 200 || string(body) != "hello\n" {
			t.Errorf("%s: got %d %q, want 200 hello", path, resp.StatusCode, body)
		}
	}
}

// zeros is an origin body of n bytes made as it is sent, so that the only
// copies of it that could pile up are the proxy's.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

func TestProxyStreamsLargeBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MB")
	}
	const size, clients = 32 << 20, 8
	// A plain Go origin, so that the proxy's heap is all the test measures.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &nethttp.Server{Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if strings.HasPrefix(r.URL.Path, "/cacheable") {
			w.Header().Set("Cache-Control", "max-age=60")
		}
		if !strings.HasSuffix(r.URL.Path, "/chunked") {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		io.Copy(w, &zeros{size})
	})}
	go hs.Serve(ln)
	defer hs.Close()

	p, proxy := startProxy(t, 1<<20) // max_bytes: 1 MiB
	pu, _ := url.Parse("http://" + proxy.Addr().String())
	client := &nethttp.Client{Transport: &nethttp.Transport{Proxy: nethttp.ProxyURL(pu)}}

	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	runtime.GC()
	var wg sync.WaitGroup
	paths := []string{"/plain", "/cacheable", "/plain/chunked", "/cacheable/chunked"}
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := paths[i%len(paths)] + "?i=" + strconv.Itoa(i)
			if strings.HasSuffix(paths[i%len(paths)], "chunked") {
				path = paths[i%len(paths)]
			}
			resp, err := client.Get("http://" + ln.Addr().String() + path)
			if err != nil {
				t.Error(err)
				return
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || n != size || resp.StatusCode != 200 {
				t.Errorf("%s: %d, %d bytes, %v", path, resp.StatusCode, n, err)
			}
		}()
	}
	wg.Wait()
	close(done)
	client.CloseIdleConnections()
	st := p.Stats()
	if st.Stored > 1<<20 || st.BytesFromOrigin != clients*size || st.BytesToClients != clients*size {
		t.Errorf("stats %+v: want at most 1 MiB stored and %d bytes each way", st, clients*size)
	}
	// Held whole, eight bodies would be 256 MB at once; streamed, the
	// proxy holds a few buffers per connection.
	t.Logf("heap peak while moving %d MB through the proxy: %.1f MB", clients*size>>20, float64(peak.Load())/(1<<20))
	if peak.Load() > 96<<20 {
		t.Errorf("heap peaked at %d MB while proxying: bodies are held, not streamed", peak.Load()>>20)
	}
	debug.FreeOSMemory()
	if rss, err := readStatus("VmRSS:"); err == nil {
		t.Logf("RSS afterwards: %d MB", rss>>20)
		if rss > 160<<20 {
			t.Errorf("RSS stayed at %d MB after the transfers", rss>>20)
		}
	}
}

// readStatus reads a size field of /proc/self/status in bytes.
func readStatus(field string) (int64, error) {
	f, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(f), "\n") {
		if strings.HasPrefix(line, field) {
			n, err := strconv.ParseInt(strings.Fields(strings.TrimPrefix(line, field))[0], 10, 64)
			return n << 10, err
		}
	}
	return 0, io.EOF
}
