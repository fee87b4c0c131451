// Package lab is netplay's emulated network: hosts, routers and links in
// the process, with per-link rate, propagation delay, loss and queue size,
// shortest-path routing and a virtual clock. Each host is a stack.Stack, so
// every protocol module runs on it unchanged; the lab never opens a real
// socket. The model is described in docs/lab.md.
package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/runtime/neterr"
)

// Segment and header sizes of the link model.
const (
	MSS       = 1460 // payload bytes of a stream segment
	TCPHeader = 40   // IP + TCP header bytes on the wire
	UDPHeader = 28   // IP + UDP header bytes on the wire
	minRTO    = 200 * time.Millisecond
	maxRTO    = 60 * time.Second
)

// errNetClosed is what blocked and later calls fail with once the network
// is closed; the task runner ends a task that fails with it quietly.
// It is also net.ErrClosed, so code that stops quietly on a closed socket
// (net/http's server, miekg/dns's) does so here too.
var errNetClosed error = netClosedError{}

type netClosedError struct{}

func (netClosedError) Error() string { return "lab network closed" }
func (netClosedError) Is(target error) bool {
	return target == neterr.ErrNetworkClosed || target == net.ErrClosed
}

// sockClosed is the error of an operation on a closed socket (n.mu held):
// the network's when the network closed it.
func (n *Network) sockClosed() error {
	if n.closed {
		return errNetClosed
	}
	return net.ErrClosed
}

// Network is one emulated network and its clock.
type Network struct {
	mu sync.Mutex

	now       time.Duration // lab time since Epoch
	events    events
	staged    []*event      // scheduled by goroutines at this instant (see atKey)
	wakeq     fifo[*wakeup] // signals whose goroutines wait to be woken (see wakeNext)
	inEvent   bool          // an event's fn is running (on the scheduler's goroutine)
	seq       uint64
	dirty     bool   // a lab call or a wake-up since the scheduler last settled
	activity  uint64 // lab calls and changes of outside work
	pending   int    // goroutines woken by the lab that have not run yet
	work      int    // AfterFunc callbacks running
	outside   func() int64
	warn      func(string)
	censusBuf []byte        // census.go
	censusGap time.Duration // between two censuses (the scheduler's own)
	steps     uint64        // events run
	forced    uint64        // clock advances forced by the livelock guard

	ratio     float64 // real seconds per lab second (0: unpaced)
	realStart time.Time
	labStart  time.Duration

	rng  *rand.Rand
	seed uint64 // also seeds each host's own random numbers (host.go)

	tcp          TCPModel           // how streams send (reno.go)
	sndbuf       int                // bytes a stream's send buffer holds before Write blocks
	chunks       []*chunk           // free send buffer memory (sendbuf.go)
	freeHops     freeList[inflight] // hops done with (inflight.fire, dir.prune)
	freeSegments freeList[reliable] // delivered segments (reliable.arrived)
	chunksMade   int
	chunksUsed   int // made or taken from chunks, not yet free

	nodes    []*node
	byName   map[string]*node
	byAddr   map[netip.Addr]*node
	links    []*Link
	routeGen int // counts changes of topology or delays: nodes' routes older than it are stale

	captures []*Capture // running captures (capture.go)

	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	closed  bool
}

// Options configure a network.
type Options struct {
	// TimeScale is the ratio of real to lab time the clock is held to. 0
	// runs the virtual clock as fast as the protocols allow; 0.1 (or 10:
	// a lab never runs slower than real time) runs ten times faster than
	// real time; 1 runs at real-time pace.
	TimeScale float64
	Seed      uint64

	// Busy counts work outside the lab that the clock must wait for: the
	// script's threads running Starlark code or waiting for the
	// interpreter lock (lang.Interp.Runnable). Call Network.Kick when it
	// changes.
	Busy func() int64
	// Warn reports a forced clock step (once per network).
	Warn func(string)

	// TCP is the stream model: TCPIdeal (the default) or TCPReno.
	TCP TCPModel
	// SndBuf is the size of every stream's send buffer in bytes: Write
	// blocks while it is full. 0 means DefaultSndBuf.
	SndBuf int

	// Procs: 0 runs the process on one processor, with a lazy garbage
	// collector, while this is the only open network (procs.go says why),
	// unless the GOMAXPROCS environment variable is set; 1 does so even
	// then; -1 leaves GOMAXPROCS and the collector alone.
	Procs int
}

// DefaultSndBuf is a stream's send buffer when Options.SndBuf is 0: what
// Linux's autotuning typically grows a bulk sender's buffer to on a path
// of tens of milliseconds and tens of megabits (tcp_wmem allows up to
// 4 MiB, but few connections get there).
const DefaultSndBuf = 256 << 10

