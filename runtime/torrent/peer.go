package torrent

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Limits that keep one misbehaving peer from hurting the others.
const (
	MaxQueuedRequests = 256 // a peer asking for more at once is flooding: closed
	MaxConns          = 60  // connections per peer
	MaxBadPieces      = 2   // pieces failing their hash before a peer is banned
	HandshakeTimeout  = 10 * time.Second
	IdleTimeout       = 3 * time.Minute // nothing received, not even a keep-alive: closed
	KeepAliveInterval = 90 * time.Second
	DefaultPipeline   = 32 // requests in flight per connection
)

// Config configures a Peer.
type Config struct {
	Meta  *MetaInfo
	Data  []byte // the whole content to seed, served as given; nil to download it
	Stack stack.Stack
	// Listen is the address to accept peers on ("127.0.0.1:0", ":6881").
	Listen       string
	PeerID       [20]byte // zero: random, "-NP0001-" and 12 random characters
	UploadRate   float64  // bytes/s, 0: unlimited
	DownloadRate float64  // bytes/s, 0: unlimited
	Choker       Choker   // nil: TitForTat
	Picker       Picker   // nil: RarestFirst
	Pipeline     int      // requests in flight per connection; 0: DefaultPipeline
	// Trace, if set, receives one line per message sent or received.
	Trace func(line string)
	// Op names this peer's operations in errors ("torrent.peer").
	Op string
}

// ChokeEvent is one change of choke state on a connection, at a time
// since the peer started: "choke"/"unchoke" are ours, "choked"/"unchoked"
// are the remote peer's.
type ChokeEvent struct {
	At    time.Duration
	Event string
}

// PeerStats is what happened on the connection with one remote peer.
type PeerStats struct {
	ID, Addr       string
	Uploaded       int64   // block bytes sent to it
	Downloaded     int64   // block bytes received from it
	UploadRate     float64 // bytes/s over the last 20 s
	DownloadRate   float64
	AmChoking      bool
	AmInterested   bool
	PeerChoking    bool
	PeerInterested bool
	Snubbed        bool
	Connected      bool
	BadPieces      int    // pieces it contributed to that failed their hash
	Closed         string // why the connection ended, "" while open
	History        []ChokeEvent
}

// Stats are a peer's totals and its connections, in the order they came.
type Stats struct {
	Uploaded, Downloaded int64
	HashFailures         int
	Peers                []PeerStats
}

type block struct{ index, begin, length uint32 }

// piece is a piece being downloaded.
type piece struct {
	buf   []byte
	got   []bool      // per block
	reqs  []int       // requests in flight per block, over all connections
	asked []time.Time // when each block was last requested
	ngot  int
	from  map[string]bool // ids of the peers that sent its blocks
	avoid map[string]bool // peers that sent bad data for it before
}

// Peer is one BitTorrent client: it downloads a torrent from the peers it
// meets and uploads to them, then seeds.
type Peer struct {
	cfg    Config
	st     stack.Stack
	meta   *MetaInfo
	op     string
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	choker Choker
	picker Picker
	up     *limiter
	down   *limiter
	paced  bool // reads of long messages are paced (on a virtual clock)
	id     [20]byte
	epoch  time.Time

	mu           sync.Mutex
	data         []byte
	have         Bitfield
	haveCount    int
	haveBytes    int64
	pieces       map[int]*piece
	avoid        map[int]map[string]bool // survives a failed piece's restart
	avail        []int
	conns        map[*conn]bool
	byID         map[string]*conn
	peerStats    []*PeerStats
	statsByID    map[string]*PeerStats
	banned       map[string]bool // peer ids and addresses
	dialing      map[string]bool // addresses we are connected or connecting to
	selfAddrs    map[string]bool
	started      bool
	stopped      bool
	done         chan struct{} // closed when complete
	uploaded     int64
	download     int64
	hashFails    int
	doneAt       time.Duration
	announceWake stack.Wake   // wakes the announce loop: its timer, or completion
	completed    bool         // completion not yet announced
	waiters      []stack.Wake // Wait calls, woken in turn on completion or stop

	kick stack.Wake // asks the choke loop to rechoke
	wg   sync.WaitGroup
}

