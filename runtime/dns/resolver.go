package dns

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/runtime/neterr"
)

// Mode is how a resolution walks the hierarchy.
type Mode int

const (
	// Iterative: the resolver (the local name server) asks the root, then
	// each server it is referred to, itself: the course's iterated query.
	Iterative Mode = iota
	// Recursive: the resolver asks the root with RD set; a server that
	// recurses (RA set, a Server with Recursive) asks the next one down
	// itself, as in the course's recursive-query figure, and the answer
	// travels back up the chain. The servers report the queries they sent
	// (an EDNS option, hopOption) so the trace shows the real hops and
	// Stats.Relayed counts them. A server that only refers (RA clear, as
	// every real root and TLD server) has its referral followed by the
	// resolver itself, and the trace says so.
	Recursive
)

func (m Mode) String() string {
	if m == Recursive {
		return "recursive"
	}
	return "iterative"
}

// ResolveOp names resolutions in errors: the builtin a script calls,
// dns.resolver.resolve.
const ResolveOp = "dns.resolver.resolve"

// Limits of one resolution.
const (
	MaxQueries = 40 // queries per resolution: bounds referral and NS loops
	MaxCNAMEs  = 10 // aliases followed
	MaxDepth   = 4  // nested resolutions of name-server names without glue
)

// Resolver resolves names by walking the hierarchy from its roots.
type Resolver struct {
	Client    *Client
	Roots     []string      // host:port of the root servers
	Port      int           // the port referrals are followed on (glue has no port)
	Cache     *Cache        // nil: no caching
	Bailiwick bool          // drop records outside the zone of the server that sent them
	Timeout   time.Duration // each query's
	Retries   int
	// Budget bounds a whole resolution, every query and referral of it
	// (0: none), so that silent servers cannot hold one for minutes.
	Budget time.Duration
	// Mode is how a Server using this resolver resolves (Resolve takes
	// its own mode).
	Mode Mode

	mu    sync.Mutex
	stats Stats
}

// Stats count a resolver's work since it was made.
type Stats struct {
	Queries   int // queries this resolver sent
	Relayed   int // recursive mode: queries the servers of the chain reported sending each other
	CacheHits int // answers and delegations found in the cache
	Rejected  int // out-of-bailiwick records dropped
	Resolved  int // resolutions done
}

// Stats returns a copy of the counters.
func (r *Resolver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// ResetStats zeroes the counters.
func (r *Resolver) ResetStats() {
	r.mu.Lock()
	r.stats = Stats{}
	r.mu.Unlock()
}

func (r *Resolver) count(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// DefaultPort is the port of the first root, the usual choice for a
// hierarchy run on one port at different loopback addresses.
func DefaultPort(roots []string) int {
	if len(roots) > 0 {
		if _, p, err := net.SplitHostPort(roots[0]); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				return n
			}
		}
	}
	return 53
}

// Result is a finished resolution.
type Result struct {
	Msg       *md.Msg // the question, the answer (CNAME chain first), the SOA of a negative answer, the rcode
	FromCache bool    // answered without sending a query
	Queries   int     // queries sent for it (relayed ones included)
}

// Resolve resolves name and type. trace, if not nil, is told each step.
// Replies such as NXDOMAIN are results; failures (timeouts, loops,
// unreachable servers) are errors.
func (r *Resolver) Resolve(ctx context.Context, name string, qtype uint16, mode Mode, trace func(string)) (*Result, error) {
	if len(r.Roots) == 0 {
		return nil, neterr.Errorf(neterr.KindArgument, ResolveOp, "", "the resolver has no root servers")
	}
	if trace == nil {
		trace = func(string) {}
	}
	return r.run(&walk{r: r, ctx: ctx, trace: trace, mode: mode}, name, qtype)
}