// MinSndBuf is the smallest send buffer a network accepts: a few segments.
const MinSndBuf = 4 * MSS

// New starts a network. Close it to stop its clock.
func NewNetwork(opts Options) *Network {
	r := opts.TimeScale
	if r > 1 {
		r = 1 / r
	}
	if r < 0 || math.IsNaN(r) {
		r = 0
	}
	if opts.SndBuf == 0 {
		opts.SndBuf = DefaultSndBuf
	}
	opts.SndBuf = max(opts.SndBuf, MinSndBuf)
	n := &Network{
		censusGap: censusEvery,
		tcp:       opts.TCP,
		sndbuf:    opts.SndBuf,
		ratio:     r,
		outside:   opts.Busy,
		warn:      opts.Warn,
		realStart: time.Now(),
		rng:       rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed)),
		seed:      opts.Seed,
		byName:    map[string]*node{},
		byAddr:    map[netip.Addr]*node{},
		kick:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	n.pin(opts.Procs)
	go n.run()
	return n
}

// Close stops the clock and closes every host's sockets.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	close(n.done)
	var hosts []*Host
	for _, nd := range n.nodes {
		if nd.host != nil {
			hosts = append(hosts, nd.host)
		}
	}
	n.mu.Unlock()
	<-n.stopped
	for _, h := range hosts {
		h.closeAll()
	}
	n.unpin()
	n.mu.Lock()
	n.chunks = nil // a closed network keeps no memory for sending
	caps := append([]*Capture(nil), n.captures...)
	n.mu.Unlock()
	for _, c := range caps {
		c.Stop() // a capture ends with its network, its file complete
	}
	return nil
}

// Stats of the scheduler: events run, clock advances forced because the
// process would not go quiet.
func (n *Network) SchedStats() (steps, forced uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.steps, n.forced
}

// ---- topology ----

type node struct {
	name   string
	addr   netip.Addr
	host   *Host // nil for a router
	out    []*dir
	router bool
	routes map[*node]*dir // next hop to each node, computed when first needed
	gen    int            // the network's routeGen when routes was computed
}

func (n *Network) addNode(name string, router bool) (*node, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if name == "" {
		return nil, fmt.Errorf("a lab node needs a name")
	}
	if _, ok := n.byName[name]; ok {
		return nil, fmt.Errorf("the lab already has a node named %q", name)
	}
	i := len(n.nodes) + 1
	if i > 250*250 {
		return nil, fmt.Errorf("too many lab nodes")
	}
	// 10.0.0.0/8 addresses exist only inside the lab: nothing is ever sent.
	addr := netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(i%250 + 1)})
	nd := &node{name: name, addr: addr, router: router}
	n.nodes = append(n.nodes, nd)
	n.byName[name] = nd
	n.byAddr[addr] = nd
	return nd, nil
}

// NewHost adds a host.
func (n *Network) NewHost(name string) (*Host, error) {
	nd, err := n.addNode(name, false)
	if err != nil {
		return nil, err
	}
	h := newHost(n, nd)
	n.mu.Lock()
	nd.host = h
	n.mu.Unlock()
	return h, nil
}

// NewRouter adds a router: a node that forwards and runs nothing.
func (n *Network) NewRouter(name string) (string, netip.Addr, error) {
	nd, err := n.addNode(name, true)
	if err != nil {
		return "", netip.Addr{}, err
	}
	return nd.name, nd.addr, nil
}

// LinkConfig describes a link.
type LinkConfig struct {
	Rate   float64       // bits per second from A to B (and back, unless RateBA is set)
	RateBA float64       // bits per second from B to A; 0: the same as Rate
	Delay  time.Duration // one-way propagation delay
	Loss   float64       // probability a packet is lost
	Queue  int           // packets that may wait in each direction; <0 unlimited
}

// Link is a full-duplex point-to-point link between two nodes.
type Link struct {
	n    *Network
	A, B string
	dirs [2]*dir
	down bool
}

// dir is one direction of a link: a FIFO queue in front of a transmitter,
// with its own rate, delay, loss and queue limit (link.set and link.trace
// change them while packets are on their way).
type dir struct {
	l        *Link
	from, to *node
	rate     float64 // bits per second; 0 while a trace says the link is out
	delay    time.Duration
	loss     float64
	limit    int             // packets that may wait; <0 unlimited
	busy     time.Duration   // when the transmitter is next free
	q        fifo[*inflight] // packets not yet gone: the one in transmission first
	spans    [][2]time.Duration
	st       DirStats
	trace    *traceRun
	senders  fifo[*Conn] // streams of the host with segments waiting (see pump)
	pumpEv   *event      // &pumpE while the transmitter's next pull is due
	pumpE    event
}

