package http

import (
	"bytes"
	"container/list"
	"context"
	"io"
	nethttp "net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// CacheStats counts what a caching proxy did.
type CacheStats struct {
	Requests        int64 // requests clients made
	Hits            int64 // answered from the cache without asking the origin
	Misses          int64 // fetched in full from the origin
	Revalidated     int64 // stale copies the origin confirmed with 304
	BytesFromOrigin int64 // body bytes received from origin servers
	BytesToClients  int64 // body bytes sent to clients
	Stored          int64 // body bytes held in the cache now
	Entries         int64 // objects held in the cache now
}

// Proxy is a forward web proxy with an optional cache. It follows RFC 9111
// for a shared cache: responses vary by the request headers their Vary
// names, responses to requests with Authorization, and private, no-store
// or Set-Cookie responses are not stored, and bodies are streamed through
// unless they are stored (at most maxBytes in all).
type Proxy struct {
	st       stack.Stack
	client   *Client
	cache    bool
	maxBytes int64
	timeout  time.Duration

	// ctx ends origin fetches when the proxy stops. Not the client's
	// request context: a client that half-closes its side after sending
	// the request (nc -q, shutdown(SHUT_WR)) still wants the answer.
	ctx    context.Context
	cancel func()

	mu      sync.Mutex
	stats   CacheStats
	entries map[string]*list.Element
	lru     *list.List          // of *cacheEntry, most recent at the front
	varyBy  map[string][]string // URL -> the request headers its response varies by
}

type cacheEntry struct {
	key      string // URL and the values of the Vary headers
	url      string
	status   int
	reason   string
	header   Header
	body     []byte
	stored   time.Time     // when it was last fetched or validated
	maxAge   time.Duration // freshness lifetime; 0: stale at once
	noCache  bool          // must be validated before every use
	etag     string
	lastMod  string
	origDate string
}

// NewProxy returns a proxy on st; with cache, it keeps up to maxBytes of
// response bodies.
func NewProxy(st stack.Stack, cache bool, maxBytes int64, timeout time.Duration) *Proxy {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Proxy{st: st, client: NewClient(st, true, nil, ""), cache: cache, maxBytes: maxBytes, timeout: timeout,
		ctx: ctx, cancel: cancel, entries: map[string]*list.Element{}, lru: list.New(), varyBy: map[string][]string{}}
}

// Stats returns the counters.
func (p *Proxy) Stats() CacheStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// SetClient sets the client the proxy fetches from origins with (a
// non-persistent one opens a connection per miss, as the course counts).
func (p *Proxy) SetClient(c *Client) { p.client = c }

// Close ends the proxy's fetches and closes its connections to origins.
func (p *Proxy) Close() {
	p.cancel()
	p.client.Close()
}

// hop-by-hop headers are not forwarded.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade"}

// StripHop removes the hop-by-hop headers, and those Connection names.
func StripHop(h Header) Header {
	for _, f := range h.Values("Connection") {
		for _, t := range strings.Split(f, ",") {
			if t = strings.TrimSpace(t); t != "" {
				h = h.Del(t)
			}
		}
	}
	for _, n := range hopHeaders {
		h = h.Del(n)
	}
	return h
}

// varyKey is the cache key of url for a request with header h, given the
// request headers the URL's responses vary by.
func varyKey(url string, names []string, h nethttp.Header) string {
	if len(names) == 0 {
		return url
	}
	var b strings.Builder
	b.WriteString(url)
	for _, n := range names {
		b.WriteString("\x00")
		b.WriteString(n)
		b.WriteString(":")
		b.WriteString(strings.Join(h.Values(n), ","))
	}
	return b.String()
}

// varyNames lists the header names a response's Vary holds, and whether it
// is "*" (varies by anything: never reusable).
func varyNames(h Header) (names []string, star bool) {
	for _, v := range h.Values("Vary") {
		for _, n := range strings.Split(v, ",") {
			n = strings.TrimSpace(n)
			if n == "*" {
				return nil, true
			}
			if n != "" {
				names = append(names, nethttp.CanonicalHeaderKey(n))
			}
		}
	}
	sort.Strings(names)
	return names, false
}

// Handle answers a client's request: the Handler of the proxy's server.
func (p *Proxy) Handle(r *InRequest) *Reply {
	p.mu.Lock()
	p.stats.Requests++
	p.mu.Unlock()
	if r.Method == "CONNECT" {
		return TextReply(501, "this proxy does not tunnel (CONNECT): it speaks plain http only\n")
	}
	if !r.R.URL.IsAbs() || r.R.URL.Scheme != "http" {
		return TextReply(400, "not a proxy request: send the absolute URL (GET http://host/path HTTP/1.1), as curl -x does\n")
	}
	url := r.R.URL.String()
	ctx := p.ctx
	var hdr Header
	for k, vs := range r.Header {
		for _, v := range vs {
			hdr = append(hdr, Field{k, v})
		}
	}
	hdr = StripHop(hdr).Del("Host")
	if !p.cache || r.Method != "GET" {
		return p.forward(ctx, r.Method, url, hdr, r.Body)
	}
	reqCC := parseCacheControl(r.Header.Get("Cache-Control"))
	// A request with credentials is answered by the origin, and what it
	// answers is not kept for others (RFC 9111 section 3.5).
	if reqCC.noStore || r.Header.Get("Authorization") != "" {
		return p.forward(ctx, r.Method, url, hdr, r.Body)
	}
	clientINM, clientIMS := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	originHdr := hdr.Del("If-None-Match").Del("If-Modified-Since").Del("Cache-Control").Del("Pragma")

	now := p.st.Now()
	p.mu.Lock()
	var e *cacheEntry
	if el, ok := p.entries[varyKey(url, p.varyBy[url], r.Header)]; ok {
		e = el.Value.(*cacheEntry)
		p.lru.MoveToFront(el)
	}
	p.mu.Unlock()

	if e != nil && !e.noCache && !reqCC.noCache && now.Sub(e.stored) < e.maxAge {
		p.mu.Lock()
		p.stats.Hits++
		p.mu.Unlock()
		return p.fromCache(e, "HIT", now, clientINM, clientIMS)
	}
	if e != nil && (e.etag != "" || e.lastMod != "") {
		cond := originHdr
		if e.etag != "" {
			cond = cond.Set("If-None-Match", e.etag)
		}
		if e.lastMod != "" {
			cond = cond.Set("If-Modified-Since", e.lastMod)
		}
		resp, err := p.fetch(ctx, "GET", url, cond, nil)
		if err != nil {
			return TextReply(502, "origin server failed: "+err.Error()+"\n")
		}
		if resp.Status == 304 {
			resp.Stream.Close()
			p.mu.Lock()
			p.stats.Revalidated++
			e.stored = p.st.Now()
			if cc := parseCacheControl(resp.Header.Get("Cache-Control")); cc.has {
				e.maxAge, e.noCache = cc.maxAge, cc.noCache
			}
			p.mu.Unlock()
			return p.fromCache(e, "REVALIDATED", p.st.Now(), clientINM, clientIMS)
		}
		return p.store(url, r.Header, resp, clientINM, clientIMS)
	}
	resp, err := p.fetch(ctx, "GET", url, originHdr, nil)
	if err != nil {
		return TextReply(502, "origin server failed: "+err.Error()+"\n")
	}
	return p.store(url, r.Header, resp, clientINM, clientIMS)
}

// fetch asks the origin; the response's body is left on the connection
// (resp.Stream), counted as it is read.
func (p *Proxy) fetch(ctx context.Context, method, url string, h Header, body []byte) (*Response, error) {
	resp, err := p.client.Do(ctx, &Request{Method: method, URL: url, Header: h, Body: body, HasBody: len(body) > 0, Timeout: p.timeout, Stream: true})
	if err != nil {
		return nil, err
	}
	resp.Stream = &countedBody{ReadCloser: resp.Stream, p: p}
	return resp, nil
}

// countedBody counts the bytes of a body streamed from an origin through
// to a client.
type countedBody struct {
	io.ReadCloser
	p *Proxy
}

func (b *countedBody) Read(q []byte) (int, error) {
	n, err := b.ReadCloser.Read(q)
	if n > 0 {
		b.p.mu.Lock()
		b.p.stats.BytesFromOrigin += int64(n)
		b.p.mu.Unlock()
	}
	return n, err
}

// toClients counts bytes a streamed body passed on to the client.
type toClients struct {
	io.ReadCloser
	p *Proxy
}

func (b *toClients) Read(q []byte) (int, error) {
	n, err := b.ReadCloser.Read(q)
	if n > 0 {
		b.p.mu.Lock()
		b.p.stats.BytesToClients += int64(n)
		b.p.mu.Unlock()
	}
	return n, err
}

// forward passes a request through without caching, streaming the answer.
func (p *Proxy) forward(ctx context.Context, method, url string, h Header, body []byte) *Reply {
	resp, err := p.fetch(ctx, method, url, h, body)
	if err != nil {
		return TextReply(502, "origin server failed: "+err.Error()+"\n")
	}
	p.mu.Lock()
	p.stats.Misses++
	p.mu.Unlock()
	return p.streamReply(resp, nil)
}

// streamReply passes resp on to the client as it arrives, after prefix
// (what was already read of it).
func (p *Proxy) streamReply(resp *Response, prefix []byte) *Reply {
	var body io.ReadCloser = resp.Stream
	if len(prefix) > 0 {
		body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(prefix), resp.Stream), resp.Stream}
	}
	return &Reply{Status: resp.Status, Header: StripHop(resp.Header).Del("Content-Length").Set("X-Cache", "MISS"),
		Stream: &toClients{body, p}, Length: resp.Length}
}

