package http

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// InRequest is a request a server received.
type InRequest struct {
	Method, Path, RawQuery, Proto, Remote string
	Header                                nethttp.Header
	Body                                  []byte
	R                                     *nethttp.Request
}

// Reply is what a server sends back.
type Reply struct {
	Status int
	Header Header
	Body   []byte
	// Err is a handler's failure (logged; the reply is a 500).
	Err error
	// Stream, if set, is the body instead of Body, copied to the client as
	// it comes (Length bytes, or -1 when unknown); the server closes it.
	Stream io.ReadCloser
	Length int64
}

// LogRecord is one line of a server's request log.
type LogRecord struct {
	Time     time.Time
	Remote   string
	Method   string
	Path     string
	Status   int
	Bytes    int
	Duration time.Duration
	Error    string
}

// ServerConfig configures Serve.
type ServerConfig struct {
	// Handler answers a request. It must not return nil.
	Handler   func(*InRequest) *Reply
	KeepAlive bool
	// Timeout bounds reading a request head or body (slow clients) and
	// IdleTimeout how long a kept-alive connection may sit idle.
	Timeout, IdleTimeout time.Duration
	MaxBody              int64 // request body limit
	LogSize              int   // records kept in the log
	// OnError reports a handler's failure (with its traceback).
	OnError func(r *InRequest, err error)
}

// Server is a running HTTP server.
type Server struct {
	st       stack.Stack
	cfg      ServerConfig
	ln       net.Listener
	hs       *nethttp.Server
	accepted atomic.Int64
	requests atomic.Int64
	stopped  atomic.Bool
	done     chan struct{}
	active   sync.WaitGroup // requests being handled

	mu  sync.Mutex
	log []LogRecord
	// first is the index in log of the oldest record once the log is full
	first int
}

// Serve starts a server on addr ("host:port"; port 0 picks one).
func Serve(ctx context.Context, st stack.Stack, addr string, cfg ServerConfig) (*Server, error) {
	ln, err := st.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return ServeListener(st, ln, cfg), nil
}

// ServeListener serves on ln.
func ServeListener(st stack.Stack, ln net.Listener, cfg ServerConfig) *Server {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 10 << 20
	}
	if cfg.LogSize <= 0 {
		cfg.LogSize = 10000
	}
	s := &Server{st: st, cfg: cfg, ln: ln, done: make(chan struct{})}
	s.hs = &nethttp.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.Timeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState: func(c net.Conn, cs nethttp.ConnState) {
			if cs == nethttp.StateNew {
				s.accepted.Add(1)
			}
		},
	}
	s.hs.SetKeepAlivesEnabled(cfg.KeepAlive)
	go func() {
		defer close(s.done)
		s.hs.Serve(ln)
	}()
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL is "http://host:port" for clients on this machine.
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	switch host {
	case "0.0.0.0", "":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Port is the port the server listens on.
func (s *Server) Port() int {
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	n, _ := strconv.Atoi(port)
	return n
}

// Accepted is how many TCP connections the server has accepted.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Requests is how many requests the server has answered.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Log returns the request log, oldest first.
func (s *Server) Log() []LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LogRecord, 0, len(s.log))
	out = append(out, s.log[s.first:]...)
	return append(out, s.log[:s.first]...)
}

func (s *Server) record(r LogRecord) {
	s.mu.Lock()
	if len(s.log) < s.cfg.LogSize {
		s.log = append(s.log, r)
	} else {
		s.log[s.first] = r
		s.first = (s.first + 1) % len(s.log)
	}
	s.mu.Unlock()
}

// Stop closes the listener and every connection.
func (s *Server) Stop() {
	if s.stopped.Swap(true) {
		return
	}
	s.hs.Close()
	<-s.done
	s.active.Wait()
}

// Close is Stop, for the interpreter's shutdown.
func (s *Server) Close() error { s.Stop(); return nil }

func (s *Server) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	s.active.Add(1)
	defer s.active.Done()
	start := s.st.Now()
	req := &InRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Proto: r.Proto, Remote: r.RemoteAddr, Header: r.Header, R: r}
	var reply *Reply
	if r.ContentLength > s.cfg.MaxBody {
		reply = TextReply(413, "request body larger than "+strconv.FormatInt(s.cfg.MaxBody, 10)+" bytes\n")
	} else if r.ContentLength != 0 {
		rc := nethttp.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		if s.cfg.Timeout > 0 {
			nethttp.NewResponseController(w).SetReadDeadline(s.st.Now().Add(s.cfg.Timeout))
		}
		var body []byte
		var err error
		if r.ContentLength > 0 {
			body, err = readSized(func(b []byte) (int, error) { return io.ReadFull(rc, b) }, r.ContentLength)
		} else {
			body, err = io.ReadAll(rc) // chunked
		}
		var mbe *nethttp.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			reply = TextReply(413, "request body larger than "+strconv.FormatInt(s.cfg.MaxBody, 10)+" bytes\n")
		case err != nil:
			reply = TextReply(400, "could not read the request body: "+err.Error()+"\n")
		}
		req.Body = body
	}
	if reply == nil {
		reply = s.cfg.Handler(req)
	}
	if reply.Err != nil {
		if s.cfg.OnError != nil {
			s.cfg.OnError(req, reply.Err)
		}
		reply = TextReply(500, "500 Internal Server Error\n")
		reply.Err = errHandler
	}
	notModified(r, reply)
	// Counted and logged before the reply leaves, so a script that reads
	// .log right after its response arrives sees this request.
	s.requests.Add(1)
	rec := LogRecord{Time: start, Remote: r.RemoteAddr, Method: r.Method, Path: r.URL.RequestURI(),
		Status: reply.Status, Bytes: bodyBytes(r, reply), Duration: s.st.Now().Sub(start)}
	if reply.Err != nil {
		rec.Error = "handler failed"
	}
	if reply.Stream != nil {
		rec.Bytes = 0
		defer func() {
			// Recorded once the body is through, with what was sent.
			rec.Duration = s.st.Now().Sub(start)
			s.record(rec)
		}()
		rec.Bytes = s.write(w, r, reply)
		return
	}
	s.record(rec)
	s.write(w, r, reply)
}