// inflight is a packet in a direction's queue or transmitter. Its departure
// is computed when it arrives; a rate change recomputes the departures of
// those still there.
type inflight struct {
	p             *packet
	arrived       time.Duration
	start, depart time.Duration // never while the link's rate is 0
	left          float64       // bits still to send, kept while stalled mid-packet
	lost          bool
	inq           bool   // in d.q (see prune)
	ev            *event // &hop while it is due or firing
	d             *dir
	hop           event // its arrival at d's far end (or its loss) at when
	when          time.Duration
}

// fire is the packet reaching the next node, or being lost at its
// departure (an event, n.mu held).
func (f *inflight) fire() {
	n := f.d.l.n
	if f.lost {
		f.p.dropped(f.when)
	} else {
		n.forward(f.p, f.d.to, f.when)
	}
	// f is reused once it has left its link's queue and its arrival (or
	// loss) has fired: nothing refers to it then.
	f.ev = nil
	if !f.inq {
		n.freeHops.put(f)
	}
}

// never is the departure of a packet behind a link whose rate is 0.
const never = time.Duration(math.MaxInt64 / 4)

// DirStats count one direction of a link.
type DirStats struct {
	Bytes, Packets, Drops, Lost int64
	Busy                        time.Duration // transmitting
	QueueDelay, MaxQueueDelay   time.Duration // sum and max of waiting times
	First, Last                 time.Duration // first arrival, last departure
}

// Connect adds a link between the nodes named a and b.
func (n *Network) Connect(a, b string, cfg LinkConfig) (*Link, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	na, nb := n.byName[a], n.byName[b]
	if na == nil || nb == nil {
		missing := a
		if na != nil {
			missing = b
		}
		return nil, fmt.Errorf("no lab node named %q", missing)
	}
	if na == nb {
		return nil, fmt.Errorf("a link needs two different nodes")
	}
	if cfg.RateBA == 0 {
		cfg.RateBA = cfg.Rate
	}
	if cfg.Rate <= 0 || cfg.RateBA <= 0 || math.IsInf(cfg.Rate, 0) || math.IsInf(cfg.RateBA, 0) {
		return nil, fmt.Errorf("a link's rate must be positive")
	}
	if cfg.Delay < 0 || cfg.Loss < 0 || cfg.Loss >= 1 || math.IsNaN(cfg.Loss) {
		return nil, fmt.Errorf("a link needs delay >= 0 and 0 <= loss < 1")
	}
	l := &Link{n: n, A: a, B: b}
	l.dirs[0] = &dir{l: l, from: na, to: nb, rate: cfg.Rate, delay: cfg.Delay, loss: cfg.Loss, limit: cfg.Queue}
	l.dirs[1] = &dir{l: l, from: nb, to: na, rate: cfg.RateBA, delay: cfg.Delay, loss: cfg.Loss, limit: cfg.Queue}
	na.out = append(na.out, l.dirs[0])
	nb.out = append(nb.out, l.dirs[1])
	n.links = append(n.links, l)
	n.rerouted()
	return l, nil
}

// Close takes the link down: packets no longer route over it.
func (l *Link) Close() {
	n := l.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if l.down {
		return
	}
	l.down = true
	for _, d := range l.dirs {
		out := d.from.out[:0]
		for _, o := range d.from.out {
			if o != d {
				out = append(out, o)
			}
		}
		d.from.out = out
	}
	n.rerouted()
}

// Config returns the link's parameters now. Delay, loss and queue are
// those of the A-to-B direction (link.set changes both alike).
func (l *Link) Config() LinkConfig {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	ab, ba := l.dirs[0], l.dirs[1]
	return LinkConfig{Rate: ab.rate, RateBA: ba.rate, Delay: ab.delay, Loss: ab.loss, Queue: ab.limit}
}

// Stats returns both directions' counters (A to B, B to A) and the lab
// time now.
func (l *Link) Stats() (ab, ba DirStats, spans [2][][2]time.Duration, now time.Duration) {
	n := l.n
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, d := range l.dirs {
		spans[i] = append([][2]time.Duration(nil), d.spans...)
	}
	return l.dirs[0].st, l.dirs[1].st, spans, n.now
}

// BusyIn is how long spans cover [from, to).
func BusyIn(spans [][2]time.Duration, from, to time.Duration) time.Duration {
	var b time.Duration
	for _, s := range spans {
		lo, hi := max(s[0], from), min(s[1], to)
		if hi > lo {
			b += hi - lo
		}
	}
	return b
}