// ResolveFrom resolves name starting at servers ("ip:port"), the name
// servers of zone, instead of at the roots: a recursive server following
// its own referral. An alias out of the walk's reach is not followed: the
// answer ends at the CNAME and whoever asked goes on from there.
func (r *Resolver) ResolveFrom(ctx context.Context, zone string, servers []string, name string, qtype uint16, mode Mode, trace func(string)) (*Result, error) {
	if trace == nil {
		trace = func(string) {}
	}
	w := &walk{r: r, ctx: ctx, trace: trace, mode: mode, startZone: md.CanonicalName(zone), noAlias: true}
	for _, a := range servers {
		w.start = append(w.start, server{addr: a})
	}
	return r.run(w, name, qtype)
}

func (r *Resolver) run(w *walk, name string, qtype uint16) (*Result, error) {
	name = md.CanonicalName(name)
	if r.Budget > 0 {
		// A deadline each query's wait is cut to, rather than a timer: a
		// pending timer would be one more event on a lab's clock.
		w.deadline = r.Client.Stack.Now().Add(r.Budget)
	}
	chain, rcode, auth, err := w.resolve(name, qtype, 0)
	if err != nil {
		if w.spent {
			return nil, neterr.Errorf(neterr.KindTimeout, ResolveOp, "", "%s %s: no answer within %s (the resolver's timeout)", name, TypeName(qtype), neterr.FormatDuration(r.Budget))
		}
		return nil, err
	}
	r.count(func(s *Stats) { s.Resolved++ })
	m := new(md.Msg)
	m.SetQuestion(name, qtype)
	m.Response, m.RecursionDesired, m.RecursionAvailable = true, true, true
	m.Rcode = rcode
	m.Answer, m.Ns = chain, auth
	return &Result{Msg: m, FromCache: w.queries == 0, Queries: w.queries}, nil
}

// walk is one resolution in progress.
type walk struct {
	r       *Resolver
	ctx     context.Context
	trace   func(string)
	mode    Mode
	queries int

	startZone string   // ResolveFrom: where the walk starts instead of the roots
	start     []server // and the servers it asks there
	noAlias   bool     // stop at an alias instead of following it

	deadline time.Time // the resolver's Budget runs out (zero: no budget)
	spent    bool      // and it did
}

func (w *walk) tracef(format string, args ...any) { w.trace(fmt.Sprintf(format, args...)) }

func (w *walk) cacheGet(name string, qtype uint16) ([]md.RR, bool, int, bool) {
	if w.r.Cache == nil {
		return nil, false, 0, false
	}
	return w.r.Cache.Get(name, qtype)
}

func (w *walk) cachePut(name string, qtype uint16, rrs []md.RR) {
	if w.r.Cache != nil {
		w.r.Cache.Put(name, qtype, rrs)
	}
}

// resolve follows aliases: each name of the chain is looked up in the
// cache, then in the hierarchy.
func (w *walk) resolve(name string, qtype uint16, depth int) (chain []md.RR, rcode int, auth []md.RR, err error) {
	var seen []string
	for {
		for _, s := range seen {
			if s == name {
				return chain, 0, nil, neterr.Errorf(neterr.KindProtocol, ResolveOp, "", "CNAME loop: %s → %s", strings.Join(seen, " → "), name)
			}
		}
		seen = append(seen, name)
		if len(seen) > MaxCNAMEs {
			return chain, 0, nil, neterr.Errorf(neterr.KindProtocol, ResolveOp, "", "CNAME chain longer than %d: %s …", MaxCNAMEs, strings.Join(seen[:4], " → "))
		}
		if rrs, neg, rc, ok := w.cacheGet(name, qtype); ok {
			w.r.count(func(s *Stats) { s.CacheHits++ })
			if neg {
				w.tracef("cache: %s %s → %s (negative, cached)", name, TypeName(qtype), RcodeName(rc))
				return chain, rc, rrs, nil
			}
			w.tracef("cache: %s %s → %s", name, TypeName(qtype), summary(rrs))
			return append(chain, rrs...), md.RcodeSuccess, nil, nil
		}
		if qtype != md.TypeCNAME {
			if rrs, neg, _, ok := w.cacheGet(name, md.TypeCNAME); ok && !neg && len(rrs) > 0 {
				w.r.count(func(s *Stats) { s.CacheHits++ })
				w.tracef("cache: %s is an alias → %s", name, summary(rrs))
				chain = append(chain, rrs...)
				name = md.CanonicalName(rrs[0].(*md.CNAME).Target)
				continue
			}
		}
		ans, rc, au, next, err := w.descend(name, qtype, depth)
		chain = append(chain, ans...)
		if err != nil || next == "" || w.noAlias && depth == 0 {
			return chain, rc, au, err
		}
		w.tracef("following alias %s → %s", name, next)
		name = next
	}
}

