package lab

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

const (
	synRTO      = time.Second // RFC 6298's initial retransmission timeout
	maxAttempts = 12
)

// sendReliable sends p and, whenever it is dropped, sends it again after a
// retransmission timeout that doubles each time (n.mu held).
func (n *Network) sendReliable(p packet, rto time.Duration) {
	(&reliable{p: p, rto: rto}).start(n)
}

// A reliable packet is one sendReliable sends: a handshake's (arrive says
// what its arrival does) or a stream's data segment (delivered to peer).
type reliable struct {
	n       *Network
	p       packet
	rto     time.Duration
	attempt int
	sentAt  time.Duration
	peer    *Conn
	seq     uint64
	s       segment
}

// start sends r for the first time (n.mu held).
func (r *reliable) start(n *Network) {
	r.n = n
	r.p.to = r
	r.send()
}

func (r *reliable) send() {
	r.sentAt = r.n.now
	r.n.send(&r.p)
}

func (r *reliable) arrived(t time.Duration) {
	if r.peer != nil {
		r.peer.deliver(r.seq, r.s)
		// A segment has one copy on the wire at a time and no timer while
		// it travels, so once delivered nothing refers to it but the link
		// queue's departed records, which read only their own times.
		r.n.freeSegments.put(r)
		return
	}
	r.p.arrive(t)
}

func (r *reliable) dropped(t time.Duration) {
	n := r.n
	if r.attempt >= maxAttempts || n.closed {
		return
	}
	wait := r.rto << r.attempt
	if wait > maxRTO || wait <= 0 {
		wait = maxRTO
	}
	n.at(max(t, r.sentAt+wait), func() {
		r.attempt++
		r.send()
	})
}

// ---- connections ----

// Conn is one end of a lab stream connection (TCP).
type Conn struct {
	h            *Host
	n            *Network
	laddr, raddr *net.TCPAddr
	key          string // orders what goroutines send at one instant (atKey)
	peer         *Conn
	rnode        *node
	rto          time.Duration
	ts           tcpState // sequence numbers for captures (capture.go)

	// receiving
	w      waiter
	rbuf   []byte
	rarr   []byte // rbuf's array, reused once the reader has drained it
	want   []byte // where a ReadFull waiting for the rest puts it (takeIn)
	filled int    // bytes of want received
	expect uint64
	held   map[uint64]segment
	got    int64 // payload bytes received in order
	eof    bool
	rshut  bool // CloseRead: reads end, what arrives is dropped
	rerr   error

	deferEv *event        // a coalesced wake-up due (see coalesce)
	sendq   fifo[segment] // segments waiting for the first link (see pump)
	queued  bool          // in the first link's senders
	wokeAt  time.Duration // when the reader was last woken by data

	// sending
	ww       waiter    // writers waiting for room in the send buffer
	seq      uint64    // segments sent (ideal)
	cutBytes uint32    // payload bytes cut into segments
	open     []byte    // the segment being filled at this instant (sendbuf.go)
	cutq     []segment // the instant's full segments, for its flush
	pendLen  int       // bytes written at this instant, in cutq and open
	wchunk   *chunk    // where open and the next segments live
	buffered int       // bytes in the send buffer: cutq, open, sendq, and with Reno unacknowledged
	flushEv  *event
	wshut    bool
	finCut   bool  // the FIN is cut (flush)
	tcp      *reno // the Reno sender, nil for the ideal model (reno.go)
	stats    FlowStats

	closed bool
}

type segment struct {
	data []byte
	fin  bool
	off  uint32 // payload bytes before it, for captures of retransmissions (Reno)
	ch   *chunk // data's memory, released once delivered (sendbuf.go)
}

func (h *Host) newConn(local, remote *net.TCPAddr, rnode *node) *Conn {
	c := &Conn{h: h, n: h.n, laddr: local, raddr: remote, rnode: rnode, ts: tcpState{isn: h.newISN()},
		key: "tcp " + local.String() + " " + remote.String()}
	c.rto = minRTO + 2*2*h.n.pathDelay(h.node, rnode)
	if h.n.tcp == TCPReno && rnode != h.node {
		c.tcp = newReno(c)
	}
	return c
}

