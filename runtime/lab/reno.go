package lab

import (
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"
)

// TCPModel is how a network's streams send.
type TCPModel int

const (
	// TCPIdeal sends everything written at once, paced only by the links:
	// no window, no slow start, no acknowledgements (the course's
	// formulas). Loss costs a retransmission timeout.
	TCPIdeal TCPModel = iota
	// TCPReno is window-based: every segment is acknowledged by a 40-byte
	// ACK on the reverse path, and the congestion window follows slow
	// start, congestion avoidance, fast retransmit on three duplicate ACKs
	// and NewReno fast recovery, with a retransmission timeout that backs
	// off.
	TCPReno
)

// ParseTCPModel reads a model's name: "ideal" or "reno".
func ParseTCPModel(s string) (TCPModel, error) {
	switch s {
	case "ideal":
		return TCPIdeal, nil
	case "reno":
		return TCPReno, nil
	}
	return 0, fmt.Errorf("unknown TCP model %q (want \"ideal\" or \"reno\")", s)
}

func (m TCPModel) String() string {
	if m == TCPReno {
		return "reno"
	}
	return "ideal"
}

// initialWindow is Reno's first congestion window in segments (RFC 5681
// allows up to 4 for 1460-byte segments; Linux uses 10 since 2013, RFC
// 6928; the textbook's saw-tooth starts at 1).
const initialWindow = 2

// reno is the sending half of a Reno stream. Sequence numbers count
// segments, not bytes: buf[i] is segment una+i. ACKs are cumulative: the
// number of the next segment the receiver expects.
type reno struct {
	c        *Conn
	buf      []segment       // from una on: sent and unacknowledged, then unsent
	sentAt   []time.Duration // when buf[i] was first sent (+1), 0 not yet, -1 sent again (Karn)
	una, nxt uint64          // first unacknowledged, next to send
	high     uint64          // highest segment sent + 1

	cwnd, ssthresh float64 // segments
	dup            int     // duplicate ACKs in a row
	recover        uint64  // NewReno: recovery ends when this is acknowledged
	recovering     bool
	partial        bool // a partial ACK has come in this recovery
	rtxFirst       bool // buf[0] goes out again before anything new

	srtt, rttvar time.Duration
	rto          time.Duration
	backoff      int
	rtoEv        *event
}

func newReno(c *Conn) *reno {
	return &reno{c: c, cwnd: initialWindow, ssthresh: 1 << 30, rto: c.rto}
}

// queue appends a segment cut from what was written (n.mu held).
func (t *reno) queue(s segment) {
	t.buf = append(t.buf, s)
	t.sentAt = append(t.sentAt, 0)
	t.offer()
}

// offer tells the first link that t may send (n.mu held).
func (t *reno) offer() {
	c := t.c
	if !t.ready() {
		return
	}
	if d := c.n.route(c.h.node, c.rnode); d != nil {
		c.offer(d)
	}
}

// ready reports whether the window lets a segment go now.
func (t *reno) ready() bool {
	if t.c.rerr != nil {
		return false
	}
	if t.rtxFirst {
		return true
	}
	return t.nxt < t.una+uint64(len(t.buf)) && float64(t.nxt-t.una) < t.cwnd
}

// sendNext transmits a retransmission or the next segment the window
// allows (n.mu held).
func (t *reno) sendNext() bool {
	if !t.ready() {
		return false
	}
	seq := t.nxt
	if t.rtxFirst {
		t.rtxFirst = false
		seq = t.una
	} else {
		t.nxt++
	}
	t.transmit(seq)
	return true
}

// transmit puts segment seq on the wire (n.mu held). A data segment lost
// on the way is lost silently: duplicate ACKs or the timer notice.
func (t *reno) transmit(seq uint64) {
	c, n := t.c, t.c.n
	i := seq - t.una
	s := t.buf[i]
	switch {
	case t.sentAt[i] == 0:
		t.sentAt[i] = n.now + 1
	default:
		t.sentAt[i] = -1
		c.stats.Retransmits++
	}
	t.high = max(t.high, seq+1)
	c.stats.BytesSent += int64(len(s.data))
	c.ts.sent = max(c.ts.sent, s.off+uint32(len(s.data)))
	flags := uint8(flagPSH | flagACK)
	if s.fin {
		flags = flagFIN | flagACK
	}
	var w *wire
	if n.capturing() {
		w = c.tcpWireSeq(flags, s.data, s.off)
	}
	peer := c.peer
	n.send(&packet{src: c.h.node, dst: c.rnode, size: len(s.data) + TCPHeader, own: true, wire: w,
		arrive: func(time.Duration) { peer.receive(seq, s) }})
	if t.rtoEv == nil {
		t.armRTO()
	}
}