// store keeps a response if it may be cached, and answers the client with
// it. What may not be kept, or is larger than the whole cache, is streamed
// through without being held.
func (p *Proxy) store(url string, reqHeader nethttp.Header, resp *Response, clientINM, clientIMS string) *Reply {
	cc := parseCacheControl(resp.Header.Get("Cache-Control"))
	names, star := varyNames(resp.Header)
	full := StripHop(resp.Header).Del("Content-Length")
	// A shared cache never hands one client's cookie to another: only
	// this client gets it.
	setsCookie := full.Has("Set-Cookie")
	header := append(Header(nil), full...).Del("Set-Cookie")
	e := &cacheEntry{key: varyKey(url, names, reqHeader), url: url, status: resp.Status, reason: resp.Reason, header: header,
		stored: p.st.Now(), maxAge: cc.maxAge, noCache: cc.noCache,
		etag: resp.Header.Get("ETag"), lastMod: resp.Header.Get("Last-Modified")}
	if !cc.hasMaxAge {
		// no freshness information: keep it only to revalidate it
		if exp := resp.Header.Get("Expires"); exp != "" {
			if t, err := nethttp.ParseTime(exp); err == nil {
				date := p.st.Now()
				if d, err := nethttp.ParseTime(resp.Header.Get("Date")); err == nil {
					date = d
				}
				e.maxAge = t.Sub(date)
			}
		}
	}
	cacheable := resp.Status == 200 && !cc.noStore && !cc.private && !star &&
		(!setsCookie || cc.public) &&
		(e.maxAge > 0 || e.etag != "" || e.lastMod != "") && resp.Length <= p.maxBytes
	p.mu.Lock()
	p.stats.Misses++
	if el, ok := p.entries[e.key]; ok {
		p.removeLocked(el)
	}
	p.mu.Unlock()
	if !cacheable {
		return p.streamReply(resp, nil)
	}
	// Read it whole, but never more than the cache may hold.
	body, err := io.ReadAll(io.LimitReader(resp.Stream, p.maxBytes+1))
	if err != nil {
		resp.Stream.Close()
		return TextReply(502, "origin server failed: "+err.Error()+"\n")
	}
	if int64(len(body)) > p.maxBytes {
		return p.streamReply(resp, body)
	}
	resp.Stream.Close()
	e.body = body
	p.mu.Lock()
	p.varyBy[url] = names
	p.entries[e.key] = p.lru.PushFront(e)
	p.stats.Stored += int64(len(e.body))
	p.stats.Entries++
	for p.stats.Stored > p.maxBytes {
		p.removeLocked(p.lru.Back())
	}
	p.mu.Unlock()
	first := *e
	first.header = full
	return p.reply(&first, "MISS", p.st.Now(), clientINM, clientIMS)
}