// NewPeer makes a peer and starts listening; Start sets it working.
func NewPeer(cfg Config) (*Peer, error) {
	if cfg.Op == "" {
		cfg.Op = "torrent.peer"
	}
	m := cfg.Meta
	if m == nil {
		return nil, neterr.Errorf(neterr.KindArgument, cfg.Op, "", "no metainfo")
	}
	if cfg.Data != nil && int64(len(cfg.Data)) != m.Length {
		return nil, neterr.Errorf(neterr.KindArgument, cfg.Op, "", "data is %d bytes, the torrent %d", len(cfg.Data), m.Length)
	}
	if cfg.Pipeline <= 0 {
		cfg.Pipeline = DefaultPipeline
	}
	if cfg.Listen == "" {
		cfg.Listen = ":0"
	}
	p := &Peer{
		cfg: cfg, st: cfg.Stack, meta: m, op: cfg.Op, id: cfg.PeerID,
		choker: cfg.Choker, picker: cfg.Picker,
		have: NewBitfield(m.NumPieces()), pieces: map[int]*piece{}, avoid: map[int]map[string]bool{},
		avail: make([]int, m.NumPieces()), conns: map[*conn]bool{}, byID: map[string]*conn{},
		statsByID: map[string]*PeerStats{}, banned: map[string]bool{}, dialing: map[string]bool{},
		selfAddrs: map[string]bool{}, done: make(chan struct{}), kick: stack.NewWake(cfg.Stack),
		announceWake: stack.NewWake(cfg.Stack),
	}
	ln, err := p.st.Listen(context.Background(), "tcp", cfg.Listen)
	if err != nil {
		return nil, neterr.New(cfg.Op, cfg.Listen, err, 0)
	}
	p.ln = ln
	if p.id == ([20]byte{}) {
		if p.st.Name() == "os" {
			p.id = RandomPeerID()
		} else {
			// On the lab the id follows from the host and port, so an
			// experiment makes the same choices on every run.
			p.id = derivedPeerID(p.st.Hostname() + " " + ln.Addr().String())
		}
	}
	seed := binary.BigEndian.Uint64(p.id[12:])
	if p.choker == nil {
		p.choker = &TitForTat{Seed: seed}
	}
	if p.picker == nil {
		p.picker = &RarestFirst{Seed: seed}
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.paced = !strings.HasPrefix(p.st.Name(), "os")
	p.up = newLimiter(p.st, cfg.UploadRate)
	p.down = newLimiter(p.st, cfg.DownloadRate)
	if cfg.Data != nil {
		p.data = cfg.Data
		for i := range m.NumPieces() {
			p.have.Set(i)
		}
		p.haveCount, p.haveBytes = m.NumPieces(), m.Length
		close(p.done)
	} else {
		p.data = make([]byte, m.Length)
	}
	return p, nil
}

// RandomPeerID is "-NP0001-" (netplay, version 0.0.0.1, Azureus style)
// followed by 12 random alphanumerics.
func RandomPeerID() [20]byte {
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var id [20]byte
	copy(id[:], "-NP0001-")
	var r [12]byte
	rand.Read(r[:])
	for i, c := range r {
		id[8+i] = alnum[int(c)%len(alnum)]
	}
	return id
}

// derivedPeerID is "-NP0001-" and 12 alphanumerics from a hash of key.
func derivedPeerID(key string) [20]byte {
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var id [20]byte
	copy(id[:], "-NP0001-")
	h := sha1.Sum([]byte(key))
	for i := range 12 {
		id[8+i] = alnum[int(h[i])%len(alnum)]
	}
	return id
}

// ID is this peer's id.
func (p *Peer) ID() [20]byte { return p.id }

// Addr is the address it accepts peers on.
func (p *Peer) Addr() string { return p.ln.Addr().String() }

// Meta is the torrent it shares.
func (p *Peer) Meta() *MetaInfo { return p.meta }

// Start accepts peers, announces to the tracker (if the torrent names
// one) and connects to the peers it lists, and runs the choker.
func (p *Peer) Start() {
	p.mu.Lock()
	if p.started || p.stopped {
		p.mu.Unlock()
		return
	}
	p.started = true
	p.epoch = p.st.Now()
	p.mu.Unlock()
	p.wg.Add(3)
	go p.acceptLoop()
	go p.chokeLoop()
	go p.tickLoop()
	if p.meta.Announce != "" {
		p.wg.Add(1)
		go p.announceLoop()
	}
}

// Stop closes every connection and the listener, telling the tracker.
func (p *Peer) Stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	started := p.started
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	if started && p.meta.Announce != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p.announce(ctx, "stopped")
		cancel()
	}
	p.cancel()
	p.ln.Close()
	for _, c := range conns {
		c.nc.Close()
	}
	// The goroutines end on their own: waiting for them here could wait
	// for a Starlark choker that waits for the interpreter lock our
	// caller holds.
}

// WaitStopped waits until every goroutine of a stopped peer has ended
// (for tests that check nothing leaks).
func (p *Peer) WaitStopped() { p.wg.Wait() }

// Done is closed once the peer has every piece.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Wait waits until the download is complete, ctx ends or the peer stops.
// Each call waits on a stack.Wake of its own, so that on the lab the
// waiters (a script's tasks) are woken one at a time, in the order they
// began waiting.
func (p *Peer) Wait(ctx context.Context) error {
	p.mu.Lock()
	if p.haveCount == p.meta.NumPieces() {
		p.mu.Unlock()
		return nil
	}
	w := stack.NewWake(p.st)
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	stop := context.AfterFunc(p.ctx, w.Signal)
	err := w.Wait(ctx)
	stop()
	p.mu.Lock()
	p.waiters = slices.DeleteFunc(p.waiters, func(o stack.Wake) bool { return o == w })
	complete := p.haveCount == p.meta.NumPieces()
	p.mu.Unlock()
	switch {
	case complete:
		return nil
	case err != nil:
		return err
	}
	return neterr.Errorf(neterr.KindClosed, p.op, "", "stopped before the download completed")
}

// Complete reports whether the peer has every piece.
func (p *Peer) Complete() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Progress is the fraction of the content's bytes the peer has.
func (p *Peer) Progress() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return float64(p.haveBytes) / float64(p.meta.Length)
}

// Have returns how many bytes of the content the peer has.
func (p *Peer) Have() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.haveBytes
}

// CompletedAfter is how long after Start the download completed (0 for a
// seeder or an incomplete download).
func (p *Peer) CompletedAfter() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.doneAt
}

// Data returns the content; the pieces not yet downloaded are zeros.
func (p *Peer) Data() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := append([]byte(nil), p.data...)
	for i := range p.meta.NumPieces() {
		if !p.have.Has(i) {
			off := int64(i) * p.meta.PieceLength
			clear(d[off : off+int64(p.meta.PieceSize(i))])
		}
	}
	return d
}