// A dial is one connection being opened: the dialer waits on result while
// the handshake's packets travel.
type dial struct {
	h      *Host
	dst    *node
	ip     netip.Addr
	port   uint16
	lport  uint16
	c, srv *Conn
	result chan error
	done   bool // the dialer has its answer, or has given up
	token  bool // the dialer holds a wake-up token (finish)
}

func (h *Host) dialTCP(ctx context.Context, ip netip.Addr, port uint16) (*Conn, error) {
	n := h.n
	n.mu.Lock()
	n.touch()
	if n.closed {
		n.mu.Unlock()
		return nil, errNetClosed
	}
	dst := h.nodeFor(ip)
	if dst == nil {
		// No such address in the lab: the SYN goes nowhere.
		n.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-n.done:
			return nil, errNetClosed
		}
	}
	d := &dial{h: h, dst: dst, ip: ip, port: port, result: make(chan error, 1)}
	// The port is chosen and the SYN sent by an event, in the order of the
	// connections' addresses when several goroutines dial at one instant
	// (atKey), so that ports and sequence numbers do not depend on which
	// goroutine ran first.
	open := n.atKey(n.now, "tcp "+h.node.addr.String()+" "+netip.AddrPortFrom(ip, port).String(), d.open)
	n.mu.Unlock()

	var werr error
	select {
	case werr = <-d.result:
	case <-ctx.Done():
		werr = ctx.Err()
	case <-n.done:
		werr = errNetClosed
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	n.cancel(open)
	if d.token {
		d.token = false
		n.release()
	}
	d.done = true
	if d.c != nil {
		delete(h.tcp, d.lport)
	}
	if werr != nil {
		if d.srv != nil {
			d.srv.closed = true
		}
		return nil, werr
	}
	h.conns[d.c] = struct{}{}
	return d.c, nil
}

// open picks the local port and sends the SYN (an event, n.mu held).
func (d *dial) open() {
	h := d.h
	if d.done {
		return
	}
	lport, err := h.allocPort(false)
	if err != nil {
		d.finish(err)
		return
	}
	d.lport = lport
	local := h.tcpAddr(lport)
	remote := &net.TCPAddr{IP: d.ip.AsSlice(), Port: int(d.port)}
	if d.dst == h.node {
		local.IP = d.ip.AsSlice()
		if d.ip.IsUnspecified() {
			local.IP, remote.IP = net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 1)
		}
	}
	d.c = h.newConn(local, remote, d.dst)
	h.tcp[lport] = nil // reserve the port while connecting
	h.n.sendReliable(packet{src: h.node, dst: d.dst, size: TCPHeader, own: true, wire: d.c.tcpWire(flagSYN, nil), arrive: d.synArrived}, synRTO)
}

// finish gives the dialer its answer (n.mu held).
func (d *dial) finish(err error) {
	if d.done {
		return
	}
	d.done = true
	d.result <- err
	n := d.h.n
	n.pending++ // until the dialer has run
	d.token = true
	n.dirty = true
}

// synArrived answers the SYN at the listening host: a SYN-ACK, or a reset
// if nobody listens (n.mu held).
func (d *dial) synArrived(t time.Duration) {
	if d.srv != nil || d.done {
		return // a retransmitted SYN
	}
	n, c, dst := d.h.n, d.c, d.dst
	var ln *Listener
	if dst.host != nil {
		ln = dst.host.tcp[d.port]
	}
	if ln == nil || ln.closed {
		d.refuse()
		return
	}
	d.srv = dst.host.newConn(&net.TCPAddr{IP: c.raddr.IP, Port: int(d.port)}, c.laddr, d.h.node)
	d.srv.peer, c.peer = c, d.srv
	// SYN-ACK, then the client's ACK; the server accepts when the ACK
	// arrives, with the client's first data right behind it.
	n.sendReliable(packet{src: dst, dst: d.h.node, size: TCPHeader, own: true, wire: d.srv.tcpWire(flagSYN|flagACK, nil), arrive: func(time.Duration) {
		if d.done {
			return
		}
		d.finish(nil)
		n.sendReliable(packet{src: d.h.node, dst: dst, size: TCPHeader, own: true, wire: c.tcpWire(flagACK, nil), arrive: func(time.Duration) {
			if ln.closed {
				d.srv.reset()
				return
			}
			dst.host.conns[d.srv] = struct{}{}
			ln.q = append(ln.q, d.srv)
			n.signal(&ln.w)
		}}, c.rto)
	}}, synRTO)
}