// ---- routing ----

// route is the next hop from a towards b (n.mu held), nil if unreachable.
// Paths are shortest by propagation delay, then by hop count.
func (n *Network) route(a, b *node) *dir {
	if a.routes == nil || a.gen != n.routeGen {
		a.routes, a.gen = n.dijkstra(a), n.routeGen
	}
	return a.routes[b]
}

// rerouted forgets every node's routes after the topology or a delay
// changed (n.mu held).
func (n *Network) rerouted() { n.routeGen++ }

func (n *Network) dijkstra(src *node) map[*node]*dir {
	type cost struct {
		delay time.Duration
		hops  int
	}
	less := func(x, y cost) bool { return x.delay < y.delay || x.delay == y.delay && x.hops < y.hops }
	dist := map[*node]cost{src: {}}
	first := map[*node]*dir{}
	done := map[*node]bool{}
	for {
		var u *node
		for nd, c := range dist {
			if !done[nd] && (u == nil || less(c, dist[u]) || c == dist[u] && nd.name < u.name) {
				u = nd
			}
		}
		if u == nil {
			break
		}
		done[u] = true
		// Hosts do not forward other nodes' traffic.
		if u != src && !u.router {
			continue
		}
		outs := append([]*dir(nil), u.out...)
		sort.Slice(outs, func(i, j int) bool { return outs[i].to.name < outs[j].to.name })
		for _, d := range outs {
			c := cost{dist[u].delay + d.delay, dist[u].hops + 1}
			old, seen := dist[d.to]
			if !seen || less(c, old) {
				dist[d.to] = c
				if u == src {
					first[d.to] = d
				} else {
					first[d.to] = first[u]
				}
			}
		}
	}
	return first
}

// pathDelay is the propagation delay from a to b (n.mu held).
func (n *Network) pathDelay(a, b *node) time.Duration {
	var t time.Duration
	for at := a; at != b; {
		d := n.route(at, b)
		if d == nil {
			return t
		}
		t += d.delay
		at = d.to
	}
	return t
}

// ---- forwarding ----

// A packet is one unit on the wire.
type packet struct {
	src, dst *node
	size     int                   // bytes on the wire
	own      bool                  // a stream segment leaving its own host: the socket buffer holds it, no drop
	arrive   func(t time.Duration) // what its arrival does, unless to says
	wire     *wire                 // headers and payload, while a capture runs (capture.go)
	key      string                // the socket it is from, when a goroutine sends it (atKey)
	to       carrier               // a reliable packet's arrival and loss; nil: a loss is silent
}

// A carrier is what a reliable packet's arrival and loss do, held in the
// struct that sends it, so that a stream's segments cost one allocation
// each.
type carrier interface {
	arrived(t time.Duration)
	dropped(t time.Duration)
}

func (p *packet) arrived(t time.Duration) {
	if p.to != nil {
		p.to.arrived(t)
	} else {
		p.arrive(t)
	}
}

func (p *packet) dropped(t time.Duration) {
	if p.to != nil {
		p.to.dropped(t)
	}
}

// send puts p on the network now (n.mu held). A packet a goroutine sends
// leaves when the instant's work is done, in the order of the sockets'
// keys (atKey), so that packets sent at one instant by goroutines running
// side by side meet the link's queue in the same order in every run.
func (n *Network) send(p *packet) {
	if !n.inEvent {
		n.atKey(n.now, p.key, func() { n.send(p) })
		return
	}
	if n.capturing() {
		n.captureSent(p)
	}
	n.forward(p, p.src, n.now)
}

// forward handles p at node at, at lab time t == n.now (n.mu held).
func (n *Network) forward(p *packet, at *node, t time.Duration) {
	if at == p.dst {
		p.arrived(t)
		return
	}
	d := n.route(at, p.dst)
	if d == nil {
		p.dropped(t)
		return
	}
	d.prune(t)
	waiting := d.q.len()
	if waiting > 0 && d.q.items()[0].start <= t {
		waiting-- // the one being transmitted
	}
	if d.st.Packets == 0 && d.st.Drops == 0 {
		d.st.First = t
	}
	if d.limit >= 0 && waiting >= d.limit && !(p.own && at == p.src) {
		d.st.Drops++
		p.dropped(t)
		return
	}
	if n.capturing() {
		n.captureLink(p, d.l)
	}
	f := n.freeHops.get()
	f.p, f.arrived, f.d, f.inq = p, t, d, true
	d.st.Bytes += int64(p.size)
	d.st.Packets++
	if d.loss > 0 && n.rng.Float64() < d.loss {
		f.lost = true
		d.st.Lost++
	}
	d.q.push(f)
	start := max(t, d.busy)
	d.schedule(f, start, d.txTime(p.size), t)
}