// Stats returns a snapshot of the totals and of every connection so far.
func (p *Peer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.st.Now()
	s := Stats{Uploaded: p.uploaded, Downloaded: p.download, HashFailures: p.hashFails}
	for _, ps := range p.peerStats {
		c := p.byID[ps.ID]
		if c != nil {
			c.syncStats(now)
		}
		cp := *ps
		cp.History = append([]ChokeEvent(nil), ps.History...)
		s.Peers = append(s.Peers, cp)
	}
	return s
}

// Connect opens a connection to the peer at addr (in the background; a
// failure shows in the trace and stats only).
func (p *Peer) Connect(addr string) {
	p.mu.Lock()
	if p.stopped || p.dialing[addr] || p.banned[addr] || p.selfAddrs[addr] || len(p.conns) >= MaxConns {
		p.mu.Unlock()
		return
	}
	p.dialing[addr] = true
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(p.ctx, HandshakeTimeout)
		nc, err := p.st.Dial(ctx, "tcp", addr)
		cancel()
		if err != nil {
			p.trace("%s x %s connect failed: %v", p.Addr(), addr, neterr.New(p.op, addr, err, HandshakeTimeout))
			p.mu.Lock()
			delete(p.dialing, addr)
			p.mu.Unlock()
			return
		}
		p.serve(nc, true, addr)
	}()
}

func (p *Peer) trace(format string, args ...any) {
	if p.cfg.Trace != nil {
		p.cfg.Trace(fmt.Sprintf(format, args...))
	}
}

func (p *Peer) acceptLoop() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		p.mu.Lock()
		full := len(p.conns) >= MaxConns || p.stopped
		if !full {
			p.wg.Add(1)
		}
		p.mu.Unlock()
		if full {
			nc.Close()
			continue
		}
		go func() {
			defer p.wg.Done()
			p.serve(nc, false, "")
		}()
	}
}

// conn is one connection to a remote peer. Its fields are guarded by p.mu.
type conn struct {
	p        *Peer
	nc       net.Conn
	id       string
	addr     string
	dialAddr string // the address we dialed, "" for an accepted connection
	outgoing bool
	stats    *PeerStats

	amChoking, amInterested     bool
	peerChoking, peerInterested bool
	has                         Bitfield
	hasCount                    int
	inflight                    map[block]bool // our requests to it
	queue                       []block        // its requests to us
	upMeter, downMeter          *meter
	since, lastBlock            time.Time
	lastWrite                   time.Time
	out                         []Message
	droppedRequests             int        // requests received while choked, since the last unchoke
	wake                        stack.Wake // the writer's (see stack.Wake for why not a channel)
	closed                      bool
	rxRate                      float64 // bytes/s of the last long message (pace), read loop only
}

func (c *conn) syncStats(now time.Time) {
	s := c.stats
	s.UploadRate, s.DownloadRate = c.upMeter.rate(now), c.downMeter.rate(now)
	s.AmChoking, s.AmInterested, s.PeerChoking, s.PeerInterested = c.amChoking, c.amInterested, c.peerChoking, c.peerInterested
	s.Snubbed = c.snubbed(now)
}

func (c *conn) snubbed(now time.Time) bool {
	last := c.lastBlock
	if last.Before(c.since) {
		last = c.since
	}
	return c.amInterested && now.Sub(last) >= SnubTimeout
}

func (c *conn) history(event string) {
	h := &c.stats.History
	*h = append(*h, ChokeEvent{At: c.p.st.Now().Sub(c.p.epoch), Event: event})
	if len(*h) > 200 {
		*h = (*h)[len(*h)-200:]
	}
}

// send queues a message for the writer (p.mu held).
func (c *conn) send(m Message) {
	if c.closed {
		return
	}
	c.out = append(c.out, m)
	c.signal()
}

func (c *conn) signal() { c.wake.Signal() }

// serve runs one connection: the handshake, then reading messages until
// the connection ends.
func (p *Peer) serve(nc net.Conn, outgoing bool, dialAddr string) {
	addr := nc.RemoteAddr().String()
	defer func() {
		if dialAddr != "" {
			p.mu.Lock()
			delete(p.dialing, dialAddr)
			p.mu.Unlock()
		}
	}()
	c, err := p.handshake(nc, outgoing, dialAddr)
	if err != nil {
		nc.Close()
		p.trace("%s x %s handshake failed: %v", p.Addr(), addr, err)
		return
	}
	err = p.readLoop(c)
	p.unregister(c, err)
}