// hasNoBody tells the replies that carry no body.
func hasNoBody(r *nethttp.Request, reply *Reply) bool {
	return reply.Status == 304 || reply.Status == 204 || reply.Status/100 == 1 || r.Method == "HEAD"
}

// bodyBytes is how many body bytes reply sends.
func bodyBytes(r *nethttp.Request, reply *Reply) int {
	if hasNoBody(r, reply) {
		return 0
	}
	return len(reply.Body)
}

var errHandler = errors.New("handler failed")

// write sends reply and returns how many body bytes it sent.
func (s *Server) write(w nethttp.ResponseWriter, r *nethttp.Request, reply *Reply) int {
	if reply.Stream != nil {
		defer reply.Stream.Close()
		if reply.Length >= 0 {
			reply.Header = reply.Header.Set("Content-Length", strconv.FormatInt(reply.Length, 10))
		} else {
			reply.Header = reply.Header.Del("Content-Length")
		}
	}
	h := w.Header()
	for _, f := range reply.Header {
		k := nethttp.CanonicalHeaderKey(f.Name)
		h[k] = append(h[k], f.Value)
	}
	noBody := reply.Status == 304 || reply.Status == 204 || reply.Status/100 == 1
	if !noBody && h.Get("Content-Length") == "" && reply.Stream == nil {
		h["Content-Length"] = []string{strconv.Itoa(len(reply.Body))}
	}
	if !noBody && h.Get("Content-Type") == "" && len(reply.Body) > 0 {
		h["Content-Type"] = []string{nethttp.DetectContentType(reply.Body)}
	}
	w.WriteHeader(reply.Status)
	if hasNoBody(r, reply) {
		return 0
	}
	if reply.Stream != nil {
		n, _ := io.Copy(w, reply.Stream)
		return int(n)
	}
	n, _ := w.Write(reply.Body)
	return n
}

// notModified turns a 200 reply carrying validators into a 304 when the
// request's conditional headers show the client's copy is current.
func notModified(r *nethttp.Request, reply *Reply) {
	if reply.Status != 200 || (r.Method != "GET" && r.Method != "HEAD") {
		return
	}
	if IsNotModified(r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"), reply.Header.Get("ETag"), reply.Header.Get("Last-Modified")) {
		reply.Status = 304
		reply.Body = nil
		if reply.Stream != nil {
			reply.Stream.Close()
			reply.Stream = nil
		}
		reply.Header = reply.Header.Del("Content-Length").Del("Content-Type")
	}
}

// IsNotModified decides a conditional GET: If-None-Match wins over
// If-Modified-Since when both are present.
func IsNotModified(ifNoneMatch, ifModifiedSince, etag, lastModified string) bool {
	if ifNoneMatch != "" {
		if etag == "" {
			return false
		}
		for _, t := range strings.Split(ifNoneMatch, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
		return false
	}
	if ifModifiedSince != "" && lastModified != "" {
		ims, err1 := nethttp.ParseTime(ifModifiedSince)
		lm, err2 := nethttp.ParseTime(lastModified)
		return err1 == nil && err2 == nil && !lm.After(ims)
	}
	return false
}

// TextReply is a plain-text reply.
func TextReply(status int, body string) *Reply {
	return &Reply{Status: status, Header: Header{{"Content-Type", "text/plain; charset=utf-8"}}, Body: []byte(body)}
}

// FormValues are the fields of a submitted HTML form: a POST body in
// application/x-www-form-urlencoded or multipart/form-data, or the query of
// a GET.
func FormValues(r *InRequest) map[string][]string {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		v, _ := url.ParseQuery(string(r.Body))
		return v
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
		form, err := mr.ReadForm(int64(len(r.Body)) + 1)
		if err != nil {
			return nil
		}
		defer form.RemoveAll()
		return form.Value
	}
	if r.Method == "GET" || r.Method == "HEAD" {
		return r.R.URL.Query()
	}
	return nil
}
