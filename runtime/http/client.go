package http

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// Timing is where a request's time went, measured on the stack's clock:
// Connect is the TCP handshake (0 on a reused connection), FirstByte the
// time from the start until the first byte of the response (as curl's
// time_starttransfer), Total until the last byte.
type Timing struct {
	Connect, FirstByte, Total time.Duration
}

// Request is what Client.Do sends.
type Request struct {
	Method   string
	URL      string
	Header   Header // extra header lines, sent after Host and before the body's
	Body     []byte
	HasBody  bool // send Content-Length even when Body is empty
	Timeout  time.Duration
	Redirect bool              // follow 3xx redirects
	Trace    func(line string) // called with each head line sent ("C: …") and received ("S: …")
	MaxBody  int64             // 0: defaultMaxBody
	// Stream leaves the body on the connection: Response.Stream reads it.
	// Not with Redirect.
	Stream bool
	onConn func(reused bool) // for tests
}

// Client is an HTTP/1.1 client with its own connection handling.
type Client struct {
	st         stack.Stack
	Persistent bool   // keep connections open and reuse them
	Jar        *Jar   // cookie jar, or nil
	Proxy      string // "host:port" of a forward proxy, or ""
	UserAgent  string

	mu     sync.Mutex
	idle   map[string][]*conn
	opened atomic.Int64
	closed bool
}

// Stack is the network the client runs on.
func (c *Client) Stack() stack.Stack { return c.st }

// NewClient returns a client on st.
func NewClient(st stack.Stack, persistent bool, jar *Jar, proxy string) *Client {
	return &Client{st: st, Persistent: persistent, Jar: jar, Proxy: proxy, UserAgent: "netplay", idle: map[string][]*conn{}}
}

// Opened is how many TCP connections the client has opened.
func (c *Client) Opened() int64 { return c.opened.Load() }

// Close closes the idle connections.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle = map[string][]*conn{}
	c.mu.Unlock()
	for _, cs := range idle {
		for _, cn := range cs {
			cn.Close()
		}
	}
	return nil
}

type conn struct {
	net.Conn
	br  *bufio.Reader
	key string
}

// target is where a URL's request goes.
type target struct {
	u       *url.URL
	addr    string // host:port to connect to (the proxy's, with a proxy)
	host    string // Host header
	reqPath string // request-target
}

func (c *Client) target(rawURL string) (*target, error) {
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &ArgError{fmt.Sprintf("invalid URL %q: %v", rawURL, err)}
	}
	if u.Scheme != "http" {
		return nil, &ArgError{fmt.Sprintf("unsupported URL scheme %q in %s: netplay speaks plain http", u.Scheme, rawURL)}
	}
	if u.Host == "" {
		return nil, &ArgError{fmt.Sprintf("URL %q has no host", rawURL)}
	}
	t := &target{u: u, host: u.Host}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	t.reqPath = u.RequestURI()
	if c.Proxy != "" {
		t.addr = c.Proxy
		uu := *u
		uu.Fragment = ""
		t.reqPath = uu.String()
	}
	return t, nil
}

// ArgError is a request the client cannot even try (a bad URL).
type ArgError struct{ Msg string }

func (e *ArgError) Error() string { return e.Msg }

// Do sends req and returns the response, following redirects if asked.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	start := c.st.Now()
	method := req.Method
	body, hasBody := req.Body, req.HasBody
	header := req.Header
	u := req.URL
	for redirects := 0; ; redirects++ {
		r := *req
		r.Method, r.URL, r.Body, r.HasBody, r.Header = method, u, body, hasBody, header
		resp, err := c.do1(ctx, &r)
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		if !req.Redirect || loc == "" || !isRedirect(resp.Status) {
			return resp, nil
		}
		if redirects >= 10 {
			return nil, protoErr("stopped after 10 redirects")
		}
		base, _ := url.Parse(resp.URL)
		next, err := base.Parse(loc)
		if err != nil {
			return nil, protoErr("bad Location %q", loc)
		}
		u = next.String()
		if resp.Status == 303 || ((resp.Status == 301 || resp.Status == 302) && method == "POST") {
			if method != "HEAD" {
				method = "GET"
			}
			body, hasBody = nil, false
			header = header.Del("Content-Type")
		}
		if req.Timeout > 0 && c.st.Now().Sub(start) >= req.Timeout {
			return nil, context.DeadlineExceeded
		}
	}
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// head builds the header lines of a request to t.
func (c *Client) head(t *target, req *Request, closeConn bool) (Header, error) {
	h := Header{{"Host", t.host}}
	if !req.Header.Has("User-Agent") && c.UserAgent != "" {
		h = append(h, Field{"User-Agent", c.UserAgent})
	}
	if !req.Header.Has("Accept") {
		h = append(h, Field{"Accept", "*/*"})
	}
	for _, f := range req.Header {
		if strings.EqualFold(f.Name, "Host") {
			h[0].Value = f.Value
			continue
		}
		if err := ValidField(f); err != nil {
			return nil, &ArgError{err.Error()}
		}
		h = append(h, f)
	}
	if c.Jar != nil && !req.Header.Has("Cookie") {
		if ck := c.Jar.Header(t.u, c.st.Now()); ck != "" {
			h = append(h, Field{"Cookie", ck})
		}
	}
	if (req.HasBody || len(req.Body) > 0) && !req.Header.Has("Content-Length") {
		h = append(h, Field{"Content-Length", strconv.Itoa(len(req.Body))})
	}
	if closeConn && !req.Header.Has("Connection") {
		h = append(h, Field{"Connection", "close"})
	}
	return h, nil
}

