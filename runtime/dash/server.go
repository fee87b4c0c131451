package dash

import (
	"context"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"os"
	"path/filepath"

	"github.com/netplay-dev/netplay/runtime/http"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// A Server serves one video's MPD and segments over HTTP: a DASH origin,
// or one node of a CDN (several servers with the same video).
type Server struct {
	st    stack.Stack
	video *Video
	mpd   []byte
	http  *http.Server
	pace  *pacer
	start time.Time
	stop  context.CancelFunc
	ctx   context.Context

	mu  sync.Mutex
	log []Request
}

// A Request is one line of a server's log.
type Request struct {
	Time    float64 // seconds since the server started
	Client  string  // the client's address (host:port)
	Path    string
	Status  int
	Bytes   int
	Segment int // -1 for the MPD or an init segment
	Quality int // -1 for the MPD
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// Rate, if positive, paces everything the server sends (bits per
	// second, shared by all its clients): a server-side bottleneck.
	Rate float64
	// LogSize bounds the log (10000 requests).
	LogSize int
}

// maxLog bounds a server's log by default.
const maxLog = 10000

// Serve starts serving v on addr ("host:port", port 0 picks one) of st:
// GET /manifest.mpd, /Q/init.mp4 (encoded videos) and /Q/N.m4s, the
// segments of quality Q numbered from 1. A synthetic video's segments are
// filler bytes of the right sizes.
func Serve(ctx context.Context, st stack.Stack, addr string, v *Video, o ServeOptions) (*Server, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	text, err := MPD(v, "")
	if err != nil {
		return nil, err
	}
	ln, err := st.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Server{st: st, video: v, mpd: []byte(text), pace: &pacer{clock: st, rate: o.Rate},
		start: st.Now(), stop: cancel, ctx: sctx}
	if o.LogSize <= 0 {
		o.LogSize = maxLog
	}
	s.http = http.ServeListener(st, &pacedListener{Listener: ln, s: s}, http.ServerConfig{
		Handler: func(r *http.InRequest) *http.Reply { return s.handle(r, o.LogSize) },
		// Players keep their connection; a stalled one gives up after a while.
		KeepAlive: true, Timeout: 30 * time.Second, IdleTimeout: 60 * time.Second, LogSize: 1,
	})
	return s, nil
}

// URL is the MPD's URL: for clients on this machine, or on a lab network
// by the server host's name when it listens on every address.
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.http.Addr().String())
	if ip := net.ParseIP(host); s.st.Name() != "os" && (host == "" || ip != nil && ip.IsUnspecified()) {
		return "http://" + net.JoinHostPort(s.st.Hostname(), port) + "/manifest.mpd"
	}
	return s.http.URL() + "/manifest.mpd"
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.http.Addr() }

// Port is the port it listens on.
func (s *Server) Port() int { return s.http.Port() }

// Video is what it serves.
func (s *Server) Video() *Video { return s.video }

// SetRate changes the pacing rate (bits per second; 0: unpaced) from now on.
func (s *Server) SetRate(bps float64) { s.pace.setRate(bps) }

// Rate is the pacing rate, 0 when unpaced.
func (s *Server) Rate() float64 {
	s.pace.mu.Lock()
	defer s.pace.mu.Unlock()
	return s.pace.rate
}

// Log returns the requests served, oldest first.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Stop closes the listener and every connection.
func (s *Server) Stop() {
	s.stop()
	s.http.Stop()
}

// Close is Stop.
func (s *Server) Close() error { s.Stop(); return nil }

var corsAndCache = http.Header{
	{Name: "Access-Control-Allow-Origin", Value: "*"}, // players on other origins (a CDN's)
	{Name: "Cache-Control", Value: "max-age=3600"},
}

func (s *Server) handle(r *http.InRequest, logSize int) *http.Reply {
	rec := Request{Time: s.st.Now().Sub(s.start).Seconds(), Client: r.Remote, Path: r.Path, Segment: -1, Quality: -1}
	reply := s.reply(r, &rec)
	rec.Status = reply.Status
	if r.Method != "HEAD" {
		rec.Bytes = len(reply.Body)
	}
	s.mu.Lock()
	if len(s.log) >= logSize {
		s.log = s.log[1:]
	}
	s.log = append(s.log, rec)
	s.mu.Unlock()
	return reply
}

func notFound(msg string) *http.Reply {
	return &http.Reply{Status: 404, Header: http.Header{{Name: "Content-Type", Value: "text/plain"}}, Body: []byte(msg + "\n")}
}