// refuse sends the dialer a reset: connection refused (n.mu held).
func (d *dial) refuse() {
	n, c := d.h.n, d.c
	var rst *wire
	if n.capturing() {
		rst = &wire{src: c.raddr.AddrPort(), dst: c.laddr.AddrPort(), flags: flagRST | flagACK, ack: c.ts.isn + 1}
	}
	n.send(&packet{src: d.dst, dst: d.h.node, size: TCPHeader, wire: rst, arrive: func(time.Duration) {
		d.finish(os.NewSyscallError("connect", syscall.ECONNREFUSED))
	}})
}

// reset makes the peer of c see a reset (n.mu held).
func (c *Conn) reset() {
	p := c.peer
	if p == nil {
		return
	}
	c.n.send(&packet{src: c.h.node, dst: c.rnode, size: TCPHeader, key: c.key, wire: c.tcpWire(flagRST|flagACK, nil), arrive: func(time.Duration) {
		if p.rerr == nil {
			p.rerr = os.NewSyscallError("read", syscall.ECONNRESET)
		}
		p.stopSending()
		c.n.signal(&p.w)
		c.n.signal(&p.ww)
	}})
}

// deliver takes a segment arriving from the peer (n.mu held): segments are
// handed to the reader in order, as TCP's receive buffer does.
func (c *Conn) deliver(seq uint64, s segment) {
	if seq < c.expect {
		return
	}
	if seq > c.expect {
		if c.held == nil {
			c.held = map[uint64]segment{}
		}
		c.held[seq] = s
		return
	}
	for {
		if s.fin {
			c.eof = true
			c.ts.fin = true
		} else if c.closed {
			if c.rerr == nil {
				c.rerr = os.NewSyscallError("write", syscall.ECONNRESET)
				c.reset()
			}
		} else if !c.rshut {
			c.takeIn(s.data)
		}
		c.n.freeChunk(s.ch)
		c.got += int64(len(s.data))
		c.ts.rcvd += uint32(len(s.data))
		c.expect++
		if len(c.held) == 0 {
			break // the common case: nothing arrived out of order
		}
		next, ok := c.held[c.expect]
		if !ok {
			break
		}
		delete(c.held, c.expect)
		s = next
	}
	if c.want != nil && !c.eof && c.rerr == nil {
		if c.filled < len(c.want) && c.w.sleepers() == 1 {
			return // the reader waits for the whole of want
		}
		c.wake() // at once: want is whole, or another reader waits too
		return
	}
	if c.coalesce() {
		return
	}
	c.wake()
}

// takeIn puts data that arrived in order where it is read from: into
// the buffer a ReadFull waits to fill, then into the receive buffer
// (n.mu held).
func (c *Conn) takeIn(data []byte) {
	if c.filled < len(c.want) {
		k := copy(c.want[c.filled:], data)
		c.filled += k
		data = data[k:]
	}
	if len(data) > 0 {
		c.appendRcv(data)
	}
}

// keptRcvBuf is the largest receive buffer a connection keeps for reuse
// once its reader has drained it: a bulk transfer then appends into the
// same array again and again instead of growing a new one every time.
const keptRcvBuf = 64 << 10

// appendRcv appends data that arrived in order to the receive buffer
// (n.mu held). Read copies out of it, so the array can be reused.
func (c *Conn) appendRcv(data []byte) {
	if len(c.rbuf) == 0 && c.rarr != nil {
		c.rbuf = c.rarr[:0]
	}
	old := cap(c.rbuf)
	c.rbuf = append(c.rbuf, data...)
	if cap(c.rbuf) != old {
		c.rarr = nil
		if cap(c.rbuf) <= keptRcvBuf {
			c.rarr = c.rbuf[:0] // a new array: append starts it at rbuf
		}
	}
}