// txTime is how long size bytes take to transmit (never at rate 0).
func (d *dir) txTime(size int) time.Duration {
	if d.rate <= 0 {
		return never
	}
	return time.Duration(math.Round(float64(size) * 8 / d.rate * 1e9))
}

// prune forgets the packets that have left by t.
func (d *dir) prune(t time.Duration) {
	i := 0
	q := d.q.items()
	for i < len(q) && q[i].depart <= t {
		q[i].inq = false
		if q[i].ev == nil {
			d.l.n.freeHops.put(q[i]) // its arrival has fired (inflight.fire)
		}
		i++
	}
	d.q.pop(i)
}

// schedule sets f's transmission to [start, start+tx) and its arrival at
// the next node (n.mu held); busy time counts from `from` on.
func (d *dir) schedule(f *inflight, start, tx, from time.Duration) {
	d.scheduleWait(f, start, tx, from, true)
}

func (d *dir) scheduleWait(f *inflight, start, tx, from time.Duration, countWait bool) {
	n := d.l.n
	if start >= never || tx >= never {
		f.start, f.depart = min(start, never), never
		d.busy = never
		return
	}
	depart := start + tx
	f.start, f.depart = start, depart
	d.busy = depart
	lo := max(start, from)
	if k := len(d.spans); k > 0 && d.spans[k-1][1] == lo {
		d.spans[k-1][1] = depart
	} else {
		d.spans = append(d.spans, [2]time.Duration{lo, depart})
	}
	d.st.Busy += depart - lo
	if countWait && f.start >= f.arrived {
		wait := f.start - f.arrived
		d.st.QueueDelay += wait
		d.st.MaxQueueDelay = max(d.st.MaxQueueDelay, wait)
	}
	d.st.Last = depart
	if f.lost {
		if f.p.to == nil {
			return // lost silently: nothing happens when
		}
		f.when = depart
	} else {
		f.when = depart + d.delay
	}
	f.hop.h = f
	n.schedule(&f.hop, f.when)
	f.ev = &f.hop
}

// setRate changes the rate at lab time now (n.mu held): the packet being
// transmitted finishes its remaining bits at the new rate and those
// waiting behind it are rescheduled.
func (d *dir) setRate(rate float64) {
	n := d.l.n
	t := n.now
	d.prune(t)
	old := d.rate
	d.rate = rate
	defer d.repump()
	if d.q.len() == 0 {
		d.busy = min(d.busy, t)
		return
	}
	// Take back what the queued packets were going to contribute after t.
	for _, f := range d.q.items() {
		n.cancel(f.ev)
		f.ev = nil
		if f.depart >= never {
			continue
		}
		lo := max(f.start, t)
		d.st.Busy -= f.depart - lo
		if f.start > t && f.start >= f.arrived {
			d.st.QueueDelay -= f.start - f.arrived
		}
	}
	d.cutSpans(t)
	head := d.q.items()[0]
	at := t
	for i, f := range d.q.items() {
		if i == 0 && head.start <= t {
			left := head.left
			if head.depart < never {
				left = (head.depart - t).Seconds() * old
			}
			if rate <= 0 {
				head.left, head.depart = left, never
				d.busy = never
				at = never
				continue
			}
			head.left = 0
			d.scheduleFrom(head, head.start, time.Duration(math.Round(left/rate*1e9)), t)
			at = head.depart
			continue
		}
		d.schedule(f, at, d.txTime(f.p.size), t)
		at = f.depart
	}
}

// repump moves the next pull of a sender's segment to the transmitter's
// new free time after a rate change (n.mu held).
func (d *dir) repump() {
	if d.senders.len() > 0 {
		d.l.n.cancel(d.pumpEv)
		d.pumpEv = nil
		d.pump()
	}
}

// scheduleFrom is schedule for the packet in transmission, whose start
// lies before t: it departs tx after t.
func (d *dir) scheduleFrom(f *inflight, start, tx, t time.Duration) {
	d.scheduleWait(f, t, tx, t, false)
	f.start = start
}

// cutSpans drops the busy spans after t.
func (d *dir) cutSpans(t time.Duration) {
	for k := len(d.spans); k > 0; k = len(d.spans) {
		s := &d.spans[k-1]
		if s[0] >= t {
			d.spans = d.spans[:k-1]
			continue
		}
		if s[1] > t {
			s[1] = t
		}
		break
	}
}