// server is a name server to ask: its address and the zone it serves.
type server struct {
	addr string
	name string // the name server's host name, if known
}

// closest returns the deepest zone above name whose servers are in the
// cache (iterative mode), or the root.
func (w *walk) closest(name string) (string, []server) {
	if w.mode == Iterative && w.r.Cache != nil {
		for z := name; z != "."; z = parent(z) {
			rrs, neg, _, ok := w.r.Cache.Get(z, md.TypeNS)
			if !ok || neg {
				continue
			}
			var srv []server
			for _, rr := range rrs {
				if ns, ok := rr.(*md.NS); ok {
					for _, t := range []uint16{md.TypeA, md.TypeAAAA} {
						if as, neg, _, ok := w.r.Cache.Get(ns.Ns, t); ok && !neg {
							srv = append(srv, w.servers(ns.Ns, as)...)
						}
					}
				}
			}
			if len(srv) > 0 {
				w.r.count(func(s *Stats) { s.CacheHits++ })
				w.tracef("cache: name servers of %s → %s (no need to ask the root)", z, srv[0].addr)
				return z, srv
			}
		}
	}
	if w.start != nil {
		return w.startZone, w.start
	}
	var srv []server
	for _, a := range w.r.Roots {
		srv = append(srv, server{addr: a})
	}
	return ".", srv
}

func (w *walk) servers(nsName string, addrs []md.RR) []server {
	var out []server
	port := strconv.Itoa(w.r.Port)
	for _, rr := range addrs {
		switch a := rr.(type) {
		case *md.A:
			out = append(out, server{addr: net.JoinHostPort(a.A.String(), port), name: nsName})
		case *md.AAAA:
			out = append(out, server{addr: net.JoinHostPort(a.AAAA.String(), port), name: nsName})
		}
	}
	return out
}

func zoneLabel(z string) string {
	if z == "." {
		return "root"
	}
	return z
}

// descend asks servers from the closest known zone down until one answers.
// next is set when the answer is an alias to look up from the top.
func (w *walk) descend(name string, qtype uint16, depth int) (ans []md.RR, rcode int, auth []md.RR, next string, err error) {
	zone, servers := w.closest(name)
	for {
		if w.queries >= MaxQueries {
			return nil, 0, nil, "", neterr.Errorf(neterr.KindProtocol, ResolveOp, "", "gave up on %s after %d queries: referral loop?", name, w.queries)
		}
		resp, srv, err := w.ask(servers, zone, name, qtype)
		if err != nil {
			return nil, 0, nil, "", err
		}
		if loop := upwardReferral(resp, zone, name); loop != "" {
			return nil, 0, nil, "", neterr.Errorf(neterr.KindProtocol, ResolveOp, srv.addr,
				"referral loop: the server for %s referred %s to %s, which is not closer to the name", zoneLabel(zone), name, zoneLabel(loop))
		}
		w.checkBailiwick(resp, zone, srv)
		w.cacheAdditional(resp, zone)
		if r, done, err := w.answer(resp, srv, zone, name, qtype); done || err != nil {
			return r.ans, r.rcode, r.auth, r.next, err
		}
		if zone, servers, err = w.referral(resp, srv, zone, name, depth); err != nil {
			return nil, 0, nil, "", err
		}
	}
}