func (p *Peer) handshake(nc net.Conn, outgoing bool, dialAddr string) (*conn, error) {
	addr := nc.RemoteAddr().String()
	nc.SetDeadline(p.st.Now().Add(HandshakeTimeout))
	ours := Handshake{InfoHash: p.meta.InfoHash, PeerID: p.id}
	if outgoing {
		if _, err := nc.Write(ours.Bytes()); err != nil {
			return nil, neterr.New(p.op, addr, err, HandshakeTimeout)
		}
	}
	h, err := ReadHandshake(nc)
	if err != nil {
		return nil, protoErr(p.op, addr, err)
	}
	if h.InfoHash != p.meta.InfoHash {
		return nil, neterr.Errorf(neterr.KindProtocol, p.op, addr, "handshake for another torrent (info hash %x)", h.InfoHash)
	}
	if h.PeerID == p.id {
		p.mu.Lock()
		if dialAddr != "" {
			p.selfAddrs[dialAddr] = true
		}
		p.mu.Unlock()
		return nil, neterr.Errorf(neterr.KindProtocol, p.op, addr, "connected to ourselves")
	}
	if !outgoing {
		if _, err := nc.Write(ours.Bytes()); err != nil {
			return nil, neterr.New(p.op, addr, err, HandshakeTimeout)
		}
	}
	nc.SetDeadline(time.Time{})
	id := string(h.PeerID[:])
	now := p.st.Now()
	c := &conn{
		p: p, nc: nc, id: id, addr: addr, dialAddr: dialAddr, outgoing: outgoing,
		amChoking: true, peerChoking: true, has: NewBitfield(p.meta.NumPieces()),
		inflight: map[block]bool{}, upMeter: newMeter(now), downMeter: newMeter(now),
		since: now, lastWrite: now, wake: stack.NewWake(p.st),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, neterr.Errorf(neterr.KindClosed, p.op, addr, "peer stopped")
	}
	if p.banned[id] {
		return nil, neterr.Errorf(neterr.KindProtocol, p.op, addr, "peer %s is banned for sending bad data", PeerIDString(h.PeerID))
	}
	if old := p.byID[id]; old != nil {
		// Both sides dialled each other. Both keep the connection opened
		// by the peer with the smaller id, so they agree on which one.
		initiator := func(c *conn) string {
			if c.outgoing {
				return string(p.id[:])
			}
			return c.id
		}
		if initiator(old) <= initiator(c) {
			return nil, neterr.Errorf(neterr.KindClosed, p.op, addr, "already connected to %s", PeerIDString(h.PeerID))
		}
		old.closed = true
		old.nc.Close()
	}
	st := p.statsByID[id]
	if st == nil {
		st = &PeerStats{ID: id}
		p.statsByID[id] = st
		p.peerStats = append(p.peerStats, st)
	}
	st.Addr, st.Connected, st.Closed = addr, true, ""
	c.stats = st
	c.syncStats(now)
	p.conns[c] = true
	p.byID[id] = c
	if p.haveCount > 0 {
		c.send(Message{ID: MsgBitfield, Bitfield: append([]byte(nil), p.have...)})
	}
	p.wg.Add(1)
	go p.writeLoop(c)
	return c, nil
}