// Receive coalescing. Waking a blocked reader for every segment of a bulk
// transfer costs a goroutine switch per segment, so, as a receiving
// kernel's GRO does, segments arriving in the middle of a train are handed
// over together: a reader waiting on an empty buffer is woken by the
// first segment (so first-byte times are exact) and by the last one, the
// one with nothing sent behind it (so completion times are exact); in
// between it sees data at most coalesceFor late, and at least every
// coalesceBytes.
const (
	coalesceFor   = 4 * time.Millisecond
	coalesceBytes = 64 << 10
)

// coalesce reports whether waking the reader may wait (n.mu held).
func (c *Conn) coalesce() bool {
	n := c.n
	switch {
	case c.w.sleepers() == 0 || c.eof || c.rerr != nil || c.closed:
		return false // nobody to wake, or something the reader must see now
	case c.peer == nil || c.expect >= c.peer.cut():
		return false // nothing more is on its way
	case len(c.rbuf) >= coalesceBytes:
		return false
	case c.deferEv != nil:
		return true // already waiting for more
	case n.now-c.wokeAt >= coalesceFor:
		return false // the first segment of a train
	}
	c.deferEv = n.at(n.now+coalesceFor, func() {
		c.deferEv = nil
		c.wake()
	})
	return true
}

// wake hands what arrived to the reader (n.mu held).
func (c *Conn) wake() {
	n := c.n
	n.cancel(c.deferEv)
	c.deferEv = nil
	c.wokeAt = n.now
	n.signal(&c.w)
}

// sendSeg puts one segment on the wire, reliably (n.mu held).
func (c *Conn) sendSeg(s segment) {
	seq := c.seq
	c.seq++
	peer := c.peer
	flags := uint8(flagPSH | flagACK)
	if s.fin {
		flags = flagFIN | flagACK
	}
	w := c.tcpWire(flags, s.data)
	c.ts.sent += uint32(len(s.data))
	c.stats.BytesSent += int64(len(s.data))
	r := c.n.freeSegments.get()
	*r = reliable{rto: c.rto, peer: peer, seq: seq, s: s,
		p: packet{src: c.h.node, dst: c.rnode, size: len(s.data) + TCPHeader, own: true, wire: w}}
	r.start(c.n)
}

// flush cuts what was written at this lab instant into segments, and the
// FIN once writing is shut (an event, n.mu held).
func (c *Conn) flush() {
	c.n.cancel(c.flushEv)
	c.flushEv = nil
	c.cutOpen()
	for i, s := range c.cutq {
		c.cutq[i] = segment{}
		c.queueSeg(s)
	}
	c.cutq = c.cutq[:0]
	c.pendLen = 0
	if c.wshut {
		c.freeSend()
		if !c.finCut && c.peer != nil {
			c.finCut = true
			c.queueSeg(segment{fin: true})
		}
	}
}

// flushSoon has the instant's flush cut what was written, once (n.mu
// held). Writes wait for it, rather than being cut at once, so that those
// made by goroutines at one instant leave in the order of their sockets
// (atKey), and several writes at one instant make full segments.
func (c *Conn) flushSoon() {
	if c.flushEv == nil {
		c.flushEv = c.n.atKey(c.n.now, c.key, c.flush)
	}
}

// Fair sharing at the sender. A host's streams do not pour their segments
// into the first link's FIFO at once: each keeps them in its socket buffer
// (sendq) and the link's transmitter takes one segment from each stream in
// turn as it becomes free, so flows leaving one host share its link
// equally, as TCP flows with windows do. One flow alone leaves exactly as
// before: a segment every transmission time.

