// Package dnsmod is the Starlark module dns: a thin binding over the
// engine in runtime/dns (argument reading, the dns.message, dns.record,
// dns.resolver, dns.server and dns.zone values, and their docs).
package dnsmod

import (
	"context"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/dns"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
	"go.starlark.net/starlark"
)

const moduleDoc = `DNS: dig-style queries, an iterative and recursive resolver with a TTL
cache, and authoritative servers — a whole root → TLD → authoritative
hierarchy runs in one script on loopback.

    r = dns.query("gaia.cs.umass.edu", "A", server="127.0.0.1:5300")
    print(r)                      # like dig
    print(r.answer[0].value)

Replies such as NXDOMAIN are values (r.rcode == "NXDOMAIN"); a server that
never answers fails with catch() kind "timeout" after the retries.

Query counts: in iterative mode the resolver, playing the local name
server, asks the root, the TLD and the authoritative server itself
(stats.queries == 3 for gaia.cs.umass.edu with an empty cache). In
recursive mode it asks the root once with RD set (stats.queries == 1) and,
when the root and TLD servers recurse (dns.serve(..., recursive=True)),
each server asks the next one down itself, as in the course's
recursive-query figure: those queries are stats.relayed (2), reported by
the servers, and each server's log shows the query coming from the server
above it. Counting the host's query to its local server and every reply,
both figures have 8 messages.`

// New returns the dns module over st.
func New(st stack.Stack) *lang.Module {
	return lang.NewModule("dns", moduleDoc, starlark.StringDict{
		"query": lang.Func("dns.query", queryDoc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return query(st, th, b, args, kwargs)
		}),
		"reverse_name": lang.Func("dns.reverse_name", reverseDoc, reverseName),
		"resolver": lang.Func("dns.resolver", resolverDoc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return newResolver(st, th, b, args, kwargs)
		}),
		"serve": lang.Func("dns.serve", serveDoc, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return serve(st, th, b, args, kwargs)
		}),
		"zone":   lang.Func("dns.zone", zoneDoc, zoneFn),
		"reply":  lang.Func("dns.reply", replyDoc, replyFn),
		"record": lang.Func("dns.record", recordFnDoc, recordFn),
	}, resolverMethods, serverMethods, messageType, questionType, zoneType)
}

var (
	messageType  = lang.Document("dns.message", messageDoc)
	questionType = lang.Document("dns.question", "dns.question\n\nA question of a message: name, type, class.")
	zoneType     = lang.Document("dns.zone", "dns.zone\n\nThe records of one zone, from dns.zone(). Attributes: origin, records, soa.")
)

const queryDoc = `query(name, type="A", server="host:port", tcp=False, rd=True, timeout=2, retries=2) -> dns.message

Sends one query to server, like dig @server name type, and returns the
reply. Over UDP a lost query is sent again up to retries times, each wait
twice as long as the one before (exponential backoff: timeout, 2×timeout,
4×timeout …); a reply with TC set (truncated) is asked again over TCP.
tcp=True uses TCP from the start; rd sets "recursion desired". type is A,
AAAA, NS, CNAME, MX, PTR, TXT, SOA or any other type name. Fails with kind
"timeout" when no answer came, "refused" when nothing listens.

    r = dns.query("umass.edu", "MX", server="127.0.0.1:5300")
    print(r.rcode, [(a.preference, a.value) for a in r.answer])`