// dial opens a new connection to addr, counting it.
func (c *Client) dial(ctx context.Context, addr string, timeout time.Duration) (*conn, error) {
	if timeout > 0 {
		var cancel func()
		ctx, cancel = stack.WithTimeout(ctx, c.st, timeout)
		defer cancel()
	}
	nc, err := c.st.Dial(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(context.Cause(ctx), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
			err = context.DeadlineExceeded
		}
		return nil, err
	}
	c.opened.Add(1)
	return &conn{Conn: nc, br: bufio.NewReaderSize(nc, 16<<10), key: addr}, nil
}

// idleConn takes an idle connection to addr, or returns nil.
func (c *Client) idleConn(addr string) *conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs := c.idle[addr]; len(cs) > 0 {
		c.idle[addr] = cs[:len(cs)-1]
		return cs[len(cs)-1]
	}
	return nil
}

// getConn returns an idle connection to addr or a new one.
func (c *Client) getConn(ctx context.Context, addr string, timeout time.Duration) (cn *conn, reused bool, err error) {
	if c.Persistent {
		if cn = c.idleConn(addr); cn != nil {
			return cn, true, nil
		}
	}
	cn, err = c.dial(ctx, addr, timeout)
	return cn, false, err
}

func (c *Client) putConn(cn *conn) {
	cn.SetDeadline(time.Time{})
	c.mu.Lock()
	if c.closed || len(c.idle[cn.key]) >= 16 {
		c.mu.Unlock()
		cn.Close()
		return
	}
	c.idle[cn.key] = append(c.idle[cn.key], cn)
	c.mu.Unlock()
}

// do1 sends one request and reads its response.
func (c *Client) do1(ctx context.Context, req *Request) (*Response, error) {
	t, err := c.target(req.URL)
	if err != nil {
		return nil, err
	}
	h, err := c.head(t, req, !c.Persistent)
	if err != nil {
		return nil, err
	}
	var msg bytes.Buffer
	writeHead(&msg, req.Method, t.reqPath, h)
	headLen := msg.Len()
	msg.Write(req.Body)
	maxBody := req.MaxBody
	if maxBody <= 0 {
		maxBody = defaultMaxBody
	}
	for attempt := 0; ; attempt++ {
		start := c.st.Now()
		cn, reused, err := c.getConn(ctx, t.addr, req.Timeout)
		if err != nil {
			return nil, err
		}
		if req.onConn != nil {
			req.onConn(reused)
		}
		var timing Timing
		if !reused {
			timing.Connect = c.st.Now().Sub(start)
		}
		if req.Trace != nil && attempt == 0 {
			traceHead(req.Trace, "C: ", msg.Bytes()[:headLen])
		}
		resp, gotBytes, err := c.exchange(ctx, cn, req, msg.Bytes(), start, &timing, maxBody)
		if err != nil {
			cn.Close()
			// A kept-alive connection the server closed meanwhile: try once
			// more on a fresh one, as browsers do.
			if reused && !gotBytes && attempt == 0 && ctx.Err() == nil && staleConnError(err) {
				continue
			}
			return nil, err
		}
		resp.URL = t.u.String()
		resp.Timing = timing
		if req.Trace != nil {
			traceHead(req.Trace, "S: ", []byte(resp.Head))
		}
		if c.Jar != nil {
			c.Jar.SetFromResponse(t.u, resp.Header, c.st.Now())
		}
		reusable := c.Persistent && !resp.Close && req.Method != "CONNECT"
		if sb, ok := resp.Stream.(*streamBody); ok {
			sb.c, sb.cn, sb.reusable = c, cn, reusable
			return resp, nil
		}
		if reusable {
			c.putConn(cn)
		} else {
			cn.Close()
		}
		return resp, nil
	}
}

