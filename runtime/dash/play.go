package dash

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Play streams the video at mpdURL over st: it fetches the MPD, then the
// segments one by one over HTTP (one kept-alive connection per server),
// choosing each one's quality with cfg.Rule, exactly as Simulate does
// over a trace. Times are st's (lab time on a lab host). timeout bounds
// how long a request may go without receiving anything.
func Play(ctx context.Context, st stack.Stack, mpdURL string, cfg Config, timeout time.Duration) (*Session, error) {
	if cfg.Op == "" {
		cfg.Op = "dash.play"
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	t := &netTransport{st: st, ctx: ctx, op: cfg.Op, timeout: timeout, conns: map[string]*httpConn{}, inits: map[int]bool{}}
	defer t.close()
	t.start = st.Now()
	body, server, err := t.get(mpdURL, "the MPD")
	if err != nil {
		return nil, err
	}
	m, err := ParseMPD(body, mpdURL)
	if err != nil {
		return nil, neterr.Errorf(neterr.KindProtocol, cfg.Op, mpdURL, "%v", err)
	}
	t.manifest = m
	v := m.Video()
	if err := v.Check(); err != nil {
		return nil, neterr.Errorf(neterr.KindProtocol, cfg.Op, mpdURL, "mpd: %v", err)
	}
	s, err := run(v, t, cfg)
	if s != nil {
		s.Server = server
		s.Manifest = m
	}
	return s, err
}

type netTransport struct {
	st       stack.Stack
	ctx      context.Context
	op       string
	timeout  time.Duration
	start    time.Time
	manifest *Manifest
	conns    map[string]*httpConn // kept-alive connections by host:port
	inits    map[int]bool         // representations whose init segment we have
}

type httpConn struct {
	c  net.Conn
	br *bufio.Reader
}

func (t *netTransport) now() float64 { return t.st.Now().Sub(t.start).Seconds() }

func (t *netTransport) idle(d float64) error {
	if err := t.st.Sleep(t.ctx, time.Duration(d*float64(time.Second))); err != nil {
		return neterr.New(t.op, "", err, 0)
	}
	return nil
}

func (t *netTransport) close() {
	for k, c := range t.conns {
		c.c.Close()
		delete(t.conns, k)
	}
}

func (t *netTransport) fetch(i, q int, size int64, abandon func(Progress) bool) (fetched, error) {
	rep := t.manifest.Representations[q]
	if rep.Init != "" && !t.inits[q] {
		// A player needs a representation's initialisation segment before
		// its first media segment.
		if _, _, err := t.get(rep.Init, fmt.Sprintf("the init segment of representation %q", rep.ID)); err != nil {
			return fetched{}, err
		}
		t.inits[q] = true
	}
	return t.download(rep.Media[i], fmt.Sprintf("segment %d (quality %d)", i, q), abandon)
}

// get downloads a whole resource; it returns its body and the server's
// address.
func (t *netTransport) get(rawURL, what string) ([]byte, string, error) {
	var body []byte
	var server string
	_, err := t.request(rawURL, what, nil, func(hc *httpConn, resp *nethttp.Response, addr string) (fetched, error) {
		server = addr
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		body = b
		return fetched{}, err
	})
	return body, server, err
}

// download fetches a media segment, watching its progress.
func (t *netTransport) download(rawURL, what string, abandon func(Progress) bool) (fetched, error) {
	return t.request(rawURL, what, abandon, nil)
}

// request sends GET rawURL on a kept-alive connection and reads the
// reply: whole with read (when not nil), else as a media segment whose
// progress abandon watches every 50 ms (and 12000 bits) of it.
func (t *netTransport) request(rawURL, what string, abandon func(Progress) bool,
	read func(*httpConn, *nethttp.Response, string) (fetched, error)) (fetched, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "") {
		return fetched{}, neterr.Errorf(neterr.KindArgument, t.op, rawURL, "%s: want an http:// URL", what)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	start := t.st.Now()
	for attempt := 0; ; attempt++ {
		hc, addr, fresh, err := t.conn(host)
		if err != nil {
			return fetched{}, err
		}
		f, err := t.exchange(hc, addr, u, what, start, abandon, read)
		if err != nil && !fresh && attempt == 0 && f.bits == 0 && !errors.Is(err, errAbandon) && neterr.Kind(err) != neterr.KindTimeout {
			// The server closed a kept-alive connection: ask again on a new one.
			t.drop(host)
			continue
		}
		if err != nil || f.abandoned {
			t.drop(host)
		}
		if errors.Is(err, errAbandon) {
			err = nil
		}
		return f, err
	}
}

var errAbandon = errors.New("abandoned")

func (t *netTransport) conn(host string) (*httpConn, string, bool, error) {
	if hc := t.conns[host]; hc != nil {
		return hc, hc.c.RemoteAddr().String(), false, nil
	}
	h, port, _ := net.SplitHostPort(host)
	addrs, err := t.st.LookupHost(t.ctx, h)
	if err != nil {
		return nil, "", false, neterr.New(t.op, host, err, 0)
	}
	addr := net.JoinHostPort(addrs[0].String(), port)
	dctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	c, err := t.st.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, "", false, neterr.New(t.op, host, err, t.timeout)
	}
	hc := &httpConn{c: c, br: bufio.NewReaderSize(c, 64<<10)}
	t.conns[host] = hc
	return hc, c.RemoteAddr().String(), true, nil
}