func query(st stack.Stack, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, typ string = "", "A"
	var server starlark.Value = starlark.None
	tcp, rd := false, true
	var timeoutV starlark.Value = starlark.MakeInt(2)
	retries := 2
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "type?", &typ, "server?", &server,
		"tcp?", &tcp, "rd?", &rd, "timeout?", &timeoutV, "retries?", &retries); err != nil {
		return nil, err
	}
	qtype, err := dns.ParseType(typ)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter type: %v", b.Name(), err)
	}
	if server == starlark.None {
		return nil, fmt.Errorf(`%s: no server: pass server="host:port" (a name server to ask)`, b.Name())
	}
	addr, err := lang.AddrArg(b.Name(), "server", server, 53)
	if err != nil {
		return nil, err
	}
	timeout, err := lang.Duration(timeoutV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter timeout: %v", b.Name(), err)
	}
	if retries < 0 || retries > 10 {
		return nil, fmt.Errorf("%s: for parameter retries: got %d, want 0..10", b.Name(), retries)
	}
	if _, ok := md.IsDomainName(name); !ok || name == "" {
		return nil, fmt.Errorf("%s: for parameter name: invalid domain name %q", b.Name(), name)
	}
	q := dns.NewQuery(st, name, qtype, rd)
	c := &dns.Client{Stack: st}
	ctx := lang.Context(th)
	var ex *dns.Exchange
	lang.Unlocked(th, func() {
		ex, err = c.Exchange(ctx, q, addr, dns.QueryOptions{TCP: tcp, Timeout: timeout, Retries: retries, Op: b.Name()})
	})
	if err != nil {
		return nil, err
	}
	return &Message{msg: ex.Reply, footer: &dns.Footer{RTT: ex.RTT, Server: addr, When: st.Now(), Size: ex.Size, TCP: ex.TCP}}, nil
}

const reverseDoc = `reverse_name(ip) -> str

The name under which the PTR record of an address is found: the IPv4
address's bytes reversed under in-addr.arpa (IPv6: nibbles under ip6.arpa).

    dns.reverse_name("128.119.245.12")   # "12.245.119.128.in-addr.arpa."`

func reverseName(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ip string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "ip", &ip); err != nil {
		return nil, err
	}
	arpa, err := md.ReverseAddr(ip)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid IP address %q", b.Name(), ip)
	}
	return starlark.String(arpa), nil
}

// ResolverValue is a dns.resolver.
type ResolverValue struct {
	r *dns.Resolver
}

// LookupMX is the resolver's MX lookup for other engines: smtp.serve(relay=
// True, resolver=r) relays through it in Go, under the relay's context.
func (r *ResolverValue) LookupMX(ctx context.Context, domain string) ([]string, error) {
	return r.r.LookupMX(ctx, domain)
}

const resolverDoc = `resolver(roots=["host:port", …], cache=True, bailiwick=True, port=None, timeout=10, query_timeout=2, retries=2, mode="iterative", randomize_ports=True, cache_size=10000, max_ttl=604800) -> dns.resolver

A resolver that starts at the given root servers. port is the port
referrals are followed on (glue records carry addresses, not ports), by
default the first root's port: a hierarchy on loopback runs every server on
one port at different 127.0.0.x addresses. cache=True keeps answers,
referrals and negative answers (NXDOMAIN, NODATA) for their TTL.
bailiwick=False accepts records outside the zone of the server that sent
them, so the cache-poisoning lesson can be shown; True drops them.
timeout bounds a whole resolution (every query and referral: a "timeout"
error past it), query_timeout each query, retried retries times. The cache
keeps at most cache_size entries (the least recently used goes first) and
no entry longer than max_ttl seconds (a week, as BIND's max-cache-ttl;
negative answers at most three hours), whatever TTL a server sent.
mode is how resolve() resolves unless told otherwise, and how a server
given this resolver (dns.serve(..., resolver=r)) resolves for its clients:
"iterative" asks every server itself, "recursive" asks the root with RD
set and lets a recursive chain do the work. Query ids are random (from
the network's seed in the lab); randomize_ports=True sends each query from
a fresh random UDP port, as every resolver has since the 2008 Kaminsky
attack; False sends every query from one port chosen once (source_port),
as before: an off-path attacker who learns it must then guess only the
16-bit id (see scripts/lab_kaminsky.star).

    r = dns.resolver(roots=["127.0.0.1:%d" % port])
    print(r.resolve("gaia.cs.umass.edu", trace=True))
    print(r.stats.queries, r.stats.cache_hits)`

