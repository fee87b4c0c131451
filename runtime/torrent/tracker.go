package torrent

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
	"github.com/zeebo/bencode"
)

// DefaultNumWant is how many peers an announce asks for and a tracker gives.
const DefaultNumWant = 50

// TrackedPeer is a peer a tracker knows in one swarm.
type TrackedPeer struct {
	ID       [20]byte
	Addr     netip.AddrPort
	Left     int64 // bytes it still needs; 0 for a seeder
	Uploaded int64
	Seen     time.Time
}

// Tracker is an HTTP BitTorrent tracker (BEP 3 announce, BEP 23 compact
// peer lists, BEP 7 peers6) that keeps its swarms in memory.
type Tracker struct {
	st       stack.Stack
	ln       net.Listener
	srv      *http.Server
	interval time.Duration

	mu     sync.Mutex
	swarms map[[20]byte]map[[20]byte]*TrackedPeer
}

// NewTracker starts a tracker listening on addr; peers announce to its
// URL every interval.
func NewTracker(st stack.Stack, addr string, interval time.Duration) (*Tracker, error) {
	ln, err := st.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, neterr.New("torrent.tracker", addr, err, 0)
	}
	t := &Tracker{st: st, ln: ln, interval: interval, swarms: map[[20]byte]map[[20]byte]*TrackedPeer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/announce", t.announce)
	t.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10}
	go t.srv.Serve(ln)
	return t, nil
}

// URL is the announce URL to put in a torrent.
// A tracker listening on every address is announced to at the loopback
// on the real network, and at the host's name on the lab.
func (t *Tracker) URL() string {
	addr := t.ln.Addr().String()
	if ap, err := netip.ParseAddrPort(addr); err == nil && ap.Addr().IsUnspecified() {
		host := "127.0.0.1"
		if t.st.Name() != "os" {
			host = t.st.Hostname()
		}
		addr = net.JoinHostPort(host, strconv.Itoa(int(ap.Port())))
	}
	return "http://" + addr + "/announce"
}

// Stop closes the tracker.
func (t *Tracker) Stop() { t.srv.Close() }

// Peers lists the live peers of a swarm, sorted by address.
func (t *Tracker) Peers(infoHash [20]byte) []TrackedPeer {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(infoHash)
	var out []TrackedPeer
	for _, p := range t.swarms[infoHash] {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.String() < out[j].Addr.String() })
	return out
}

// expire forgets peers that have not announced for three intervals (t.mu held).
func (t *Tracker) expire(ih [20]byte) {
	now := t.st.Now()
	for id, p := range t.swarms[ih] {
		if now.Sub(p.Seen) > 3*t.interval+time.Minute {
			delete(t.swarms[ih], id)
		}
	}
}

func failure(w http.ResponseWriter, format string, args ...any) {
	b, _ := bencode.EncodeBytes(map[string]any{"failure reason": fmt.Sprintf(format, args...)})
	w.Header().Set("Content-Type", "text/plain")
	w.Write(b)
}