// found is what a server's reply settled: the answer records, the rcode,
// the SOA of a negative answer, and the alias to look up next.
type found struct {
	ans   []md.RR
	rcode int
	auth  []md.RR
	next  string
}

// answer reads a reply that may settle the question: an answer (perhaps
// an alias to follow), NXDOMAIN, NODATA or an error rcode. done is false
// when the reply is a referral to follow.
func (w *walk) answer(resp *md.Msg, srv server, zone, name string, qtype uint16) (r found, done bool, err error) {
	// A server that recursed answers for the whole chain below it.
	recursed := w.mode == Recursive && resp.RecursionAvailable
	ans, final, alias := followAnswer(resp.Answer, name, qtype)
	if alias == loopMark {
		return r, true, neterr.Errorf(neterr.KindProtocol, ResolveOp, srv.addr, "CNAME loop: %s", chainString(ans))
	}
	soa := findSOA(resp.Ns)
	switch {
	case len(final) > 0:
		w.cacheAnswer(ans)
		w.tracef("%s: %s", w.outcome(srv, zone), summary(ans))
		return found{ans, md.RcodeSuccess, nil, ""}, true, nil
	case len(ans) > 0 && (resp.Rcode == md.RcodeNameError || soa != nil):
		w.cacheAnswer(ans)
		if resp.Rcode == md.RcodeNameError || resp.Rcode == md.RcodeSuccess {
			w.cacheNegative(alias, qtype, resp.Rcode, soa)
		}
		w.tracef("%s: %s, then %s for %s", w.outcome(srv, zone), summary(ans), rcodeLabel(resp.Rcode), alias)
		return found{ans, resp.Rcode, soaList(soa), ""}, true, nil
	case len(ans) > 0:
		w.cacheAnswer(ans)
		w.tracef("%s: %s", w.outcome(srv, zone), summary(ans))
		return found{ans, md.RcodeSuccess, nil, alias}, true, nil
	}
	switch resp.Rcode {
	case md.RcodeNameError:
		w.cacheNegative(name, qtype, resp.Rcode, soa)
		w.tracef("%s: NXDOMAIN, %s does not exist", w.outcome(srv, zone), name)
		return found{nil, resp.Rcode, soaList(soa), ""}, true, nil
	case md.RcodeSuccess:
	default:
		w.tracef("%s: %s", w.outcome(srv, zone), RcodeName(resp.Rcode))
		return found{nil, resp.Rcode, nil, ""}, true, nil
	}
	ns := rrsOf(resp.Ns, md.TypeNS)
	if len(ns) == 0 && soa == nil && !resp.Authoritative && !recursed {
		return r, true, neterr.Errorf(neterr.KindProtocol, ResolveOp, srv.addr,
			"lame answer: the server for %s gave no answer, no referral and is not authoritative for %s", zoneLabel(zone), name)
	}
	if len(ns) == 0 || soa != nil || recursed {
		w.cacheNegative(name, qtype, resp.Rcode, soa)
		w.tracef("%s: NODATA, %s has no %s record", w.outcome(srv, zone), name, TypeName(qtype))
		return found{nil, md.RcodeSuccess, soaList(soa), ""}, true, nil
	}
	return r, false, nil
}