var resolverMethods = lang.NewMethods("dns.resolver", `dns.resolver

A resolver from dns.resolver(). Methods resolve, flush, reset_stats;
attributes stats (queries, relayed, cache_hits, rejected, resolved), cache
(the cached records, TTLs counting down; a negative answer as its SOA), roots, port, bailiwick, mode,
randomize_ports, source_port (the one port queries leave from when
randomize_ports=False, else None).`,
	lang.Method("dns.resolver.resolve", `resolve(name, type="A", mode=None, trace=False) -> dns.message

Resolves name. mode (by default the resolver's own, "iterative" unless
dns.resolver(mode=) said otherwise) = "iterative": the resolver asks the
root, is referred to the TLD server, then to the authoritative server, and
asks each itself, using glue from the referrals or resolving a name
server's name when there is none, and following CNAME chains.
mode="recursive": it asks the root with RD set; a server that recurses
(RA) asks the next one down itself, from its own address, and reports the
queries it sent (an EDNS option for local use, code 65430), which count in
stats.relayed and show in the trace under its answer; a server that only
refers (RA clear) has its referral followed by the resolver, and the trace
says so. trace=True prints every step: who was asked and what came back. The reply
lists the CNAME chain and the records; NXDOMAIN and NODATA are replies too.
Loops of referrals or CNAMEs fail with kind "protocol".`, resolverResolve),
	lang.Method("dns.resolver.flush", `flush()

Empties the cache.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		r, _ := lang.Receiver[*ResolverValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		if r.r.Cache != nil {
			r.r.Cache.Flush()
		}
		return starlark.None, nil
	}),
	lang.Method("dns.resolver.reset_stats", `reset_stats()

Sets every counter of stats back to 0.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		r, _ := lang.Receiver[*ResolverValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		r.r.ResetStats()
		return starlark.None, nil
	}),
)

func (r *ResolverValue) String() string {
	return fmt.Sprintf("<dns.resolver roots=%v port=%d>", r.r.Roots, r.r.Port)
}
func (r *ResolverValue) Type() string          { return "dns.resolver" }
func (r *ResolverValue) Freeze()               {}
func (r *ResolverValue) Truth() starlark.Bool  { return true }
func (r *ResolverValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: dns.resolver") }
func (r *ResolverValue) AttrNames() []string {
	return append(resolverMethods.Names(), "bailiwick", "cache", "mode", "port", "randomize_ports", "roots", "source_port", "stats")
}
func (r *ResolverValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "stats":
		return statsValue(r.r.Stats()), nil
	case "port":
		return starlark.MakeInt(r.r.Port), nil
	case "mode":
		return starlark.String(r.r.Mode.String()), nil
	case "randomize_ports":
		return starlark.Bool(r.r.Client.SourcePort == 0), nil
	case "source_port":
		if p := r.r.Client.SourcePort; p != 0 {
			return starlark.MakeInt(p), nil
		}
		return starlark.None, nil
	case "bailiwick":
		return starlark.Bool(r.r.Bailiwick), nil
	case "roots":
		l := make([]starlark.Value, len(r.r.Roots))
		for i, a := range r.r.Roots {
			l[i] = starlark.String(a)
		}
		return starlark.NewList(l), nil
	case "cache":
		var l []starlark.Value
		if r.r.Cache != nil {
			for _, e := range r.r.Cache.Entries() {
				if e.Negative {
					// A negative answer shows as the SOA that said so (one
					// made up when the server sent none), so len() counts it.
					soa := &md.SOA{Hdr: md.RR_Header{Name: e.Name, Rrtype: md.TypeSOA, Class: md.ClassINET, Ttl: e.TTL}}
					if len(e.Records) > 0 {
						if s, ok := e.Records[0].(*md.SOA); ok {
							soa = s
						}
					}
					l = append(l, &Record{soa})
					continue
				}
				for _, rr := range e.Records {
					l = append(l, &Record{rr})
				}
			}
		}
		return starlark.NewList(l), nil
	}
	return resolverMethods.Attr(r, name), nil
}

