package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// A Handler answers a query itself, or returns nil to let the zones (and
// the resolver) answer.
type Handler func(req *md.Msg, client net.Addr, proto string) (*md.Msg, error)

// LogLimit is how many log lines a server keeps.
const LogLimit = 1000

// Server is an authoritative (zones), programmable (Handler) and local
// recursive (Resolver) name server over UDP and TCP on one address.
type Server struct {
	Stack    stack.Stack
	Zones    []*Zone
	Handler  Handler
	Resolver *Resolver
	// Recursive servers answer a query with RD set that their zones only
	// refer elsewhere by asking the referred servers themselves (with RD,
	// from this server's address, on this server's port), and relay the
	// answer with RA set: the course's recursive chain.
	Recursive bool
	// OnError is told about failures while answering (a handler error, a
	// panic), which become SERVFAIL answers.
	OnError func(error)

	ctx      context.Context
	cancel   context.CancelFunc
	pc       net.PacketConn
	ln       net.Listener
	udp, tcp *md.Server
	wg       sync.WaitGroup
	stopped  atomic.Bool
	queries  atomic.Int64

	mu       sync.Mutex
	log      []string
	recursor *Resolver
}

// Start listens on addr ("host:port", port 0 picks one free for both UDP
// and TCP) and serves in the background until Stop or ctx ends.
func (s *Server) Start(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: want host:port", addr)
	}
	for try := 0; ; try++ {
		pc, err := s.Stack.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return err
		}
		_, p, _ := net.SplitHostPort(pc.LocalAddr().String())
		ln, err := s.Stack.Listen(ctx, "tcp", net.JoinHostPort(host, p))
		if err != nil {
			pc.Close()
			if port == "0" && try < 20 {
				continue // the port is free for UDP but not TCP: pick another
			}
			return err
		}
		s.pc, s.ln = pc, ln
		break
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	h := md.HandlerFunc(s.serveDNS)
	s.udp = &md.Server{PacketConn: s.pc, Handler: h, UDPSize: md.MaxMsgSize}
	// A TCP frame too short to hold a DNS header ends the connection:
	// otherwise empty frames sent now and then would keep it open for good.
	s.tcp = &md.Server{Listener: s.ln, Handler: h, DecorateReader: func(r md.Reader) md.Reader { return shortFrameReader{r} }}
	for _, srv := range []*md.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			srv.ActivateAndServe()
		}()
		<-started
	}
	go func() {
		<-s.ctx.Done()
		s.Stop()
	}()
	return nil
}

// Addr is the address served, "host:port".
func (s *Server) Addr() string { return s.pc.LocalAddr().String() }

// Port is the port served.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// Queries is how many queries the server has answered.
func (s *Server) Queries() int64 { return s.queries.Load() }

// Stop closes the sockets and waits for the serving goroutines.
func (s *Server) Stop() {
	if s.stopped.Swap(true) {
		return
	}
	s.cancel()
	s.udp.Shutdown()
	s.tcp.Shutdown()
	s.pc.Close()
	s.ln.Close()
	s.wg.Wait()
}

// Log returns the log lines, oldest first.
func (s *Server) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *Server) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	s.mu.Lock()
	if len(s.log) >= LogLimit {
		s.log = append(s.log[:0], s.log[len(s.log)-LogLimit/2:]...)
	}
	s.log = append(s.log, line)
	s.mu.Unlock()
}

func (s *Server) serveDNS(w md.ResponseWriter, req *md.Msg) {
	proto := w.LocalAddr().Network()
	var resp *md.Msg
	func() {
		defer func() {
			if p := recover(); p != nil {
				s.fail(fmt.Errorf("panic while answering: %v", p))
				resp = new(md.Msg)
				resp.SetRcode(req, md.RcodeServerFailure)
			}
		}()
		resp = s.Answer(req, w.RemoteAddr(), proto)
	}()
	resp.Compress = true
	if proto == "udp" {
		size := md.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		resp.Truncate(size)
	}
	// Counted and logged before the reply leaves, so a script that reads
	// .queries or .log right after its answer arrives sees this query.
	s.queries.Add(1)
	q := "(no question)"
	if len(req.Question) > 0 {
		q = req.Question[0].Name + " " + TypeName(req.Question[0].Qtype)
	}
	var flags []string
	if resp.Authoritative {
		flags = append(flags, "aa")
	}
	if resp.Truncated {
		flags = append(flags, "tc")
	}
	if resp.RecursionAvailable {
		flags = append(flags, "ra")
	}
	s.logf("%s %s %s → %s %s answer=%d authority=%d additional=%d", w.RemoteAddr(), proto, q,
		RcodeName(resp.Rcode), strings.Join(flags, " "), len(resp.Answer), len(resp.Ns), len(resp.Extra))
	if err := w.WriteMsg(resp); err != nil {
		s.logf("%s %s %s: reply failed (%v), answering SERVFAIL", w.RemoteAddr(), proto, q, err)
		resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
		resp.Rcode = md.RcodeServerFailure
		w.WriteMsg(resp)
	}
}

func (s *Server) fail(err error) {
	if s.OnError != nil {
		s.OnError(err)
	}
}