// referral follows a referral from the server for zone: the zone cut it
// names, which must be closer to name, and the addresses of its servers
// (from the glue, or looked up).
func (w *walk) referral(resp *md.Msg, srv server, zone, name string, depth int) (string, []server, error) {
	ns := rrsOf(resp.Ns, md.TypeNS)
	cut := md.CanonicalName(ns[0].Header().Name)
	if w.mode == Recursive {
		w.tracef("    %s server does not recurse (ra clear): following its referral to %s myself", zoneLabel(zone), cut)
	}
	if cut == zone || !md.IsSubDomain(zone, cut) || !md.IsSubDomain(cut, name) {
		return "", nil, neterr.Errorf(neterr.KindProtocol, ResolveOp, srv.addr,
			"referral loop: the server for %s referred %s to %s, which is not closer to the name", zoneLabel(zone), name, zoneLabel(cut))
	}
	w.cachePut(cut, md.TypeNS, ns)
	glue := len(rrsOf(resp.Extra, md.TypeA))+len(rrsOf(resp.Extra, md.TypeAAAA)) > 0
	if !glue {
		w.tracef("%s: referral to %s → %s (no glue)", w.outcome(srv, zone), cut, ns[0].(*md.NS).Ns)
	}
	next, err := w.addresses(ns, resp.Extra, cut, depth)
	if err != nil {
		return "", nil, err
	}
	if glue {
		w.tracef("%s: referral to %s → %s (%s glue)", w.outcome(srv, zone), cut, next[0].name, next[0].addr)
	} else {
		w.tracef("    %s is at %s: asking it", next[0].name, next[0].addr)
	}
	return cut, next, nil
}

// outcome names who answered whom, for the trace.
func (w *walk) outcome(srv server, zone string) string {
	return fmt.Sprintf("    %s %s answered", zoneLabel(zone), srv.addr)
}

// ask sends the question to the first server that answers. In recursive
// mode the query asks the server to report the queries it sends on
// (hopOption), and the trace shows them under the server's answer.
func (w *walk) ask(servers []server, zone, name string, qtype uint16) (*md.Msg, server, error) {
	var lastErr error
	for _, srv := range servers {
		if w.queries >= MaxQueries {
			break
		}
		w.queries++
		q := NewQuery(w.r.Client.Stack, name, qtype, w.mode == Recursive)
		w.r.count(func(s *Stats) { s.Queries++ })
		flag := ""
		if w.mode == Recursive {
			flag = " (rd)"
			askHops(q)
		}
		w.tracef("[%d] asked %s server %s: %s %s?%s", w.queries, zoneLabel(zone), srv.addr, name, TypeName(qtype), flag)
		timeout, retries := w.r.Timeout, w.r.Retries
		if !w.deadline.IsZero() {
			left := w.deadline.Sub(w.r.Client.Stack.Now())
			if left <= 0 {
				w.spent = true
				return nil, srv, context.DeadlineExceeded
			}
			if timeout <= 0 || timeout > left {
				timeout, retries = left, 0
			} else if tries := int(left / timeout); tries < retries+1 {
				retries = tries - 1
			}
		}
		ex, err := w.r.Client.Exchange(w.ctx, q, srv.addr, QueryOptions{Timeout: timeout, Retries: retries, Op: ResolveOp})
		if err != nil {
			w.tracef("    %s %s: %v", zoneLabel(zone), srv.addr, errMsg(err))
			lastErr = err
			if w.ctx.Err() != nil {
				return nil, srv, err
			}
			continue
		}
		if hops := reportedHops(ex.Reply); len(hops) > 0 {
			w.tracef("    %s server %s recursed (ra): it asked on, from its own address:", zoneLabel(zone), srv.addr)
			relayed := 0
			for _, h := range hops {
				if strings.HasPrefix(strings.TrimSpace(h), "[") {
					relayed++
				}
				w.tracef("        %s", h)
			}
			w.r.count(func(s *Stats) { s.Relayed += relayed })
		}
		return ex.Reply, srv, nil
	}
	if lastErr == nil {
		lastErr = neterr.Errorf(neterr.KindProtocol, ResolveOp, "", "gave up on %s after %d queries: referral loop?", name, w.queries)
	}
	return nil, server{}, lastErr
}

func errMsg(err error) string {
	if le, ok := err.(*neterr.Error); ok {
		return le.Msg
	}
	return err.Error()
}