func protoErr(op, addr string, err error) error {
	if errors.Is(err, ErrProtocol) || (err != nil && !isNetErr(err)) {
		return neterr.Errorf(neterr.KindProtocol, op, addr, "%v", err)
	}
	return neterr.New(op, addr, err, 0)
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// unregister forgets a connection that ended, releasing its requests for
// the other connections to take.
func (p *Peer) unregister(c *conn, why error) {
	p.mu.Lock()
	c.closed = true
	c.signal()
	if p.conns[c] {
		delete(p.conns, c)
		if p.byID[c.id] == c {
			delete(p.byID, c.id)
			c.syncStats(p.st.Now())
			c.stats.Connected = false
			if why != nil {
				c.stats.Closed = why.Error()
			} else {
				c.stats.Closed = "closed"
			}
		}
		for i := range p.meta.NumPieces() {
			if c.has.Has(i) {
				p.avail[i]--
			}
		}
		p.dropRequests(c)
	}
	p.mu.Unlock()
	c.nc.Close()
	if why != nil {
		p.trace("%s x %s closed: %v", p.Addr(), c.addr, why)
	}
	p.rechokeSoon()
	p.fillAll()
}

// dropRequests forgets what we asked c for (p.mu held).
func (p *Peer) dropRequests(c *conn) {
	for b := range c.inflight {
		if pc := p.pieces[int(b.index)]; pc != nil {
			pc.reqs[b.begin/BlockSize]--
		}
	}
	clear(c.inflight)
}

func (p *Peer) maxMessage() int {
	return max(9+BlockSize, 1+(p.meta.NumPieces()+7)/8)
}

func (p *Peer) readLoop(c *conn) error {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	first := true
	for {
		c.nc.SetReadDeadline(p.st.Now().Add(IdleTimeout))
		if p.paced {
			p.pace(c, r)
		}
		m, b, err := ReadMessage(r, p.maxMessage(), buf)
		buf = b
		if err != nil {
			if p.ctx.Err() != nil {
				return nil
			}
			return protoErr(p.op, c.addr, err)
		}
		if p.cfg.Trace != nil {
			p.trace("%s <- %s %s", p.Addr(), c.addr, m)
		}
		if err := p.handle(c, m, first); err != nil {
			return err
		}
		if !m.KeepAlive {
			first = false
		}
		if m.ID == MsgPiece && !m.KeepAlive {
			if err := p.down.wait(p.ctx, len(m.Block)); err != nil {
				return nil
			}
		}
	}
}

// Pacing the reads of long messages on the lab. There a reader blocked
// on a socket is woken for every segment of a slow flow (a 16 KiB block
// from a peer sending at 200 kB/s comes as 12 segments 7 ms apart), and
// every wake-up is a round trip through the lab's scheduler in real time:
// on a swarm that is most of an experiment's real time. pace lets the
// segments of a block pile up in the socket while the reader sleeps on
// the lab clock, waking when half of what is missing should have arrived
// at the rate measured so far, so a block takes a few wake-ups, not
// twelve. It never wakes late unless the flow speeds up more than twofold
// (and then by at most paceMax); on the OS stack it is off.
const (
	paceMin  = 1460 // bytes still missing below which the reader just blocks
	paceMax  = 50 * time.Millisecond
	paceFrac = 0.5
)

// pace waits until most of the next message is in r (see above). Errors
// are left to the read that follows.
func (p *Peer) pace(c *conn, r *bufio.Reader) {
	hdr, err := r.Peek(4)
	if err != nil {
		return
	}
	total := 4 + int(binary.BigEndian.Uint32(hdr))
	if total > r.Size() {
		return
	}
	last, lastAt := r.Buffered(), p.st.Now()
	for {
		need := total - r.Buffered()
		if need <= paceMin {
			return
		}
		if c.rxRate > 0 {
			d := min(paceMax, time.Duration(paceFrac*float64(need)/c.rxRate*float64(time.Second)))
			if p.st.Sleep(p.ctx, d) != nil {
				return
			}
		}
		if _, err := r.Peek(r.Buffered() + 1); err != nil {
			return
		}
		now := p.st.Now()
		if dt := now.Sub(lastAt).Seconds(); dt > 0 {
			rate := float64(r.Buffered()-last) / dt
			if r.Buffered() >= total {
				// The message was whole before we looked: a lower bound.
				rate = max(rate, c.rxRate)
			}
			c.rxRate = rate
		}
		last, lastAt = r.Buffered(), now
	}
}

func (p *Peer) violation(c *conn, format string, args ...any) error {
	return neterr.Errorf(neterr.KindProtocol, p.op, c.addr, format, args...)
}

// handle acts on one message from c.
func (p *Peer) handle(c *conn, m Message, first bool) error {
	if m.KeepAlive {
		return nil
	}
	n := p.meta.NumPieces()
	p.mu.Lock()
	if c.closed {
		p.mu.Unlock()
		return errors.New("connection replaced")
	}
	fill, rechoke := false, false
	switch m.ID {
	case MsgChoke:
		if !c.peerChoking {
			c.peerChoking = true
			c.history("choked")
			p.dropRequests(c)
		}
	case MsgUnchoke:
		if c.peerChoking {
			c.peerChoking = false
			c.history("unchoked")
			fill = true
		}
	case MsgInterested:
		c.peerInterested, rechoke = true, true
	case MsgNotInterested:
		c.peerInterested, rechoke = false, true
	case MsgHave:
		if int(m.Index) >= n {
			p.mu.Unlock()
			return p.violation(c, "have for piece %d of %d", m.Index, n)
		}
		if !c.has.Has(int(m.Index)) {
			c.has.Set(int(m.Index))
			c.hasCount++
			p.avail[m.Index]++
			fill = p.updateInterest(c)
		}
	case MsgBitfield:
		if !first {
			p.mu.Unlock()
			return p.violation(c, "bitfield after other messages")
		}
		if err := CheckBitfield(m.Bitfield, n); err != nil {
			p.mu.Unlock()
			return p.violation(c, "%v", err)
		}
		copy(c.has, m.Bitfield)
		for i := range n {
			if c.has.Has(i) {
				c.hasCount++
				p.avail[i]++
			}
		}
		fill = p.updateInterest(c)
	case MsgRequest:
		b := block{m.Index, m.Begin, m.Length}
		if err := p.checkRequest(c, b); err != nil {
			p.mu.Unlock()
			return err
		}
		if c.amChoking {
			// Requests while choked are dropped (BEP 3); a few cross our
			// choke on the wire, a flood of them is abuse.
			c.droppedRequests++
			if c.droppedRequests > MaxQueuedRequests {
				p.mu.Unlock()
				return p.violation(c, "request flood: more than %d requests while choked", MaxQueuedRequests)
			}
			break
		}
		if len(c.queue) >= MaxQueuedRequests {
			p.mu.Unlock()
			return p.violation(c, "request flood: more than %d requests queued", MaxQueuedRequests)
		}
		c.queue = append(c.queue, b)
		c.signal()
	case MsgCancel:
		for i, q := range c.queue {
			if q == (block{m.Index, m.Begin, m.Length}) {
				c.queue = append(c.queue[:i], c.queue[i+1:]...)
				break
			}
		}
	case MsgPiece:
		if int(m.Index) >= n || int64(m.Begin)+int64(len(m.Block)) > int64(p.meta.PieceSize(int(m.Index))) || len(m.Block) == 0 {
			p.mu.Unlock()
			return p.violation(c, "piece %d begin %d length %d is outside the torrent", m.Index, m.Begin, len(m.Block))
		}
		p.mu.Unlock()
		p.received(c, m)
		p.fill(c)
		return nil
	}
	p.mu.Unlock()
	if rechoke {
		p.rechokeSoon()
	}
	if fill {
		p.fill(c)
	}
	return nil
}

// checkRequest refuses requests a well-behaved peer never makes (p.mu held).
func (p *Peer) checkRequest(c *conn, b block) error {
	n := p.meta.NumPieces()
	switch {
	case int(b.index) >= n:
		return p.violation(c, "request for piece %d of %d", b.index, n)
	case !p.have.Has(int(b.index)):
		return p.violation(c, "request for piece %d, which we do not have", b.index)
	case b.length == 0 || b.length > BlockSize:
		return p.violation(c, "request of %d bytes (at most %d)", b.length, BlockSize)
	case int64(b.begin)+int64(b.length) > int64(p.meta.PieceSize(int(b.index))):
		return p.violation(c, "request beyond the end of piece %d (begin %d length %d, piece of %d)", b.index, b.begin, b.length, p.meta.PieceSize(int(b.index)))
	}
	return nil
}

// updateInterest tells c whether we want something it has, and reports
// whether we do (p.mu held).
func (p *Peer) updateInterest(c *conn) bool {
	want := false
	if p.haveCount < p.meta.NumPieces() {
		for i := range p.meta.NumPieces() {
			if c.has.Has(i) && !p.have.Has(i) {
				want = true
				break
			}
		}
	}
	if want != c.amInterested {
		c.amInterested = want
		if want {
			c.send(Message{ID: MsgInterested})
			c.lastBlock = p.st.Now()
		} else {
			c.send(Message{ID: MsgNotInterested})
		}
	}
	return want && !c.peerChoking
}

// received stores a block from c and checks the piece once it is whole.
// A block we no longer asked for (our cancel or its choke crossed it on the
// wire) is still kept if we lack it: it has used the link already.
func (p *Peer) received(c *conn, m Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := block{m.Index, m.Begin, uint32(len(m.Block))}
	now := p.st.Now()
	asked := c.inflight[b]
	pc := p.pieces[int(b.index)]
	k := int(b.begin / BlockSize)
	if !asked && (pc == nil || p.avoid[int(b.index)][c.id] || b.begin%BlockSize != 0 || b != p.blockAt(int(b.index), k) || pc.got[k]) {
		return // not asked for and of no use: ignored
	}
	if asked {
		delete(c.inflight, b)
		if pc != nil {
			pc.reqs[k]--
		}
	}
	if pc == nil {
		return
	}
	c.downMeter.add(now, len(m.Block))
	c.stats.Downloaded += int64(len(m.Block))
	p.download += int64(len(m.Block))
	c.lastBlock = now
	if pc.got[k] {
		return // a duplicate from endgame
	}
	copy(pc.buf[b.begin:], m.Block)
	pc.got[k] = true
	pc.ngot++
	pc.from[c.id] = true
	if pc.reqs[k] > 0 {
		// Endgame: someone else was asked for this block too.
		for _, o := range p.connList() {
			if o != c && o.inflight[b] {
				delete(o.inflight, b)
				pc.reqs[k]--
				o.send(Message{ID: MsgCancel, Index: b.index, Begin: b.begin, Length: b.length})
			}
		}
	}
	if pc.ngot == len(pc.got) {
		p.verify(int(b.index), pc)
	}
}

// verify checks a whole piece against its SHA-1 (p.mu held): a good one is
// kept and announced, a bad one thrown away and blamed on its senders.
func (p *Peer) verify(i int, pc *piece) {
	delete(p.pieces, i)
	if sha1.Sum(pc.buf) != p.meta.Hashes[i] {
		p.hashFails++
		p.trace("%s piece %d failed its SHA-1 check (from %d peers): discarded", p.Addr(), i, len(pc.from))
		for o := range p.conns {
			for b := range o.inflight {
				if int(b.index) == i {
					delete(o.inflight, b)
				}
			}
		}
		if p.avoid[i] == nil {
			p.avoid[i] = map[string]bool{}
		}
		for id := range pc.from {
			if len(pc.from) == 1 {
				p.avoid[i][id] = true // fetch it from someone else next time
			}
			st := p.statsByID[id]
			st.BadPieces++
			if st.BadPieces >= MaxBadPieces {
				p.banned[id] = true
				if o := p.byID[id]; o != nil {
					p.banned[o.addr] = true
					if o.dialAddr != "" {
						p.banned[o.dialAddr] = true
					}
					p.trace("%s x %s banned: %d bad pieces", p.Addr(), o.addr, st.BadPieces)
					o.nc.Close()
				}
			}
		}
		go p.fillAll()
		return
	}
	p.have.Set(i)
	p.haveCount++
	p.haveBytes += int64(len(pc.buf))
	delete(p.avoid, i)
	for _, o := range p.connList() {
		// No HAVE to a peer that has the piece itself (as libtorrent
		// does): it learns nothing it needs from it, and on a swarm
		// HAVEs are most of the messages.
		if !o.has.Has(i) {
			o.send(Message{ID: MsgHave, Index: uint32(i)})
		}
		if o.amInterested {
			p.updateInterest(o)
		}
	}
	if p.haveCount == p.meta.NumPieces() {
		p.doneAt = p.st.Now().Sub(p.epoch)
		close(p.done)
		p.trace("%s complete after %s", p.Addr(), neterr.FormatDuration(p.doneAt))
		for _, w := range p.waiters {
			w.Signal()
		}
		p.completed = true
		p.announceWake.Signal()
		p.rechokeSoon()
	}
}

// connList is p.conns in a fixed order (by peer id, then address), for
// every loop whose order shows: which connection is asked first, which
// HAVE leaves first. Ranging over the map would draw a new order each
// time, and a lab experiment would not repeat (p.mu held).
func (p *Peer) connList() []*conn {
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	sort.Slice(conns, func(i, j int) bool {
		if conns[i].id != conns[j].id {
			return conns[i].id < conns[j].id
		}
		return conns[i].addr < conns[j].addr
	})
	return conns
}

func (p *Peer) fillAll() {
	p.mu.Lock()
	conns := p.connList()
	p.mu.Unlock()
	for _, c := range conns {
		p.fill(c)
	}
}

// fill keeps Pipeline requests in flight to c: first the missing blocks
// of pieces already started (strict priority: finish a piece before
// starting another, so it can be shared sooner), then a new piece from
// the picker, and at the very end the same blocks from several peers
// (endgame), so the last piece does not wait on the slowest peer. A
// started piece is left to others when c has a rarer one nobody fetches:
// otherwise a seed's upload goes to pieces the leechers could trade among
// themselves, and fewer new pieces enter the swarm.
func (p *Peer) fill(c *conn) {
	rarer := true // whether a rarer piece to start may pass a started one
	for tries := 0; tries < 64; tries++ {
		p.mu.Lock()
		if c.closed || c.peerChoking || p.haveCount == p.meta.NumPieces() {
			p.mu.Unlock()
			return
		}
		depth := p.depth(c)
		for len(c.inflight) < depth && p.request(c, rarer) {
		}
		if len(c.inflight) >= depth {
			p.mu.Unlock()
			return
		}
		have := make([]bool, p.meta.NumPieces())
		all := true
		for i := range have {
			have[i] = p.have.Has(i) || p.pieces[i] != nil
			all = all && have[i]
		}
		if all {
			if len(c.inflight) == 0 {
				p.requestEndgame(c)
			}
			p.mu.Unlock()
			return
		}
		avail := append([]int(nil), p.avail...)
		info := p.info(c, p.st.Now())
		p.mu.Unlock()

		i := p.picker.Pick(have, avail, info)

		p.mu.Lock()
		ok := i >= 0 && i < p.meta.NumPieces() && !p.have.Has(i) && p.pieces[i] == nil && c.has.Has(i) && !p.avoid[i][c.id]
		if ok {
			size := p.meta.PieceSize(i)
			nb := (size + BlockSize - 1) / BlockSize
			// Blocks go straight to where the piece lies in the content:
			// nothing serves or shows it before its hash is checked (Data
			// zeroes what is not had), and a piece that fails is fetched
			// again over the same bytes.
			off := int64(i) * p.meta.PieceLength
			p.pieces[i] = &piece{buf: p.data[off : off+int64(size) : off+int64(size)], got: make([]bool, nb), reqs: make([]int, nb), asked: make([]time.Time, nb), from: map[string]bool{}}
		}
		p.mu.Unlock()
		if !ok {
			if !rarer {
				return
			}
			rarer = false // the picker started nothing: join what is started
		}
	}
}

// depth is how many requests to keep in flight to c (p.mu held): about
// a quarter second of what c has been sending, at least 2, at most
// Pipeline. Short on purpose: c writes the blocks we ask for into its
// socket as soon as it can, and everything it sends after them (its HAVEs
// to us, blocks for other peers on the same uplink) waits behind them. A
// deep queue lets others learn late which pieces c has, and they fetch
// them from the seed instead; on the lab swarm of TestLabSwarmMeetsTheP2PBound
// two seconds of queue cost 23-39% over the bound, a quarter second with a
// floor of 4 blocks 18-20%, with a floor of 2 (and the choking and endgame
// that waste no blocks) 10-12%.
func (p *Peer) depth(c *conn) int {
	quarter := int(c.downMeter.rate(p.st.Now()) / 4 / BlockSize)
	return max(2, min(p.cfg.Pipeline, quarter))
}

// request asks c for one more block of a started piece that nobody was
// asked for yet, reporting whether it found one (p.mu held). It prefers
// the rarest started piece, then the lowest index, so every peer works on
// the same few pieces and finishes them instead of starting many. With
// rarer set it declines, to have a new piece started, when c has a piece
// nobody fetches that is rarer than every started one it could join.
func (p *Peer) request(c *conn, rarer bool) bool {
	best, bestK := -1, -1
	for i, pc := range p.pieces {
		if !c.has.Has(i) || p.avoid[i][c.id] {
			continue
		}
		if best >= 0 && (p.avail[i] > p.avail[best] || (p.avail[i] == p.avail[best] && i > best)) {
			continue
		}
		for k, got := range pc.got {
			if !got && pc.reqs[k] == 0 {
				best, bestK = i, k
				break
			}
		}
	}
	if best < 0 || (rarer && p.avail[best] > 1 && p.rarerToStart(c, p.avail[best])) {
		return false
	}
	p.ask(c, best, bestK)
	return true
}

// rarerToStart reports whether c has a piece we lack, nobody fetches, and
// fewer than avail connected peers have (p.mu held).
func (p *Peer) rarerToStart(c *conn, avail int) bool {
	for i, a := range p.avail {
		if a < avail && c.has.Has(i) && !p.have.Has(i) && p.pieces[i] == nil && !p.avoid[i][c.id] {
			return true
		}
	}
	return false
}

// requestEndgame asks an idle c for the block that has been waiting
// longest on another peer (p.mu held). Only one at a time and only when c
// has nothing else to do: the copy that loses the race still crosses our
// download link (the cancel rarely catches it before it leaves the
// sender), so duplicates are wasted bandwidth unless they rescue a block
// stuck behind a slow peer.
func (p *Peer) requestEndgame(c *conn) {
	best, bestK := -1, -1
	var oldest time.Time
	for i, pc := range p.pieces {
		if !c.has.Has(i) || p.avoid[i][c.id] {
			continue
		}
		for k, got := range pc.got {
			if got || pc.reqs[k] > 2 || c.inflight[p.blockAt(i, k)] {
				continue
			}
			if best < 0 || pc.asked[k].Before(oldest) ||
				(pc.asked[k].Equal(oldest) && (i < best || (i == best && k < bestK))) {
				best, bestK, oldest = i, k, pc.asked[k]
			}
		}
	}
	if best >= 0 {
		p.ask(c, best, bestK)
	}
}

// ask sends c a request for block k of piece i (p.mu held).
func (p *Peer) ask(c *conn, i, k int) {
	b := p.blockAt(i, k)
	pc := p.pieces[i]
	pc.reqs[k]++
	pc.asked[k] = p.st.Now()
	c.inflight[b] = true
	c.send(Message{ID: MsgRequest, Index: b.index, Begin: b.begin, Length: b.length})
}

func (p *Peer) blockAt(i, k int) block {
	begin := k * BlockSize
	return block{uint32(i), uint32(begin), uint32(min(BlockSize, p.meta.PieceSize(i)-begin))}
}

// info describes c for a choker or picker (p.mu held).
func (p *Peer) info(c *conn, now time.Time) PeerInfo {
	has := make([]bool, p.meta.NumPieces())
	for i := range has {
		has[i] = c.has.Has(i)
	}
	return PeerInfo{
		ID: c.id, Addr: c.addr, DownloadRate: c.downMeter.rate(now), UploadRate: c.upMeter.rate(now),
		Interested: c.peerInterested, AmChoking: c.amChoking, Snubbed: c.snubbed(now), Has: has,
	}
}

// writeLoop sends c's queued messages and serves its requests, one block
// at a time so that a choke takes effect at once and the upload limit
// holds.
func (p *Peer) writeLoop(c *conn) {
	defer p.wg.Done()
	w := bufio.NewWriterSize(c.nc, 64<<10)
	var buf []byte
	for {
		p.mu.Lock()
		for !c.closed && len(c.out) == 0 && (c.amChoking || len(c.queue) == 0) {
			p.mu.Unlock()
			if w.Buffered() > 0 {
				if err := w.Flush(); err != nil {
					p.closeConn(c)
					return
				}
			}
			if c.wake.Wait(p.ctx) != nil {
				return
			}
			p.mu.Lock()
		}
		if c.closed {
			p.mu.Unlock()
			return
		}
		out := c.out
		c.out = nil
		var req *block
		if len(out) == 0 && !c.amChoking && len(c.queue) > 0 {
			req = &c.queue[0]
			c.queue = c.queue[1:]
		}
		c.lastWrite = p.st.Now()
		p.mu.Unlock()

		c.nc.SetWriteDeadline(p.st.Now().Add(IdleTimeout))
		for _, m := range out {
			if p.cfg.Trace != nil {
				p.trace("%s -> %s %s", p.Addr(), c.addr, m)
			}
			buf = m.Append(buf[:0])
			if _, err := w.Write(buf); err != nil {
				p.closeConn(c)
				return
			}
		}
		if req != nil {
			if err := p.up.wait(p.ctx, int(req.length)); err != nil {
				return
			}
			off := int64(req.index)*p.meta.PieceLength + int64(req.begin)
			m := Message{ID: MsgPiece, Index: req.index, Begin: req.begin, Block: p.data[off : off+int64(req.length)]}
			if p.cfg.Trace != nil {
				p.trace("%s -> %s %s", p.Addr(), c.addr, m)
			}
			buf = m.Append(buf[:0])
			if _, err := w.Write(buf); err != nil {
				p.closeConn(c)
				return
			}
			p.mu.Lock()
			now := p.st.Now()
			c.upMeter.add(now, int(req.length))
			c.stats.Uploaded += int64(req.length)
			p.uploaded += int64(req.length)
			p.mu.Unlock()
		}
	}
}

func (p *Peer) closeConn(c *conn) { c.nc.Close() }

func (p *Peer) rechokeSoon() { p.kick.Signal() }

// chokeLoop runs the choker whenever asked: on the 10-second tick and
// when a peer's interest changes.
func (p *Peer) chokeLoop() {
	defer p.wg.Done()
	for p.kick.Wait(p.ctx) == nil {
		p.rechoke()
	}
}

func (p *Peer) rechoke() {
	p.mu.Lock()
	now := p.st.Now()
	conns := p.connList()
	infos := make([]PeerInfo, len(conns))
	for i, c := range conns {
		infos[i] = p.info(c, now)
	}
	complete := p.haveCount == p.meta.NumPieces()
	p.mu.Unlock()

	ids := p.choker.Choose(now, infos, complete)

	unchoke := map[string]bool{}
	for _, id := range ids {
		unchoke[id] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		choke := !unchoke[c.id]
		if c.closed || c.amChoking == choke {
			continue
		}
		c.amChoking = choke
		if choke {
			c.queue = nil
			c.history("choke")
			c.send(Message{ID: MsgChoke})
		} else {
			c.droppedRequests = 0
			c.history("unchoke")
			c.send(Message{ID: MsgUnchoke})
		}
	}
}

// tickLoop rechokes every 10 s of the stack's clock and sends keep-alives.
func (p *Peer) tickLoop() {
	defer p.wg.Done()
	for {
		if err := p.st.Sleep(p.ctx, RechokeInterval); err != nil {
			return
		}
		p.mu.Lock()
		now := p.st.Now()
		for _, c := range p.connList() {
			if now.Sub(c.lastWrite) >= KeepAliveInterval {
				c.send(Message{KeepAlive: true})
			}
		}
		p.mu.Unlock()
		p.rechokeSoon()
	}
}