// Answer computes the reply to req: the handler's, else the zones', else
// the resolver's, else REFUSED. It never fails: errors become SERVFAIL.
func (s *Server) Answer(req *md.Msg, client net.Addr, proto string) *md.Msg {
	resp := new(md.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = s.Resolver != nil || s.Recursive
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(max(opt.UDPSize(), md.MinMsgSize), false)
	}
	if req.Opcode != md.OpcodeQuery {
		resp.Rcode = md.RcodeNotImplemented
		return resp
	}
	if len(req.Question) != 1 {
		resp.Rcode = md.RcodeFormatError
		return resp
	}
	q := req.Question[0]
	if s.Handler != nil {
		m, err := s.Handler(req, client, proto)
		if err != nil {
			s.fail(err)
			resp.Rcode = md.RcodeServerFailure
			return resp
		}
		if m != nil {
			m.Id, m.Response, m.Opcode = req.Id, true, req.Opcode
			m.RecursionDesired = req.RecursionDesired
			if len(m.Question) == 0 {
				m.Question = req.Question
			}
			if opt := req.IsEdns0(); opt != nil && m.IsEdns0() == nil {
				m.SetEdns0(max(opt.UDPSize(), md.MinMsgSize), false)
			}
			return m
		}
	}
	if z := s.zoneFor(q.Name); z != nil {
		a := z.Lookup(q.Name, q.Qtype)
		if !a.Authoritative && s.Recursive && req.RecursionDesired {
			if cut, servers := s.referred(a); len(servers) > 0 {
				return s.recurse(req, resp, client, cut, servers)
			}
		}
		if a.Authoritative || s.Resolver == nil {
			resp.Rcode, resp.Authoritative = a.Rcode, a.Authoritative
			resp.Answer, resp.Ns = a.Answer, a.Authority
			resp.Extra = append(a.Additional, resp.Extra...)
			return resp
		}
	}
	if s.Resolver != nil {
		ctx := s.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		var hops []string
		var trace func(string)
		if wantsHops(req) {
			trace = func(l string) { hops = append(hops, l) }
		}
		res, err := s.Resolver.Resolve(ctx, q.Name, q.Qtype, s.Resolver.Mode, trace)
		reportHops(resp, hops)
		if err != nil {
			var te interface{ Timeout() bool }
			if !errors.As(err, &te) {
				s.logf("resolving %s %s failed: %s", q.Name, TypeName(q.Qtype), errMsg(err))
			}
			resp.Rcode = md.RcodeServerFailure
			return resp
		}
		resp.Rcode = res.Msg.Rcode
		resp.Answer, resp.Ns = res.Msg.Answer, res.Msg.Ns
		return resp
	}
	resp.Rcode = md.RcodeRefused
	return resp
}

// zoneFor is the zone with the longest origin containing name.
func (s *Server) zoneFor(name string) *Zone {
	name = md.CanonicalName(name)
	var best *Zone
	for _, z := range s.Zones {
		if md.IsSubDomain(z.Origin, name) && (best == nil || md.CountLabel(z.Origin) > md.CountLabel(best.Origin)) {
			best = z
		}
	}
	return best
}

// referred returns the zone cut and the name servers ("ip:port", on this
// server's port) a referral answer points to, from its glue.
func (s *Server) referred(a Answer) (string, []string) {
	var cut string
	names := map[string]bool{}
	for _, rr := range a.Authority {
		if ns, ok := rr.(*md.NS); ok {
			cut = ns.Header().Name
			names[md.CanonicalName(ns.Ns)] = true
		}
	}
	port := strconv.Itoa(s.Port())
	var servers []string
	for _, rr := range a.Additional {
		if g, ok := rr.(*md.A); ok && names[md.CanonicalName(g.Header().Name)] {
			servers = append(servers, net.JoinHostPort(g.A.String(), port))
		}
	}
	return cut, servers
}

// recurse answers req by asking the servers its zone refers it to, and
// logs the queries it sends. Asked for a hop report, it sends its trace.
func (s *Server) recurse(req, resp *md.Msg, client net.Addr, cut string, servers []string) *md.Msg {
	s.mu.Lock()
	if s.recursor == nil {
		s.recursor = &Resolver{Client: &Client{Stack: s.Stack}, Port: s.Port(), Bailiwick: true, Timeout: 2 * time.Second, Retries: 2}
	}
	r := s.recursor
	s.mu.Unlock()
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	var hops []string
	trace := func(l string) {
		hops = append(hops, l)
		if strings.HasPrefix(l, "[") { // its own query, not one reported from below
			s.logf("recursing for %s: %s", client, l[strings.Index(l, "]")+2:])
		}
	}
	q := req.Question[0]
	res, err := r.ResolveFrom(ctx, cut, servers, q.Name, q.Qtype, Recursive, trace)
	if wantsHops(req) {
		reportHops(resp, hops)
	}
	if err != nil {
		s.logf("recursing for %s: %s %s failed: %s", client, q.Name, TypeName(q.Qtype), errMsg(err))
		resp.Rcode = md.RcodeServerFailure
		return resp
	}
	resp.Rcode = res.Msg.Rcode
	resp.Answer, resp.Ns = res.Msg.Answer, res.Msg.Ns
	return resp
}

// shortFrameReader refuses TCP frames shorter than a DNS header.
type shortFrameReader struct{ md.Reader }

func (r shortFrameReader) ReadTCP(conn net.Conn, timeout time.Duration) ([]byte, error) {
	m, err := r.Reader.ReadTCP(conn, timeout)
	if err == nil && len(m) < 12 {
		return nil, errShortFrame
	}
	return m, err
}

var errShortFrame = errors.New("dns: tcp frame shorter than a header")
