package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Client sends queries through a stack.
type Client struct {
	Stack stack.Stack
	// SourcePort, if not 0, is the one UDP port every query leaves from,
	// as resolvers did before 2008: an off-path attacker then has only the
	// 16-bit id to guess. Queries on it go one at a time. 0 takes a fresh
	// random port for each query.
	SourcePort int

	fixed sync.Mutex // held while a query uses SourcePort
}

// QueryOptions bound one exchange.
type QueryOptions struct {
	TCP     bool          // use TCP from the start
	Timeout time.Duration // the first attempt's wait; each retry waits twice as long
	Retries int           // attempts after the first
	Op      string        // the operation named in errors ("dns.query")
}

// Exchange is one finished query: the reply and how it was obtained.
type Exchange struct {
	Reply    *md.Msg
	Server   string        // host:port
	RTT      time.Duration // of the attempt that was answered
	Size     int           // bytes of the reply
	Attempts int           // queries sent (UDP attempts plus a TCP retry)
	TCP      bool          // the reply came over TCP
}

// Exchange sends q to server and waits for the reply with the same id and
// question. Over UDP it retries with exponential backoff (timeout, 2×, 4×
// …) and retries a truncated reply over TCP.
func (c *Client) Exchange(ctx context.Context, q *md.Msg, server string, o QueryOptions) (*Exchange, error) {
	if o.Op == "" {
		o.Op = "dns.query"
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	ex := &Exchange{Server: server}
	wire, err := q.Pack()
	if err != nil {
		return nil, neterr.Errorf(neterr.KindArgument, o.Op, server, "cannot build query: %v", err)
	}
	proto := "udp"
	if o.TCP {
		proto = "tcp"
	}
	for {
		timeout := o.Timeout
		var lastErr error
		for attempt := 0; attempt <= o.Retries; attempt++ {
			ex.Attempts++
			reply, size, rtt, err := c.once(ctx, proto, server, wire, q, timeout)
			if err == nil {
				ex.Reply, ex.Size, ex.RTT, ex.TCP = reply, size, rtt, proto == "tcp"
				break
			}
			lastErr = err
			if ctx.Err() != nil {
				return nil, neterr.New(o.Op, server, context.Cause(ctx), 0)
			}
			if !isTimeout(err) {
				return nil, neterr.New(o.Op, server, err, 0)
			}
			timeout *= 2
		}
		if ex.Reply == nil {
			total := time.Duration(0)
			for i, t := 0, o.Timeout; i <= o.Retries; i, t = i+1, t*2 {
				total += t
			}
			return nil, &neterr.Error{Kind: neterr.KindTimeout, Op: o.Op, Peer: server, Err: lastErr,
				Msg: fmt.Sprintf("timeout: no answer after %d attempts (%s in all)", o.Retries+1, neterr.FormatDuration(total))}
		}
		if proto == "udp" && ex.Reply.Truncated {
			proto = "tcp" // the answer did not fit: ask again over TCP
			ex.Reply = nil
			continue
		}
		return ex, nil
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// once sends one query and waits up to timeout (in the stack's clock) for
// its reply, ignoring datagrams that do not match it.
func (c *Client) once(ctx context.Context, proto, server string, wire []byte, q *md.Msg, timeout time.Duration) (*md.Msg, int, time.Duration, error) {
	if proto == "udp" && c.SourcePort != 0 {
		return c.onceFixed(ctx, server, wire, q, timeout)
	}
	start := c.Stack.Now()
	deadline := start.Add(timeout)
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := c.Stack.AfterFunc(timeout, cancel)
	conn, err := c.Stack.Dial(dctx, proto, server)
	t.Stop()
	if err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			return nil, 0, 0, context.DeadlineExceeded
		}
		return nil, 0, 0, err
	}
	defer conn.Close()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if proto == "udp" {
		if _, err := conn.Write(wire); err != nil {
			return nil, 0, 0, err
		}
		buf := make([]byte, md.MaxMsgSize)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if errors.Is(err, syscall.ECONNREFUSED) {
					return nil, 0, 0, err
				}
				return nil, 0, 0, err
			}
			r, ok := reply(buf[:n], q)
			if !ok {
				continue // not our answer (late, spoofed or garbled): keep waiting
			}
			return r, n, c.Stack.Now().Sub(start), nil
		}
	}
	frame := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(frame, uint16(len(wire)))
	copy(frame[2:], wire)
	if _, err := conn.Write(frame); err != nil {
		return nil, 0, 0, err
	}
	for {
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			return nil, 0, 0, err
		}
		buf := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(conn, buf); err != nil {
			return nil, 0, 0, err
		}
		r := new(md.Msg)
		if err := r.Unpack(buf); err != nil {
			return nil, 0, 0, neterr.Errorf(neterr.KindProtocol, "", server, "malformed reply: %v", err)
		}
		if matches(q, r) {
			return r, len(buf), c.Stack.Now().Sub(start), nil
		}
	}
}

// onceFixed is once over UDP from the fixed SourcePort: the reply must
// come from server's address and port and carry the query's id.
func (c *Client) onceFixed(ctx context.Context, server string, wire []byte, q *md.Msg, timeout time.Duration) (*md.Msg, int, time.Duration, error) {
	to, err := netip.ParseAddrPort(server)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("server %q: want ip:port: %v", server, err)
	}
	c.fixed.Lock()
	defer c.fixed.Unlock()
	start := c.Stack.Now()
	pc, err := c.Stack.ListenPacket(ctx, "udp", net.JoinHostPort("", strconv.Itoa(c.SourcePort)))
	if err != nil {
		return nil, 0, 0, err
	}
	defer pc.Close()
	pc.SetDeadline(start.Add(timeout))
	stop := context.AfterFunc(ctx, func() { pc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := pc.WriteTo(wire, net.UDPAddrFromAddrPort(to)); err != nil {
		return nil, 0, 0, err
	}
	buf := make([]byte, md.MaxMsgSize)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return nil, 0, 0, err
		}
		if fa, ok := from.(*net.UDPAddr); !ok || fa.AddrPort().Addr().Unmap() != to.Addr().Unmap() || fa.AddrPort().Port() != to.Port() {
			continue
		}
		if r, ok := reply(buf[:n], q); ok {
			return r, n, c.Stack.Now().Sub(start), nil
		}
	}
}

// reply decodes b if it answers q. The id is checked before anything is
// decoded: a flood of forged replies costs little.
func reply(b []byte, q *md.Msg) (*md.Msg, bool) {
	if len(b) < 12 || binary.BigEndian.Uint16(b) != q.Id {
		return nil, false
	}
	r := new(md.Msg)
	if r.Unpack(b) != nil || !matches(q, r) {
		return nil, false
	}
	return r, true
}

// matches reports whether r answers q: same id, and the same question
// when r has one.
func matches(q, r *md.Msg) bool {
	if r.Id != q.Id || !r.Response {
		return false
	}
	if len(r.Question) == 0 || len(q.Question) == 0 {
		return true
	}
	a, b := r.Question[0], q.Question[0]
	return a.Qtype == b.Qtype && md.CanonicalName(a.Name) == md.CanonicalName(b.Name)
}

// NewQuery returns a query for name and type with an id drawn from st's
// random numbers: crypto-random on the OS stack, from the network's seed in
// the lab, so a lab run repeats and an off-path attacker must guess it.
func NewQuery(st stack.Stack, name string, qtype uint16, rd bool) *md.Msg {
	m := new(md.Msg)
	m.SetQuestion(md.Fqdn(name), qtype)
	m.Id = uint16(st.Rand())
	m.RecursionDesired = rd
	return m
}