// receive takes a Reno segment at the receiving end and acknowledges it
// at once with a pure ACK carrying the next segment expected (n.mu held):
// every segment is acknowledged, out-of-order ones by a duplicate ACK.
func (c *Conn) receive(seq uint64, s segment) {
	c.deliver(seq, s)
	ack, sender := c.expect, c.peer
	var w *wire
	if c.n.capturing() {
		w = c.tcpWire(flagACK, nil)
	}
	c.n.send(&packet{src: c.h.node, dst: c.rnode, size: TCPHeader, wire: w, arrive: func(time.Duration) {
		if sender.tcp != nil {
			sender.tcp.onAck(ack)
		}
	}})
}

// onAck is the sender's reaction to a cumulative ACK (n.mu held).
func (t *reno) onAck(ack uint64) {
	if t.c.rerr != nil {
		return
	}
	switch {
	case ack > t.una:
		t.newAck(ack)
	case ack == t.una && t.nxt > t.una:
		t.dupAck()
	}
	t.offer()
}

// newAck takes an ACK that acknowledges new data (n.mu held).
func (t *reno) newAck(ack uint64) {
	c, n := t.c, t.c.n
	ack = min(ack, t.una+uint64(len(t.buf)))
	k := int(ack - t.una)
	if k <= 0 {
		return
	}
	// An RTT sample only from an ACK that covers nothing sent twice: a
	// segment that waited behind a hole would count the hole's recovery
	// (Karn's rule, extended as timestamps would).
	freed, again := 0, false
	for i := 0; i < k; i++ {
		freed += len(t.buf[i].data)
		again = again || t.sentAt[i] < 0
		t.buf[i] = segment{}
	}
	if at := t.sentAt[k-1]; at > 0 && !again {
		t.sample(n.now - (at - 1))
	}
	t.buf, t.sentAt = t.buf[k:], t.sentAt[k:]
	if len(t.buf) == 0 {
		t.buf, t.sentAt = nil, nil
	}
	// The window grows only while the flow uses it (RFC 7661, Linux's
	// tcp_is_cwnd_limited): a sender held back by its own link or by the
	// writer does not earn a window it never tried.
	limited := float64(t.nxt-t.una) >= t.cwnd-1 || t.cwnd < t.ssthresh && float64(2*(t.nxt-t.una)) >= t.cwnd
	t.una = ack
	t.nxt = max(t.nxt, ack)
	t.backoff = 0
	c.stats.BytesAcked += int64(freed)
	c.buffered -= freed
	c.wakeWriter()
	switch {
	case t.recovering && ack >= t.recover:
		t.recovering, t.dup = false, 0
		t.cwnd = t.ssthresh // deflate
	case t.recovering:
		// A partial ACK: the next hole is lost too; send it now and
		// stay in recovery (RFC 6582).
		t.rtxFirst = true
		t.cwnd = max(t.cwnd-float64(k)+1, 1)
		if t.partial {
			// The "impatient" variant: only the first partial ACK
			// restarts the timer, so that a window with many holes,
			// which NewReno repairs one per round trip, ends in a
			// timeout instead of taking dozens of round trips.
			return
		}
		t.partial = true
	case !limited:
		t.dup = 0
	case t.cwnd < t.ssthresh:
		t.dup = 0
		t.cwnd += float64(min(k, 2)) // slow start, with RFC 3465's limit L = 2
	default:
		t.dup = 0
		t.cwnd += float64(k) / t.cwnd // congestion avoidance: one segment per RTT
	}
	t.restartRTO()
}

// restartRTO restarts the retransmission timer after an ACK of new data
// (n.mu held).
func (t *reno) restartRTO() {
	t.c.n.cancel(t.rtoEv)
	t.rtoEv = nil
	if t.nxt > t.una {
		t.armRTO()
	}
}

// dupAck counts a duplicate ACK: the third starts fast retransmit and
// recovery, later ones inflate the window (n.mu held).
func (t *reno) dupAck() {
	t.dup++
	switch {
	case t.recovering:
		t.cwnd++
	case t.dup == 3 && t.una >= t.recover:
		t.c.stats.FastRetransmits++
		t.ssthresh = t.halved()
		t.cwnd = t.ssthresh + 3
		t.recover = t.high
		t.recovering, t.partial = true, false
		t.rtxFirst = true
	}
}