func newResolver(st stack.Stack, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var rootsV starlark.Value
	modeS := "iterative"
	randomPorts := true
	cache, bailiwick := true, true
	var portV starlark.Value = starlark.None
	var timeoutV, queryTimeoutV starlark.Value = starlark.MakeInt(10), starlark.MakeInt(2)
	retries := 2
	cacheSize, maxTTL := dns.DefaultMaxEntries, dns.DefaultMaxTTL
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "roots", &rootsV, "cache?", &cache, "bailiwick?", &bailiwick,
		"port?", &portV, "timeout?", &timeoutV, "query_timeout?", &queryTimeoutV, "retries?", &retries, "mode?", &modeS, "randomize_ports?", &randomPorts,
		"cache_size?", &cacheSize, "max_ttl?", &maxTTL); err != nil {
		return nil, err
	}
	if cacheSize < 1 || maxTTL < 0 {
		return nil, fmt.Errorf("%s: cache_size must be positive and max_ttl non-negative", b.Name())
	}
	mode, err := parseMode(b.Name(), modeS)
	if err != nil {
		return nil, err
	}
	port := -1
	if portV != starlark.None {
		p, err := starlark.AsInt32(portV)
		if err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("%s: for parameter port: got %s, want a port number", b.Name(), portV)
		}
		port = p
	}
	var roots []string
	if s, ok := rootsV.(starlark.String); ok {
		rootsV = starlark.NewList([]starlark.Value{s})
	}
	it, ok := rootsV.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf(`%s: for parameter roots: got %s, want a list of "host:port"`, b.Name(), rootsV.Type())
	}
	iter := it.Iterate()
	var x starlark.Value
	for iter.Next(&x) {
		def := port
		if def < 0 {
			def = 53
		}
		a, err := lang.AddrArg(b.Name(), "roots", x, def)
		if err != nil {
			iter.Done()
			return nil, err
		}
		roots = append(roots, a)
	}
	iter.Done()
	if len(roots) == 0 {
		return nil, fmt.Errorf("%s: for parameter roots: no root server given", b.Name())
	}
	if port < 0 {
		port = dns.DefaultPort(roots)
	}
	timeout, err := lang.Duration(timeoutV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter timeout: %v", b.Name(), err)
	}
	queryTimeout, err := lang.Duration(queryTimeoutV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter query_timeout: %v", b.Name(), err)
	}
	if timeout > 0 && queryTimeout > timeout {
		queryTimeout = timeout
	}
	r := &dns.Resolver{Client: &dns.Client{Stack: st}, Roots: roots, Port: port, Bailiwick: bailiwick, Timeout: queryTimeout, Budget: timeout, Retries: retries, Mode: mode}
	if cache {
		r.Cache = dns.NewCache(st)
		r.Cache.MaxEntries = cacheSize
		r.Cache.MaxTTL = uint32(min(maxTTL, math.MaxUint32))
	}
	if !randomPorts {
		r.Client.SourcePort = 1024 + int(st.Rand()%(65536-1024))
	}
	return &ResolverValue{r: r}, nil
}

func resolverResolve(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	rv, err := lang.Receiver[*ResolverValue](b)
	if err != nil {
		return nil, err
	}
	var name, typ string = "", "A"
	var modeV starlark.Value = starlark.None
	trace := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "type?", &typ, "mode?", &modeV, "trace?", &trace); err != nil {
		return nil, err
	}
	qtype, err := dns.ParseType(typ)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter type: %v", b.Name(), err)
	}
	m := rv.r.Mode
	if modeV != starlark.None {
		s, ok := starlark.AsString(modeV)
		if !ok {
			return nil, fmt.Errorf(`%s: for parameter mode: got %s, want "iterative" or "recursive"`, b.Name(), modeV.Type())
		}
		if m, err = parseMode(b.Name(), s); err != nil {
			return nil, err
		}
	}
	if _, ok := md.IsDomainName(name); !ok || name == "" {
		return nil, fmt.Errorf("%s: for parameter name: invalid domain name %q", b.Name(), name)
	}
	in := lang.InterpOf(th)
	var tr func(string)
	if trace {
		in.Output().Println(fmt.Sprintf("resolving %s %s (%s)", md.Fqdn(name), dns.TypeName(qtype), m))
		tr = func(s string) { in.Output().Println(s) }
	}
	ctx := lang.Context(th)
	var res *dns.Result
	lang.Unlocked(th, func() { res, err = rv.r.Resolve(ctx, name, qtype, m, tr) })
	if err != nil {
		return nil, err
	}
	res.Msg.Id = uint16(in.Rand.UintN(1 << 16))
	return &Message{msg: res.Msg, fromCache: res.FromCache, queries: res.Queries, resolved: true}, nil
}