func (t *Tracker) announce(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ih, id := q.Get("info_hash"), q.Get("peer_id")
	if len(ih) != 20 {
		failure(w, "info_hash must be 20 bytes, got %d", len(ih))
		return
	}
	if len(id) != 20 {
		failure(w, "peer_id must be 20 bytes, got %d", len(id))
		return
	}
	port, err := strconv.Atoi(q.Get("port"))
	if err != nil || port < 1 || port > 65535 {
		failure(w, "port %q is not a port number", q.Get("port"))
		return
	}
	num := func(key string) int64 {
		n, _ := strconv.ParseInt(q.Get(key), 10, 64)
		return max(n, 0)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip, perr := netip.ParseAddr(host)
	if err != nil || perr != nil {
		failure(w, "cannot tell the address of %q", r.RemoteAddr)
		return
	}
	ip = ip.Unmap()
	numwant := DefaultNumWant
	if s := q.Get("numwant"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			numwant = min(n, 200)
		}
	}
	switch ev := q.Get("event"); ev {
	case "", "started", "completed", "stopped", "empty":
	default:
		failure(w, "unknown event %q", ev)
		return
	}
	key, pid := [20]byte([]byte(ih)), [20]byte([]byte(id))

	t.mu.Lock()
	swarm := t.swarms[key]
	if swarm == nil {
		swarm = map[[20]byte]*TrackedPeer{}
		t.swarms[key] = swarm
	}
	t.expire(key)
	if q.Get("event") == "stopped" {
		delete(swarm, pid)
	} else {
		swarm[pid] = &TrackedPeer{ID: pid, Addr: netip.AddrPortFrom(ip, uint16(port)), Left: num("left"), Uploaded: num("uploaded"), Seen: t.st.Now()}
	}
	var others []*TrackedPeer
	complete, incomplete := 0, 0
	for k, p := range swarm {
		if p.Left == 0 {
			complete++
		} else {
			incomplete++
		}
		if k != pid {
			others = append(others, p)
		}
	}
	t.mu.Unlock()
	sort.Slice(others, func(i, j int) bool { return others[i].Addr.String() < others[j].Addr.String() })
	if len(others) > numwant {
		others = others[:numwant]
	}

	resp := map[string]any{"interval": int64(t.interval / time.Second), "complete": complete, "incomplete": incomplete}
	if q.Get("compact") == "0" {
		var list []map[string]any
		for _, p := range others {
			list = append(list, map[string]any{"peer id": string(p.ID[:]), "ip": p.Addr.Addr().String(), "port": int(p.Addr.Port())})
		}
		if list == nil {
			list = []map[string]any{}
		}
		resp["peers"] = list
	} else {
		var v4, v6 []byte
		for _, p := range others {
			a := p.Addr.Addr()
			if a.Is4() {
				v4 = append(v4, a.AsSlice()...)
				v4 = binary.BigEndian.AppendUint16(v4, p.Addr.Port())
			} else {
				v6 = append(v6, a.AsSlice()...)
				v6 = binary.BigEndian.AppendUint16(v6, p.Addr.Port())
			}
		}
		resp["peers"] = string(v4)
		if len(v6) > 0 {
			resp["peers6"] = string(v6)
		}
	}
	b, err := bencode.EncodeBytes(resp)
	if err != nil {
		failure(w, "internal error: %v", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write(b)
}

// An Announce is what a peer tells the tracker.
type Announce struct {
	InfoHash, PeerID     [20]byte
	Port                 int
	Uploaded, Downloaded int64
	Left                 int64
	Event                string // "started", "completed", "stopped" or ""
	NumWant              int
}

// AnnounceResponse is the tracker's answer.
type AnnounceResponse struct {
	Interval             time.Duration
	Complete, Incomplete int
	Peers                []netip.AddrPort
}

// SendAnnounce announces to the tracker at announceURL over st.
func SendAnnounce(ctx context.Context, st stack.Stack, announceURL string, a Announce, op string) (*AnnounceResponse, error) {
	u, err := url.Parse(announceURL)
	if err != nil || u.Scheme != "http" {
		return nil, neterr.Errorf(neterr.KindArgument, op, announceURL, "tracker URL must be http://host:port/path")
	}
	q := u.Query()
	q.Set("info_hash", string(a.InfoHash[:]))
	q.Set("peer_id", string(a.PeerID[:]))
	q.Set("port", strconv.Itoa(a.Port))
	q.Set("uploaded", strconv.FormatInt(a.Uploaded, 10))
	q.Set("downloaded", strconv.FormatInt(a.Downloaded, 10))
	q.Set("left", strconv.FormatInt(a.Left, 10))
	q.Set("compact", "1")
	if a.NumWant == 0 {
		a.NumWant = DefaultNumWant
	}
	q.Set("numwant", strconv.Itoa(a.NumWant))
	if a.Event != "" {
		q.Set("event", a.Event)
	}
	u.RawQuery = q.Encode()
	client := &http.Client{Transport: &http.Transport{
		DialContext:       func(ctx context.Context, network, addr string) (net.Conn, error) { return st.Dial(ctx, network, addr) },
		DisableKeepAlives: true,
		Proxy:             nil,
	}}
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return nil, neterr.Errorf(neterr.KindArgument, op, announceURL, "%v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, neterr.New(op, u.Host, err, 0)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, neterr.New(op, u.Host, err, 0)
	}
	if resp.StatusCode != 200 {
		return nil, neterr.Errorf(neterr.KindProtocol, op, u.Host, "tracker answered HTTP %d", resp.StatusCode)
	}
	return ParseAnnounceResponse(body, op, u.Host)
}

// ParseAnnounceResponse decodes a tracker's bencoded answer; a failure
// reason becomes an error.
func ParseAnnounceResponse(body []byte, op, peer string) (*AnnounceResponse, error) {
	bad := func(format string, args ...any) error {
		return neterr.Errorf(neterr.KindProtocol, op, peer, "tracker response: "+format, args...)
	}
	if err := Check(body); err != nil || len(body) == 0 || body[0] != 'd' {
		return nil, bad("not a bencoded dictionary")
	}
	var d map[string]bencode.RawMessage
	if err := bencode.DecodeBytes(body, &d); err != nil {
		return nil, bad("%v", err)
	}
	if raw, ok := d["failure reason"]; ok {
		s, err := decodeString("failure reason", raw)
		if err != nil {
			return nil, bad("%v", err)
		}
		return nil, neterr.Errorf(neterr.KindProtocol, op, peer, "tracker refused: %s", s)
	}
	r := &AnnounceResponse{Interval: 30 * time.Minute}
	if raw, ok := d["interval"]; ok {
		n, err := decodeInt("interval", raw)
		if err != nil {
			return nil, bad("%v", err)
		}
		r.Interval = time.Duration(max(n, 1)) * time.Second
	}
	for key, dst := range map[string]*int{"complete": &r.Complete, "incomplete": &r.Incomplete} {
		if raw, ok := d[key]; ok {
			if n, err := decodeInt(key, raw); err == nil {
				*dst = int(n)
			}
		}
	}
	if raw, ok := d["peers"]; ok && len(raw) > 0 {
		if raw[0] == 'l' {
			var list []map[string]any
			if err := bencode.DecodeBytes(raw, &list); err != nil {
				return nil, bad("field peers: %v", err)
			}
			for i, e := range list {
				ip, _ := e["ip"].(string)
				port, _ := e["port"].(int64)
				a, err := netip.ParseAddr(ip)
				if err != nil || port < 1 || port > 65535 {
					return nil, bad("field peers[%d]: bad ip %q or port %d", i, ip, port)
				}
				r.Peers = append(r.Peers, netip.AddrPortFrom(a.Unmap(), uint16(port)))
			}
		} else {
			s, err := decodeString("peers", raw)
			if err != nil {
				return nil, bad("%v", err)
			}
			if len(s)%6 != 0 {
				return nil, bad("field peers: %d bytes is not a multiple of 6", len(s))
			}
			for i := 0; i < len(s); i += 6 {
				a := netip.AddrFrom4([4]byte([]byte(s[i : i+4])))
				r.Peers = append(r.Peers, netip.AddrPortFrom(a, binary.BigEndian.Uint16([]byte(s[i+4:i+6]))))
			}
		}
	}
	if raw, ok := d["peers6"]; ok {
		s, err := decodeString("peers6", raw)
		if err != nil || len(s)%18 != 0 {
			return nil, bad("field peers6: want a string of 18-byte entries")
		}
		for i := 0; i < len(s); i += 18 {
			a := netip.AddrFrom16([16]byte([]byte(s[i : i+16])))
			r.Peers = append(r.Peers, netip.AddrPortFrom(a, binary.BigEndian.Uint16([]byte(s[i+16:i+18]))))
		}
	}
	return r, nil
}

// announce tells the tracker how we are doing and connects to the peers it lists.
func (p *Peer) announce(ctx context.Context, event string) (time.Duration, error) {
	p.mu.Lock()
	a := Announce{InfoHash: p.meta.InfoHash, PeerID: p.id, Uploaded: p.uploaded, Downloaded: p.download, Left: p.meta.Length - p.haveBytes, Event: event}
	p.mu.Unlock()
	if tcp, ok := p.ln.Addr().(*net.TCPAddr); ok {
		a.Port = tcp.Port
	}
	resp, err := SendAnnounce(ctx, p.st, p.meta.Announce, a, p.op)
	if err != nil {
		p.trace("%s announce failed: %v", p.Addr(), err)
		return 0, err
	}
	if p.cfg.Trace != nil {
		p.trace("%s announce %s: %d peers, interval %s", p.Addr(), or(event, "update"), len(resp.Peers), neterr.FormatDuration(resp.Interval))
	}
	if event != "stopped" {
		for _, ap := range resp.Peers {
			p.Connect(ap.String())
		}
	}
	return resp.Interval, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// announceLoop announces when the peer starts, every interval the
// tracker asks for, and when the download completes.
func (p *Peer) announceLoop() {
	defer p.wg.Done()
	event := "started"
	p.mu.Lock()
	p.completed = false // a seeder that starts complete says so with "started"
	p.mu.Unlock()
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
		interval, err := p.announce(ctx, event)
		cancel()
		if p.ctx.Err() != nil {
			return
		}
		if err != nil {
			interval = 15 * time.Second // try again soon
		} else {
			event = ""
		}
		// The timer and completion wake the loop through one stack.Wake
		// (on the lab, in the lab's order of wake-ups).
		t := p.st.AfterFunc(interval, p.announceWake.Signal)
		err = p.announceWake.Wait(p.ctx)
		t.Stop()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.completed {
			p.completed, event = false, "completed"
		}
		p.mu.Unlock()
	}
}