// halved is the slow-start threshold after a loss: half the window in
// use (RFC 5681's FlightSize/2), at least two segments.
func (t *reno) halved() float64 {
	return max(min(t.cwnd, float64(t.nxt-t.una))/2, 2)
}

// sample updates the RTT estimate and the timeout (RFC 6298, with Linux's
// 200 ms floor).
func (t *reno) sample(r time.Duration) {
	if t.srtt == 0 {
		t.srtt, t.rttvar = r, r/2
	} else {
		d := t.srtt - r
		if d < 0 {
			d = -d
		}
		t.rttvar = (3*t.rttvar + d) / 4
		t.srtt = (7*t.srtt + r) / 8
	}
	t.rto = min(max(t.srtt+4*t.rttvar, minRTO), maxRTO)
}

// armRTO starts the retransmission timer (n.mu held).
func (t *reno) armRTO() {
	n := t.c.n
	wait := min(t.rto<<t.backoff, maxRTO)
	t.rtoEv = n.at(n.now+wait, t.timeout)
}

// timeout is the retransmission timer firing: the window falls to one
// segment, everything unacknowledged is sent again from una (go-back-N)
// and the timer backs off (n.mu held).
func (t *reno) timeout() {
	c := t.c
	t.rtoEv = nil
	if c.rerr != nil || t.nxt == t.una {
		return
	}
	if t.backoff >= maxAttempts {
		c.rerr = os.NewSyscallError("write", syscall.ETIMEDOUT)
		t.stop()
		c.n.signal(&c.w)
		c.n.signal(&c.ww)
		return
	}
	c.stats.Timeouts++
	if !t.recovering {
		t.ssthresh = t.halved() // a window already halved for this loss stays so
	}
	t.cwnd = 1
	t.dup, t.recovering, t.rtxFirst = 0, false, false
	t.recover = t.high
	for i := range t.sentAt[:t.nxt-t.una] {
		t.sentAt[i] = -1 // no RTT samples from what is sent again (Karn)
	}
	t.nxt = t.una
	t.backoff++
	t.offer()
	if t.rtoEv == nil {
		t.armRTO()
	}
}

// stop gives up sending (n.mu held).
func (t *reno) stop() {
	t.c.n.cancel(t.rtoEv)
	t.rtoEv = nil
	t.c.buffered = 0
	t.buf, t.sentAt = nil, nil
	t.una = t.nxt
}

// ---- per-flow state for scripts ----

// FlowStats count what a stream's sender did.
type FlowStats struct {
	BytesSent       int64 // payload put on the wire, retransmissions included
	BytesAcked      int64 // payload acknowledged (Reno)
	Retransmits     int64 // segments sent again
	FastRetransmits int64 // fast retransmits (three duplicate ACKs)
	Timeouts        int64 // retransmission timeouts
}

// FlowInfo is one open stream end as a script sees it.
type FlowInfo struct {
	Host          string // the host of this end
	Local, Remote string // "addr:port"
	Model         TCPModel
	Cwnd          float64 // congestion window in segments (Reno)
	Ssthresh      float64 // slow-start threshold in segments; 0 until the first loss
	InFlight      int     // segments sent and not acknowledged (Reno)
	SRTT, RTO     time.Duration
	Recovering    bool
	Buffered      int   // bytes in the send buffer
	BytesReceived int64 // payload received in order
	FlowStats
}

// Flows lists the open stream ends of every host, by host name and local
// port.
func (n *Network) Flows() []FlowInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []FlowInfo
	for _, nd := range n.nodes {
		if nd.host == nil {
			continue
		}
		for c := range nd.host.conns {
			out = append(out, c.info())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Local < out[j].Local
	})
	return out
}

// info describes c (n.mu held).
func (c *Conn) info() FlowInfo {
	f := FlowInfo{Host: c.h.node.name, Local: c.laddr.String(), Remote: c.raddr.String(), Model: TCPIdeal,
		Buffered: c.buffered, BytesReceived: c.got, RTO: c.rto, FlowStats: c.stats}
	if t := c.tcp; t != nil {
		f.Model, f.Cwnd, f.InFlight = TCPReno, t.cwnd, int(t.nxt-t.una)
		if t.ssthresh < 1<<30 {
			f.Ssthresh = t.ssthresh
		}
		f.SRTT, f.RTO, f.Recovering = t.srtt, min(t.rto<<t.backoff, maxRTO), t.recovering
	}
	return f
}