func staleConnError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// exchange writes msg on cn and reads the response, honouring ctx and the
// timeout (in the stack's clock).
func (c *Client) exchange(ctx context.Context, cn *conn, req *Request, msg []byte, start time.Time, timing *Timing, maxBody int64) (resp *Response, gotBytes bool, err error) {
	if req.Timeout > 0 {
		cn.SetDeadline(start.Add(req.Timeout))
	} else {
		cn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { cn.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if resp == nil || resp.Stream == nil {
			stop()
		}
	}()
	if _, err := cn.Write(msg); err != nil {
		return nil, false, ctxErr(ctx, err)
	}
	if req.Stream {
		var body io.Reader
		var n int64
		resp, body, n, err = readResponseHead(cn.br, req.Method, func() {
			gotBytes = true
			timing.FirstByte = c.st.Now().Sub(start)
		})
		if err != nil {
			return nil, gotBytes, ctxErr(ctx, err)
		}
		resp.Length = max(n, -1)
		resp.Stream = &streamBody{r: body, ctx: ctx, stop: stop, length: resp.Length}
		return resp, true, nil
	}
	resp, err = readResponse(cn.br, cn.Conn, req.Method, maxBody, func() {
		gotBytes = true
		timing.FirstByte = c.st.Now().Sub(start)
	})
	if err != nil {
		return nil, gotBytes, ctxErr(ctx, err)
	}
	timing.Total = c.st.Now().Sub(start)
	return resp, true, nil
}

// streamBody is a response body read from its connection as it comes.
// Closing it hands the connection back for reuse when the body was read to
// its end, and closes it otherwise.
type streamBody struct {
	r        io.Reader
	ctx      context.Context
	stop     func() bool
	c        *Client
	cn       *conn
	reusable bool
	length   int64 // -1: up to the end of the connection
	read     int64
	eof      bool
	closed   bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += int64(n)
	if err == io.EOF && b.length >= 0 && b.read < b.length {
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		b.eof = true
	} else if err != nil {
		err = ctxErr(b.ctx, unexpected(err))
	}
	return n, err
}

func (b *streamBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.stop()
	if b.eof && b.reusable {
		b.c.putConn(b.cn)
	} else {
		b.cn.Close()
	}
	return nil
}

// ctxErr prefers the context's error when it caused err.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

func traceHead(trace func(string), prefix string, head []byte) {
	s := strings.TrimSuffix(string(head), "\r\n\r\n")
	s = strings.TrimSuffix(s, "\n\n")
	for _, line := range strings.Split(s, "\n") {
		trace(prefix + strings.TrimSuffix(line, "\r"))
	}
}

// Jar keeps cookies per host, as a browser's cookie file does.
type Jar struct {
	mu      sync.Mutex
	cookies []*jarCookie
}

type jarCookie struct {
	host, path, name, value string
	expires                 time.Time // zero: a session cookie
}

// SetFromResponse stores the cookies a response to u sets.
func (j *Jar) SetFromResponse(u *url.URL, h Header, now time.Time) {
	lines := h.Values("Set-Cookie")
	if len(lines) == 0 {
		return
	}
	hdr := nethttp.Header{"Set-Cookie": lines}
	resp := nethttp.Response{Header: hdr}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ck := range resp.Cookies() {
		host := strings.ToLower(u.Hostname())
		if ck.Domain != "" {
			host = strings.ToLower(strings.TrimPrefix(ck.Domain, "."))
		}
		path := ck.Path
		if path == "" || path[0] != '/' {
			path = "/"
		}
		var exp time.Time
		switch {
		case ck.MaxAge < 0:
			exp = time.Unix(1, 0)
		case ck.MaxAge > 0:
			exp = now.Add(time.Duration(ck.MaxAge) * time.Second)
		case !ck.Expires.IsZero():
			exp = ck.Expires
		}
		j.remove(host, path, ck.Name)
		if !exp.IsZero() && !exp.After(now) {
			continue // deleting a cookie
		}
		j.cookies = append(j.cookies, &jarCookie{host, path, ck.Name, ck.Value, exp})
	}
}

func (j *Jar) remove(host, path, name string) {
	out := j.cookies[:0]
	for _, c := range j.cookies {
		if !(c.host == host && c.path == path && c.name == name) {
			out = append(out, c)
		}
	}
	j.cookies = out
}

// Header is the Cookie header value for a request to u.
func (j *Jar) Header(u *url.URL, now time.Time) string {
	host := strings.ToLower(u.Hostname())
	path := u.Path
	if path == "" {
		path = "/"
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var parts []string
	for _, c := range j.cookies {
		if !c.expires.IsZero() && !c.expires.After(now) {
			continue
		}
		if host != c.host && !strings.HasSuffix(host, "."+c.host) {
			continue
		}
		if !strings.HasPrefix(path, c.path) {
			continue
		}
		parts = append(parts, c.name+"="+c.value)
	}
	return strings.Join(parts, "; ")
}

// All returns every live cookie as name -> value.
func (j *Jar) All(now time.Time) [][2]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out [][2]string
	for _, c := range j.cookies {
		if c.expires.IsZero() || c.expires.After(now) {
			out = append(out, [2]string{c.name, c.value})
		}
	}
	return out
}

// Clear forgets every cookie.
func (j *Jar) Clear() {
	j.mu.Lock()
	j.cookies = nil
	j.mu.Unlock()
}