func parseMode(fn, mode string) (dns.Mode, error) {
	switch strings.ToLower(mode) {
	case "iterative", "iterated":
		return dns.Iterative, nil
	case "recursive":
		return dns.Recursive, nil
	}
	return 0, fmt.Errorf(`%s: for parameter mode: got %q, want "iterative" or "recursive"`, fn, mode)
}

const zoneDoc = `zone(origin, records=[], text=None) -> dns.zone

The records a server is authoritative for, under origin. records are
(name, type, value, ttl) tuples (ttl optional, default 3600; the course's
(name, value, type, ttl) order works too) or zone-file lines; text is a
whole zone file. Names without a final dot are relative to origin; "@" is
origin itself. NS records below the origin delegate that part of the zone
(a zone cut); address records for the name servers there are the glue.

    z = dns.zone("umass.edu", records=[
        ("umass.edu", "NS", "dns.umass.edu"),
        ("dns.umass.edu", "A", "127.0.0.3"),
        ("gaia.cs.umass.edu", "A", "128.119.245.12", 600),
        ("umass.edu", "MX", "10 mail.umass.edu"),
    ])`

func zoneFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var origin string
	var records starlark.Value = starlark.None
	var text starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "origin", &origin, "records?", &records, "text?", &text); err != nil {
		return nil, err
	}
	if _, ok := md.IsDomainName(origin); !ok || origin == "" {
		return nil, fmt.Errorf("%s: for parameter origin: invalid domain name %q", b.Name(), origin)
	}
	origin = md.Fqdn(origin)
	rrs, err := recordsArg(b.Name(), origin, records)
	if err != nil {
		return nil, err
	}
	if text != starlark.None {
		s, ok := starlark.AsString(text)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter text: got %s, want str", b.Name(), text.Type())
		}
		more, err := dns.ParseZone(origin, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		rrs = append(rrs, more...)
	}
	z, err := dns.NewZone(origin, rrs)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return &ZoneValue{z}, nil
}

const replyDoc = `reply(query, answer=[], authority=[], additional=[], rcode="NOERROR", aa=True) -> dns.message

A reply to query for a server handler to return: the same id and
question, the given sections (records as (name, type, value, ttl) tuples,
zone-file lines or dns.record values) and rcode. query may also be a
(name, type) question, for a reply to a query never received (id 0): what
an attacker forges. A message's wire attribute is its bytes, as sent.

    def handler(q):
        return dns.reply(q, answer=[(q.name, "A", "10.0.0.1", 30)])`

func replyFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var qv starlark.Value
	var answer, authority, additional starlark.Value = starlark.None, starlark.None, starlark.None
	rcode := "NOERROR"
	aa := true
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "query", &qv, "answer?", &answer, "authority?", &authority,
		"additional?", &additional, "rcode?", &rcode, "aa?", &aa); err != nil {
		return nil, err
	}
	rc, err := dns.ParseRcode(rcode)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter rcode: %v", b.Name(), err)
	}
	var qm *md.Msg
	switch q := qv.(type) {
	case *Message:
		qm = q.msg
	case starlark.Tuple:
		if q.Len() != 2 {
			return nil, fmt.Errorf("%s: for parameter query: want a dns.message or a (name, type) tuple", b.Name())
		}
		name, ok1 := starlark.AsString(q[0])
		typ, ok2 := starlark.AsString(q[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: for parameter query: want a dns.message or a (name, type) tuple", b.Name())
		}
		qtype, err := dns.ParseType(typ)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter query: %v", b.Name(), err)
		}
		if _, ok := md.IsDomainName(name); !ok || name == "" {
			return nil, fmt.Errorf("%s: for parameter query: invalid domain name %q", b.Name(), name)
		}
		qm = new(md.Msg)
		qm.SetQuestion(md.Fqdn(name), qtype)
		qm.Id = 0
	default:
		return nil, fmt.Errorf("%s: for parameter query: got %s, want a dns.message or a (name, type) tuple", b.Name(), qv.Type())
	}
	m := new(md.Msg)
	m.SetReply(qm)
	m.Rcode, m.Authoritative = rc, aa
	if m.Answer, err = recordsArg(b.Name(), ".", answer); err != nil {
		return nil, err
	}
	if m.Ns, err = recordsArg(b.Name(), ".", authority); err != nil {
		return nil, err
	}
	if m.Extra, err = recordsArg(b.Name(), ".", additional); err != nil {
		return nil, err
	}
	return &Message{msg: m}, nil
}

const recordFnDoc = `record(name, type, value, ttl=3600) -> dns.record

One resource record (the type of every record in a dns.message); name and
value are absolute names.

    r = dns.record("www.example.com", "A", "10.0.0.1", 60)
    print(r.name, r.type, r.value, r.ttl)

` + recordAttrsDoc

func recordFn(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, typ, value string
	ttl := dns.DefaultTTL
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "type", &typ, "value", &value, "ttl?", &ttl); err != nil {
		return nil, err
	}
	if ttl < 0 {
		return nil, fmt.Errorf("%s: for parameter ttl: must not be negative", b.Name())
	}
	rr, err := dns.MakeRecord(".", name, typ, value, uint32(ttl))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return &Record{rr}, nil
}

// ServerValue is a dns.server.
type ServerValue struct {
	s       *dns.Server
	untrack func()
}