func (t *netTransport) drop(host string) {
	if hc := t.conns[host]; hc != nil {
		hc.c.Close()
		delete(t.conns, host)
	}
}

func (t *netTransport) exchange(hc *httpConn, addr string, u *url.URL, what string, start time.Time,
	abandon func(Progress) bool, read func(*httpConn, *nethttp.Response, string) (fetched, error)) (fetched, error) {
	peer := u.String()
	target := u.RequestURI()
	hc.c.SetDeadline(t.st.Now().Add(t.timeout))
	if _, err := fmt.Fprintf(hc.c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: netplay-dash\r\nAccept: */*\r\n\r\n", target, u.Host); err != nil {
		return fetched{}, neterr.New(t.op, peer, err, t.timeout)
	}
	resp, err := nethttp.ReadResponse(hc.br, &nethttp.Request{Method: "GET"})
	if err != nil {
		return fetched{}, t.netErr(peer, what, err)
	}
	defer resp.Body.Close()
	latency := t.st.Now().Sub(start).Seconds()
	if resp.StatusCode != 200 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return fetched{}, neterr.Errorf(neterr.KindProtocol, t.op, peer, "%s: HTTP %s", what, resp.Status)
	}
	if read != nil {
		return read(hc, resp, addr)
	}
	size := int64(0)
	if resp.ContentLength > 0 {
		size = resp.ContentLength * 8
	}
	// With a known length the body is read a step at a time (a read
	// deadline a step ahead), so a download that stops receiving is still
	// looked at and can be abandoned; a chunked body's reader does not
	// survive a timeout, so it is read with the whole timeout instead.
	step := time.Duration(progressTime * float64(time.Second))
	if size == 0 {
		step = t.timeout
	}
	buf := make([]byte, 32<<10)
	var bits float64
	lastData := latency                // when data last came
	checked := Progress{Time: latency} // the last look at it
	for {
		hc.c.SetReadDeadline(t.st.Now().Add(step))
		n, err := resp.Body.Read(buf)
		bits += float64(n) * 8
		now := t.st.Now().Sub(start).Seconds()
		if err == io.EOF {
			return fetched{bits: bits, time: now, latency: latency}, nil
		}
		var ne net.Error
		stalled := err != nil && errors.As(err, &ne) && ne.Timeout()
		if err != nil && !stalled {
			return fetched{bits: bits}, t.netErr(peer, what, err)
		}
		if n > 0 {
			lastData = now
		} else if now-lastData >= t.timeout.Seconds() {
			return fetched{bits: bits}, neterr.Errorf(neterr.KindTimeout, t.op, peer, "%s: nothing received for %s", what, neterr.FormatDuration(t.timeout))
		}
		due := now-checked.Time >= progressTime && bits-checked.Downloaded >= progressBits
		if abandon != nil && (stalled || due) && (size == 0 || bits < float64(size)) {
			checked = Progress{Size: size, Downloaded: bits, Time: now, Latency: latency}
			if abandon(checked) {
				return fetched{bits: bits, time: now, latency: latency, abandoned: true}, errAbandon
			}
		}
	}
}

func (t *netTransport) netErr(peer, what string, err error) error {
	e := neterr.New(t.op, peer, err, t.timeout)
	if ne, ok := e.(*neterr.Error); ok && !strings.HasPrefix(ne.Msg, what) {
		ne.Msg = what + ": " + ne.Msg
	}
	return e
}