// queueSeg puts a segment in the socket buffer (n.mu held).
func (c *Conn) queueSeg(s segment) {
	s.off = c.cutBytes
	c.cutBytes += uint32(len(s.data))
	if c.tcp != nil {
		c.tcp.queue(s)
		return
	}
	d := c.n.route(c.h.node, c.rnode)
	if d == nil || c.rnode == c.h.node {
		c.buffered -= len(s.data)
		c.sendSeg(s) // to itself, or nowhere: no link to share
		return
	}
	c.sendq.push(s)
	c.offer(d)
}

// offer puts c among the streams the first link d takes segments from
// and lets d's transmitter pull (n.mu held).
func (c *Conn) offer(d *dir) {
	if !c.queued {
		c.queued = true
		d.senders.push(c)
	}
	d.pump()
}

// cut is the number of segments c has cut so far, sent or not (n.mu held).
func (c *Conn) cut() uint64 {
	if c.tcp != nil {
		return c.tcp.una + uint64(len(c.tcp.buf))
	}
	return c.seq + uint64(c.sendq.len())
}

// ready reports whether c has a segment its first link may take now.
func (c *Conn) ready() bool {
	if c.tcp != nil {
		return c.tcp.ready()
	}
	return c.sendq.len() > 0
}

// sendNext puts c's next segment on the wire, reporting false if it had
// none it may send (n.mu held).
func (c *Conn) sendNext() bool {
	if c.tcp != nil {
		return c.tcp.sendNext()
	}
	if c.sendq.len() == 0 {
		return false
	}
	s := c.sendq.items()[0]
	c.sendq.pop(1)
	c.buffered -= len(s.data)
	c.wakeWriter()
	c.sendSeg(s)
	return true
}

// pump gives the transmitter its next segment, round-robin among the
// streams with something to send, when it is free (n.mu held).
func (d *dir) pump() {
	n := d.l.n
	if d.pumpEv != nil {
		return
	}
	if d.busy > n.now {
		if d.busy < never {
			d.pumpAt(d.busy)
		}
		return
	}
	for d.senders.len() > 0 {
		c := d.senders.items()[0]
		d.senders.pop(1)
		if !c.sendNext() {
			c.queued = false
			continue
		}
		if c.ready() {
			d.senders.push(c)
		} else {
			c.queued = false
		}
		break
	}
	if d.senders.len() > 0 && d.busy < never {
		d.pumpAt(d.busy)
	}
}

// pumpAt has the transmitter pull its next segment at t, through its own
// event: one per segment sent, so it is not made anew (n.mu held).
func (d *dir) pumpAt(t time.Duration) {
	d.pumpE.h = (*pumpTick)(d)
	d.l.n.schedule(&d.pumpE, t)
	d.pumpEv = &d.pumpE
}

// pumpTick is a direction's transmitter becoming free.
type pumpTick dir

func (p *pumpTick) fire() {
	d := (*dir)(p)
	d.pumpEv = nil
	d.pump()
}

// Bounded send buffers. A stream's send buffer holds what was written and
// not yet sent (with Reno, also what was sent and not yet acknowledged);
// Write blocks while it is full, as a kernel's does, so a sender cannot
// queue megabytes in front of a later message, and a reader that gives
// up on a transfer leaves at most a buffer's worth behind. A blocked
// writer is woken while the buffer still has data for the link (see
// wakeWriter), so the link never waits for it.

// sndLimit is the send buffer's size (n.mu held). With Reno it grows to
// twice the congestion window, as Linux's autotuning grows sk_sndbuf, up
// to tcp_wmem's default maximum of 4 MiB.
func (c *Conn) sndLimit() int {
	if c.tcp != nil {
		return max(c.n.sndbuf, min(2*int(c.tcp.cwnd)*MSS, 4<<20))
	}
	return c.n.sndbuf
}

// room is how many of want bytes fit in the send buffer now (n.mu held).
// When not all of them fit, it fills up to a whole number of segments, so
// that the segments cut now are those an unbounded buffer would cut.
func (c *Conn) room(want int) int {
	free := c.sndLimit() - c.buffered
	if free <= 0 {
		return 0
	}
	if want <= free {
		return want
	}
	return max(free-(c.pendLen+free)%MSS, 0)
}