// checkBailiwick drops, when the check is on, every record whose name is
// outside the zone of the server that sent it: the server for drevil.com
// has no say about google.com.
func (w *walk) checkBailiwick(m *md.Msg, zone string, srv server) {
	if !w.r.Bailiwick {
		return
	}
	filter := func(rrs []md.RR) []md.RR {
		out := rrs[:0]
		for _, rr := range rrs {
			if rr.Header().Rrtype == md.TypeOPT || md.IsSubDomain(zone, rr.Header().Name) {
				out = append(out, rr)
				continue
			}
			w.r.count(func(s *Stats) { s.Rejected++ })
			w.tracef("    bailiwick: dropped %s from the server for %s (out of its zone)", oneLine(rr), zoneLabel(zone))
		}
		return out
	}
	m.Answer, m.Ns, m.Extra = filter(m.Answer), filter(m.Ns), filter(m.Extra)
}

// cacheAdditional caches the address records of the additional section
// (glue and "helpful" records): without the bailiwick check this is how a
// poisoned record gets in.
func (w *walk) cacheAdditional(m *md.Msg, zone string) {
	if w.r.Cache == nil {
		return
	}
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != md.TypeOPT && !md.IsSubDomain(zone, rr.Header().Name) {
			w.tracef("    no bailiwick check: cached %s from the server for %s", oneLine(rr), zoneLabel(zone))
		}
	}
	sets := map[cacheKey][]md.RR{}
	var order []cacheKey
	for _, rr := range m.Extra {
		t := rr.Header().Rrtype
		if t != md.TypeA && t != md.TypeAAAA {
			continue
		}
		k := cacheKey{md.CanonicalName(rr.Header().Name), t}
		if sets[k] == nil {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rr)
	}
	for _, k := range order {
		w.r.Cache.Put(k.name, k.qtype, sets[k])
	}
}

func (w *walk) cacheAnswer(ans []md.RR) {
	sets := map[cacheKey][]md.RR{}
	var order []cacheKey
	for _, rr := range ans {
		k := cacheKey{md.CanonicalName(rr.Header().Name), rr.Header().Rrtype}
		if sets[k] == nil {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rr)
	}
	for _, k := range order {
		w.cachePut(k.name, k.qtype, sets[k])
	}
}

func (w *walk) cacheNegative(name string, qtype uint16, rcode int, soa *md.SOA) {
	if w.r.Cache == nil {
		return
	}
	var rr md.RR
	if soa != nil {
		rr = soa
	}
	w.r.Cache.PutNegative(name, qtype, rcode, rr)
}