func (p *Proxy) removeLocked(el *list.Element) {
	e := el.Value.(*cacheEntry)
	p.lru.Remove(el)
	delete(p.entries, e.key)
	p.stats.Stored -= int64(len(e.body))
	p.stats.Entries--
}

func (p *Proxy) fromCache(e *cacheEntry, how string, now time.Time, clientINM, clientIMS string) *Reply {
	r := p.reply(e, how, now, clientINM, clientIMS)
	age := int(now.Sub(e.stored).Seconds())
	r.Header = r.Header.Set("Age", strconv.Itoa(age))
	return r
}

func (p *Proxy) reply(e *cacheEntry, how string, now time.Time, clientINM, clientIMS string) *Reply {
	r := &Reply{Status: e.status, Header: append(Header(nil), e.header...).Set("X-Cache", how).Set("Via", "1.1 netplay"), Body: e.body}
	if e.status == 200 && IsNotModified(clientINM, clientIMS, e.etag, e.lastMod) {
		r.Status, r.Body = 304, nil
	}
	p.mu.Lock()
	p.stats.BytesToClients += int64(len(r.Body))
	p.mu.Unlock()
	return r
}

type cacheControl struct {
	has                       bool
	maxAge                    time.Duration
	noCache, noStore, private bool
	public                    bool
	hasMaxAge                 bool
}

func parseCacheControl(v string) cacheControl {
	var cc cacheControl
	for _, d := range strings.Split(v, ",") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		name, val, _ := strings.Cut(d, "=")
		val = strings.Trim(val, `"`)
		switch strings.ToLower(name) {
		case "max-age", "s-maxage":
			if n, err := strconv.Atoi(val); err == nil && n >= 0 {
				if !cc.hasMaxAge || strings.EqualFold(name, "s-maxage") {
					cc.maxAge = time.Duration(n) * time.Second
				}
				cc.hasMaxAge, cc.has = true, true
			}
		case "no-cache":
			cc.noCache, cc.has = true, true
		case "no-store":
			cc.noStore, cc.has = true, true
		case "private":
			cc.private, cc.has = true, true
		case "public":
			cc.public, cc.has = true, true
		}
	}
	return cc
}