// wakeWriter wakes writers waiting for room once the buffer has drained
// to a quarter, or with Reno to half, since there it also holds what the
// window has in flight (n.mu held). The writer refills it at the same lab
// instant, so the level only sets how often it is woken: every wake-up
// costs a goroutine switch in real time, none in lab time.
func (c *Conn) wakeWriter() {
	low := c.sndLimit() / 4
	if c.tcp != nil {
		low = c.sndLimit() / 2
	}
	if c.ww.sleepers() > 0 && c.buffered <= low {
		c.n.signal(&c.ww)
	}
}

// stopSending drops what c still had to send after a reset (n.mu held).
func (c *Conn) stopSending() {
	if c.tcp != nil {
		c.tcp.stop()
	}
}

func (c *Conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.laddr, Addr: c.raddr, Err: err}
}

// Read reads what has arrived, blocking until something has.
func (c *Conn) Read(p []byte) (int, error) {
	n := c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	for {
		if c.closed {
			return 0, c.opErr("read", n.sockClosed())
		}
		if len(c.rbuf) > 0 {
			return c.take(p), nil
		}
		switch err := c.readEnd(); {
		case err != nil:
			return 0, err
		case len(p) == 0:
			return 0, nil
		case n.expired(&c.w):
			return 0, c.opErr("read", errTimeout)
		}
		if !n.block(&c.w) {
			return 0, c.opErr("read", errNetClosed)
		}
	}
}

// take moves what fits of the receive buffer into p (n.mu held).
func (c *Conn) take(p []byte) int {
	k := copy(p, c.rbuf)
	c.rbuf = c.rbuf[k:]
	if len(c.rbuf) == 0 {
		c.rbuf = nil
	}
	return k
}

// readEnd is why a read that finds no data has nothing more to wait for
// (n.mu held): the stream was reset, or it ended (io.EOF); nil if data
// may still come.
func (c *Conn) readEnd() error {
	switch {
	case c.rerr != nil:
		return c.opErr("read", c.rerr)
	case c.eof || c.rshut:
		return io.EOF
	}
	return nil
}

// ReadFull reads exactly len(p) bytes, as recv(2) does with MSG_WAITALL,
// and returns what io.ReadFull would: io.EOF when the stream ended before
// any byte, io.ErrUnexpectedEOF when it ended part way, or the error
// (a deadline, a reset) that cut the read short, with what was read. The
// reader is woken once, by the segment that completes p, instead of once
// per train of segments, and what arrives meanwhile is copied straight
// into p: a client reading a body of known length costs the lab one
// wake-up, not one per 64 KiB. The lab times are those of reading in a
// loop: the read returns when its last byte arrives.
func (c *Conn) ReadFull(p []byte) (int, error) {
	n := c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	got := 0
	for {
		if c.closed {
			return got, c.opErr("read", n.sockClosed())
		}
		if got += c.take(p[got:]); got == len(p) {
			return got, nil
		}
		if err := c.readEnd(); err != nil {
			if err == io.EOF && got > 0 {
				err = io.ErrUnexpectedEOF
			}
			return got, err
		}
		if n.expired(&c.w) {
			return got, c.opErr("read", errTimeout)
		}
		// Another ReadFull may be filling want: then this one reads as
		// Read does, from the receive buffer, woken with every train.
		mine := c.want == nil
		if mine {
			c.want, c.filled = p[got:], 0
		}
		ok := n.block(&c.w)
		if mine {
			got += c.filled // what takeIn put into p meanwhile
			c.want, c.filled = nil, 0
		}
		if !ok {
			return got, c.opErr("read", errNetClosed)
		}
	}
}

// Write sends p. It blocks while the send buffer is full (in lab time,
// up to the write deadline); writes made at one lab instant are coalesced
// into full segments.
func (c *Conn) Write(p []byte) (int, error) {
	n := c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	written := 0
	for {
		if err := c.writeErr(); err != nil {
			return written, err
		}
		if len(p) == 0 {
			return written, nil
		}
		if k := c.room(len(p)); k > 0 {
			c.writeSeg(p[:k])
			c.buffered += k
			p, written = p[k:], written+k
			c.flushSoon()
			continue
		}
		if !n.block(&c.ww) {
			return written, c.opErr("write", errNetClosed)
		}
	}
}