func (s *Server) reply(r *http.InRequest, rec *Request) *http.Reply {
	if r.Method != "GET" && r.Method != "HEAD" {
		return &http.Reply{Status: 405, Header: http.Header{{Name: "Allow", Value: "GET, HEAD"}}, Body: []byte("only GET and HEAD\n")}
	}
	p := path.Clean("/" + r.Path)
	if p == "/manifest.mpd" {
		return &http.Reply{Status: 200, Header: append(http.Header{{Name: "Content-Type", Value: "application/dash+xml"}}, corsAndCache...), Body: s.mpd}
	}
	dir, file := path.Split(p)
	q, err := strconv.Atoi(strings.Trim(dir, "/"))
	if err != nil || q < 0 || q >= len(s.video.Bitrates) {
		return notFound("no such file: " + p + " (the video is at /manifest.mpd, segments at /QUALITY/NUMBER.m4s)")
	}
	rec.Quality = q
	if file == "init.mp4" {
		if s.video.Files == nil {
			return notFound("a synthetic video has no initialisation segment")
		}
		return s.file(filepath.Join(s.video.Files.Dir, strconv.Itoa(q), "init.mp4"))
	}
	n, err := strconv.Atoi(strings.TrimSuffix(file, ".m4s"))
	if err != nil || !strings.HasSuffix(file, ".m4s") || n < 1 || n > s.video.Segments() {
		return notFound("no such segment: " + p + " (segments are numbered 1 to " + strconv.Itoa(s.video.Segments()) + ")")
	}
	rec.Segment = n - 1
	if s.video.Files != nil {
		return s.file(filepath.Join(s.video.Files.Dir, strconv.Itoa(q), file))
	}
	return &http.Reply{Status: 200, Header: append(http.Header{{Name: "Content-Type", Value: "video/iso.segment"}}, corsAndCache...),
		Body: filler(int((s.video.Sizes[n-1][q] + 7) / 8))}
}

func (s *Server) file(name string) *http.Reply {
	data, err := os.ReadFile(name)
	if err != nil {
		return notFound("cannot read " + filepath.Base(name) + ": " + err.Error())
	}
	typ := "video/iso.segment"
	if strings.HasSuffix(name, ".mp4") {
		typ = "video/mp4"
	}
	return &http.Reply{Status: 200, Header: append(http.Header{{Name: "Content-Type", Value: typ}}, corsAndCache...), Body: data}
}

// filler returns n bytes standing for a synthetic segment's media. They
// are shared and read-only.
func filler(n int) []byte {
	fill.Lock()
	defer fill.Unlock()
	if len(fill.b) < n {
		fill.b = make([]byte, n)
		for i := range fill.b {
			fill.b[i] = byte(i * 131)
		}
	}
	return fill.b[:n:n]
}

var fill struct {
	sync.Mutex
	b []byte
}

// A pacer shares a sending rate among connections: each write reserves
// its bits' time on one timeline, in the stack's clock (lab time on a
// lab host).
type pacer struct {
	clock stack.Clock
	mu    sync.Mutex
	rate  float64   // bits per second; 0: unpaced
	next  time.Time // when the timeline is free
}

func (p *pacer) setRate(bps float64) {
	p.mu.Lock()
	p.rate = bps
	p.next = time.Time{}
	p.mu.Unlock()
}

// reserve returns how long to wait before n bytes may leave.
func (p *pacer) reserve(n int) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rate <= 0 {
		return 0
	}
	now := p.clock.Now()
	if p.next.Before(now) {
		p.next = now
	}
	wait := p.next.Sub(now)
	p.next = p.next.Add(time.Duration(float64(n*8) / p.rate * float64(time.Second)))
	return wait
}

type pacedListener struct {
	net.Listener
	s *Server
}

func (l *pacedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &pacedConn{Conn: c, s: l.s}, nil
}

type pacedConn struct {
	net.Conn
	s *Server
}

// paceChunk is how much leaves at once when paced.
const paceChunk = 4096

func (c *pacedConn) Write(b []byte) (int, error) {
	sent := 0
	for sent < len(b) {
		n := min(len(b)-sent, paceChunk)
		if wait := c.s.pace.reserve(n); wait > 0 {
			if err := c.s.st.Sleep(c.s.ctx, wait); err != nil {
				return sent, err
			}
		}
		w, err := c.Conn.Write(b[sent : sent+n])
		sent += w
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}