var serverMethods = lang.NewMethods("dns.server", `dns.server

A name server running in the background, from dns.serve(). Attributes:
address ("host:port"), host, port, queries (answered so far), log (one line
per query: client, transport, question → rcode, flags and section sizes).`,
	lang.Method("dns.server.stop", `stop()

Stops serving and closes the UDP and TCP sockets.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		s, _ := lang.Receiver[*ServerValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, s.s.Stop)
		s.untrack()
		return starlark.None, nil
	}),
)

func (s *ServerValue) String() string        { return fmt.Sprintf("<dns.server %s>", s.s.Addr()) }
func (s *ServerValue) Type() string          { return "dns.server" }
func (s *ServerValue) Freeze()               {}
func (s *ServerValue) Truth() starlark.Bool  { return true }
func (s *ServerValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: dns.server") }
func (s *ServerValue) Close() error          { s.s.Stop(); return nil }
func (s *ServerValue) AttrNames() []string {
	return append(serverMethods.Names(), "address", "host", "log", "port", "queries")
}
func (s *ServerValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "address":
		return starlark.String(s.s.Addr()), nil
	case "host":
		h, _, _ := net.SplitHostPort(s.s.Addr())
		return starlark.String(h), nil
	case "port":
		return starlark.MakeInt(s.s.Port()), nil
	case "queries":
		return starlark.MakeInt64(s.s.Queries()), nil
	case "log":
		lines := s.s.Log()
		l := make([]starlark.Value, len(lines))
		for i, x := range lines {
			l[i] = starlark.String(x)
		}
		return starlark.NewList(l), nil
	}
	return serverMethods.Attr(s, name), nil
}

const serveDoc = `serve(addr, zones=[], handler=None, resolver=None, recursive=False) -> dns.server

Starts a name server on addr ("host:port" or (host, port); port 0 picks a
port free for both UDP and TCP) answering over UDP and TCP:
- from zones (dns.zone values): authoritative answers (AA set),
  delegations (NS in authority, glue in additional), NXDOMAIN for names
  that do not exist and NODATA (NOERROR, no answer, SOA in authority) for
  a type a name lacks;
- handler(query), if given, first: it returns dns.reply(query, …) to
  answer itself (load balancing, CDN redirection by query.client) or None
  to fall through to the zones;
- resolver (a dns.resolver), if given, for every other name: the server is
  then a local recursive name server with the resolver's cache (and its
  mode: a resolver made with mode="recursive" hands each query to the
  root);
- recursive=True: a query with RD set that the zones only refer
  elsewhere (a root or TLD server's referral) is asked of the referred
  server by this server itself, with RD set, from its own address and on
  its own port, and the answer is relayed with RA set: the servers of the
  course's recursive chain. The log shows each query it sent on.
Answers too big for a UDP datagram (512 bytes, or the client's EDNS size)
are truncated with TC set, so the client asks again over TCP.

    root = dns.serve("127.0.0.1:0", zones=[dns.zone(".", records=[
        ("edu", "NS", "a.edu-servers.net"),
        ("a.edu-servers.net", "A", "127.0.0.2")])])
    print(root.port)`

func serve(st stack.Stack, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var addrV starlark.Value
	var zonesV starlark.Value = starlark.None
	var handlerV starlark.Value = starlark.None
	var resolverV starlark.Value = starlark.None
	recursive := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addrV, "zones?", &zonesV, "handler?", &handlerV, "resolver?", &resolverV, "recursive?", &recursive); err != nil {
		return nil, err
	}
	addr, err := lang.AddrArg(b.Name(), "addr", addrV, 53)
	if err != nil {
		return nil, err
	}
	in := lang.InterpOf(th)
	s := &dns.Server{Stack: st, Recursive: recursive}
	if zv, ok := zonesV.(*ZoneValue); ok {
		zonesV = starlark.NewList([]starlark.Value{zv})
	}
	if zonesV != starlark.None {
		it, ok := zonesV.(starlark.Iterable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter zones: got %s, want a list of dns.zone", b.Name(), zonesV.Type())
		}
		iter := it.Iterate()
		var x starlark.Value
		for iter.Next(&x) {
			z, ok := x.(*ZoneValue)
			if !ok {
				iter.Done()
				return nil, fmt.Errorf("%s: for parameter zones: got %s, want dns.zone", b.Name(), x.Type())
			}
			s.Zones = append(s.Zones, z.z)
		}
		iter.Done()
	}
	if resolverV != starlark.None {
		rv, ok := resolverV.(*ResolverValue)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter resolver: got %s, want dns.resolver", b.Name(), resolverV.Type())
		}
		s.Resolver = rv.r
	}
	s.OnError = func(err error) {
		if in.Context().Err() == nil && !neterr.Closed(err) {
			in.Fprintf("dns.serve %s: %s\n", addr, lang.FormatError(err))
		}
	}
	if handlerV != starlark.None {
		handler, ok := handlerV.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter handler: got %s, want a function", b.Name(), handlerV.Type())
		}
		s.Handler = func(req *md.Msg, client net.Addr, proto string) (*md.Msg, error) {
			q := &Message{msg: req, client: addrTuple(client)}
			v, err := in.Call("dns handler "+handler.Name(), handler, starlark.Tuple{q}, nil)
			if err != nil {
				return nil, err
			}
			switch r := v.(type) {
			case starlark.NoneType:
				return nil, nil
			case *Message:
				return r.msg.Copy(), nil
			}
			return nil, fmt.Errorf("handler %s returned %s, want dns.reply(...) or None", handler.Name(), v.Type())
		}
	}
	ctx := in.Context()
	addr = lang.ServerAddr(th, st, addr)
	lang.Unlocked(th, func() { err = s.Start(ctx, addr) })
	if err != nil {
		return nil, lang.NetError(b.Name(), addr, err, 0)
	}
	if a, err := net.ResolveUDPAddr("udp", s.Addr()); err == nil {
		lang.Listening(th, st, b.Name(), a)
	}
	sv := &ServerValue{s: s}
	sv.untrack = in.Track(sv)
	return sv, nil
}

var _ = time.Second