// addresses finds where a referral's name servers are: glue from the
// additional section, the cache, or (without glue) a resolution of the
// name server's own name.
func (w *walk) addresses(ns []md.RR, extra []md.RR, cut string, depth int) ([]server, error) {
	var out []server
	var glueless []string
	for _, rr := range ns {
		host := md.CanonicalName(rr.(*md.NS).Ns)
		var addrs []md.RR
		for _, e := range extra {
			t := e.Header().Rrtype
			if (t == md.TypeA || t == md.TypeAAAA) && md.CanonicalName(e.Header().Name) == host {
				addrs = append(addrs, e)
			}
		}
		if len(addrs) == 0 && w.r.Cache != nil {
			for _, t := range []uint16{md.TypeA, md.TypeAAAA} {
				if as, neg, _, ok := w.r.Cache.Get(host, t); ok && !neg {
					addrs = append(addrs, as...)
				}
			}
		}
		if len(addrs) == 0 {
			if !md.IsSubDomain(cut, host) { // inside the cut without glue: unreachable
				glueless = append(glueless, host)
			}
			continue
		}
		out = append(out, w.servers(host, addrs)...)
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, host := range glueless {
		if depth >= MaxDepth {
			return nil, neterr.Errorf(neterr.KindProtocol, ResolveOp, "", "name servers without glue nested more than %d deep (at %s)", MaxDepth, host)
		}
		w.tracef("    no glue for %s: resolving its address first", host)
		chain, rcode, _, err := w.resolve(host, md.TypeA, depth+1)
		if err != nil {
			return nil, err
		}
		if rcode == md.RcodeSuccess {
			if as := rrsOf(chain, md.TypeA); len(as) > 0 {
				return w.servers(host, as), nil
			}
		}
	}
	return nil, neterr.Errorf(neterr.KindProtocol, ResolveOp, "", "no address for any name server of %s", cut)
}

// upwardReferral returns the zone of a referral that does not lead closer
// to name (to the same zone, above it or elsewhere), or "".
func upwardReferral(m *md.Msg, zone, name string) string {
	if m.Rcode != md.RcodeSuccess || len(m.Answer) > 0 || findSOA(m.Ns) != nil {
		return ""
	}
	ns := rrsOf(m.Ns, md.TypeNS)
	if len(ns) == 0 {
		return ""
	}
	cut := md.CanonicalName(ns[0].Header().Name)
	if cut == zone || !md.IsSubDomain(zone, cut) || !md.IsSubDomain(cut, name) {
		return cut
	}
	return ""
}

// loopMark is followAnswer's alias for a chain of CNAMEs that loops.
const loopMark = "\x00loop"

func chainString(rrs []md.RR) string {
	var parts []string
	for _, rr := range rrs {
		parts = append(parts, rr.Header().Name)
	}
	if n := len(rrs); n > 0 {
		if c, ok := rrs[n-1].(*md.CNAME); ok {
			parts = append(parts, c.Target)
		}
	}
	return strings.Join(parts, " → ")
}

// followAnswer walks the answer section from name through CNAMEs: ans is
// the chain and the final records, final the records of qtype, alias the
// last name reached.
func followAnswer(answer []md.RR, name string, qtype uint16) (ans, final []md.RR, alias string) {
	cur := name
	for hops := 0; hops <= MaxCNAMEs; hops++ {
		var cname *md.CNAME
		for _, rr := range answer {
			h := rr.Header()
			if md.CanonicalName(h.Name) != cur {
				continue
			}
			if h.Rrtype == qtype || qtype == md.TypeANY {
				final = append(final, rr)
			} else if c, ok := rr.(*md.CNAME); ok && cname == nil {
				cname = c
			}
		}
		if len(final) > 0 {
			return append(ans, final...), final, cur
		}
		if cname == nil {
			break
		}
		ans = append(ans, cname)
		cur = md.CanonicalName(cname.Target)
		for _, rr := range ans {
			if md.CanonicalName(rr.Header().Name) == cur {
				return ans, nil, loopMark
			}
		}
	}
	if cur == name {
		return ans, nil, ""
	}
	return ans, nil, cur
}

func findSOA(rrs []md.RR) *md.SOA {
	for _, rr := range rrs {
		if s, ok := rr.(*md.SOA); ok {
			return s
		}
	}
	return nil
}

func soaList(s *md.SOA) []md.RR {
	if s == nil {
		return nil
	}
	return []md.RR{s}
}

func rrsOf(rrs []md.RR, t uint16) []md.RR {
	var out []md.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}

func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return "."
	}
	return name[i+1:]
}

// summary shows records briefly: "A 128.119.245.12, A 128.119.245.13".
func summary(rrs []md.RR) string {
	var parts []string
	for _, rr := range rrs {
		parts = append(parts, TypeName(rr.Header().Rrtype)+" "+Value(rr))
	}
	if len(parts) == 0 {
		return "(nothing)"
	}
	return strings.Join(parts, ", ")
}

func oneLine(rr md.RR) string {
	return strings.Join(strings.Fields(rr.String()), " ")
}

func rcodeLabel(rc int) string { return RcodeName(rc) }