// writeErr is why c cannot take more data now, or nil (n.mu held).
func (c *Conn) writeErr() error {
	n := c.n
	switch {
	case c.closed:
		return c.opErr("write", n.sockClosed())
	case c.rerr != nil:
		return c.opErr("write", os.NewSyscallError("write", syscall.EPIPE))
	case c.wshut:
		return c.opErr("write", os.NewSyscallError("write", syscall.EPIPE))
	case n.expired(&c.ww):
		return c.opErr("write", errTimeout)
	case n.closed:
		return c.opErr("write", errNetClosed)
	}
	return nil
}

// CloseWrite sends a FIN after what was written: the peer reads EOF.
func (c *Conn) CloseWrite() error { return c.shut(c.shutWrite) }

// CloseRead ends reading, as shutdown(SHUT_RD) does on Linux: reads return
// EOF, and what arrives afterwards is acknowledged and dropped.
func (c *Conn) CloseRead() error {
	return c.shut(func() {
		c.rshut = true
		c.rbuf = nil
		c.n.signal(&c.w)
	})
}

// shut does one half of a shutdown on an open connection (with n.mu held).
func (c *Conn) shut(half func()) error {
	n := c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	if c.closed {
		return c.opErr("close", net.ErrClosed)
	}
	half()
	return nil
}

// shutWrite queues a FIN behind what was written (n.mu held). Like a
// write, it reaches the link with the instant's flush (flushSoon says why).
func (c *Conn) shutWrite() {
	if c.wshut {
		return
	}
	c.wshut = true
	c.flushSoon()
}

// Close closes the connection; blocked calls return net.ErrClosed.
func (c *Conn) Close() error {
	n := c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	if c.closed {
		return c.opErr("close", net.ErrClosed)
	}
	c.shutWrite()
	c.closed = true
	delete(c.h.conns, c)
	n.cancel(c.w.dlEv)
	n.cancel(c.ww.dlEv)
	n.signal(&c.w)
	n.signal(&c.ww)
	return nil
}

func (c *Conn) LocalAddr() net.Addr  { return c.laddr }
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets both deadlines. A time from time.Now() (the real clock,
// as net/http and miekg/dns use) is converted to lab time.
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	c.n.touch()
	c.n.setDeadline(&c.w, t)
	return nil
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	c.n.touch()
	c.n.setDeadline(&c.ww, t)
	return nil
}

// ---- listeners ----

// Listener accepts lab stream connections.
type Listener struct {
	h      *Host
	port   uint16
	addr   *net.TCPAddr
	w      waiter
	q      []*Conn
	closed bool
}

// Accept waits for a connection whose handshake has completed.
func (l *Listener) Accept() (net.Conn, error) {
	n := l.h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	for {
		switch {
		case l.closed:
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: n.sockClosed()}
		case len(l.q) > 0:
			c := l.q[0]
			l.q = l.q[1:]
			return c, nil
		case n.expired(&l.w):
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: errTimeout}
		}
		if !n.block(&l.w) {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: errNetClosed}
		}
	}
}

// Close stops listening; connections not yet accepted are reset.
func (l *Listener) Close() error {
	n := l.h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	if l.closed {
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
	l.closed = true
	if l.h.tcp[l.port] == l {
		delete(l.h.tcp, l.port)
	}
	for _, c := range l.q {
		c.closed = true
		delete(c.h.conns, c)
		c.reset()
	}
	l.q = nil
	n.cancel(l.w.dlEv)
	n.signal(&l.w)
	return nil
}

func (l *Listener) Addr() net.Addr { return l.addr }

// SetDeadline bounds Accept.
func (l *Listener) SetDeadline(t time.Time) error {
	n := l.h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.touch()
	n.setDeadline(&l.w, t)
	return nil
}
