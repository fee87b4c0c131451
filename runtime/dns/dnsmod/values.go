package dnsmod

import (
	"fmt"
	"math"
	"net"
	"sort"
	"strings"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/dns"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Message is a dns.message: a query or a reply.
type Message struct {
	msg       *md.Msg
	footer    *dns.Footer
	client    starlark.Value // a handler's query: the client's (host, port)
	fromCache bool
	queries   int
	resolved  bool // from a resolver
}

var (
	_ starlark.HasAttrs = (*Message)(nil)
	_ starlark.HasAttrs = (*Record)(nil)
)

const messageDoc = `dns.message

A DNS query or reply, the fields the course draws. print(msg) prints it the
way dig does.

Attributes: id; flags qr (a reply), aa (authoritative), tc (truncated), rd
(recursion desired), ra (recursion available); opcode; rcode as a name
("NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED" …); question (list of
dns.question); answer, authority, additional (lists of dns.record); name and
type (of the first question). Replies from dns.query also have server, rtt
(seconds), size (bytes) and tcp; results of resolver.resolve have
from_cache and queries; a handler's query has client ((host, port)).`

var messageAttrs = []string{"aa", "additional", "answer", "authority", "client", "from_cache", "id", "name", "opcode", "qr", "queries", "question", "ra", "rcode", "rd", "rtt", "server", "size", "tc", "tcp", "type", "wire"}

func (m *Message) String() string        { return dns.Dig(m.msg, m.footer) }
func (m *Message) Type() string          { return "dns.message" }
func (m *Message) Freeze()               {}
func (m *Message) Truth() starlark.Bool  { return true }
func (m *Message) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: dns.message") }
func (m *Message) AttrNames() []string   { return messageAttrs }

func (m *Message) Attr(name string) (starlark.Value, error) {
	g := m.msg
	switch name {
	case "id":
		return starlark.MakeInt(int(g.Id)), nil
	case "wire":
		b, err := g.Pack()
		if err != nil {
			return nil, fmt.Errorf("dns.message.wire: %v", err)
		}
		return starlark.Bytes(b), nil
	case "qr":
		return starlark.Bool(g.Response), nil
	case "aa":
		return starlark.Bool(g.Authoritative), nil
	case "tc":
		return starlark.Bool(g.Truncated), nil
	case "rd":
		return starlark.Bool(g.RecursionDesired), nil
	case "ra":
		return starlark.Bool(g.RecursionAvailable), nil
	case "opcode":
		return starlark.String(md.OpcodeToString[g.Opcode]), nil
	case "rcode":
		return starlark.String(dns.RcodeName(g.Rcode)), nil
	case "question":
		l := make([]starlark.Value, len(g.Question))
		for i, q := range g.Question {
			l[i] = &Question{q}
		}
		return starlark.NewList(l), nil
	case "answer":
		return recordList(g.Answer), nil
	case "authority":
		return recordList(g.Ns), nil
	case "additional":
		return recordList(g.Extra), nil
	case "name":
		if len(g.Question) == 0 {
			return starlark.None, nil
		}
		return starlark.String(g.Question[0].Name), nil
	case "type":
		if len(g.Question) == 0 {
			return starlark.None, nil
		}
		return starlark.String(dns.TypeName(g.Question[0].Qtype)), nil
	case "client":
		if m.client == nil {
			return starlark.None, nil
		}
		return m.client, nil
	case "from_cache":
		if !m.resolved {
			return starlark.None, nil
		}
		return starlark.Bool(m.fromCache), nil
	case "queries":
		if !m.resolved {
			return starlark.None, nil
		}
		return starlark.MakeInt(m.queries), nil
	case "server", "rtt", "size", "tcp":
		if m.footer == nil {
			return starlark.None, nil
		}
		switch name {
		case "server":
			return starlark.String(m.footer.Server), nil
		case "rtt":
			return starlark.Float(m.footer.RTT.Seconds()), nil
		case "size":
			return starlark.MakeInt(m.footer.Size), nil
		}
		return starlark.Bool(m.footer.TCP), nil
	}
	return nil, nil
}

func recordList(rrs []md.RR) *starlark.List {
	l := make([]starlark.Value, 0, len(rrs))
	for _, rr := range rrs {
		if _, ok := rr.(*md.OPT); ok {
			continue
		}
		l = append(l, &Record{rr})
	}
	return starlark.NewList(l)
}

// Question is a dns.question.
type Question struct{ q md.Question }

func (q *Question) String() string {
	return fmt.Sprintf(";%s\t\t%s\t%s", q.q.Name, md.ClassToString[q.q.Qclass], dns.TypeName(q.q.Qtype))
}
func (q *Question) Type() string          { return "dns.question" }
func (q *Question) Freeze()               {}
func (q *Question) Truth() starlark.Bool  { return true }
func (q *Question) Hash() (uint32, error) { return starlark.String(q.String()).Hash() }
func (q *Question) AttrNames() []string   { return []string{"class", "name", "type"} }
func (q *Question) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(q.q.Name), nil
	case "type":
		return starlark.String(dns.TypeName(q.q.Qtype)), nil
	case "class":
		return starlark.String(md.ClassToString[q.q.Qclass]), nil
	}
	return nil, nil
}

// Record is a dns.record: a resource record.
type Record struct{ rr md.RR }

const recordAttrsDoc = `A record is the course's (name, value, type, ttl). Attributes: name,
type ("A", "MX" …), ttl (seconds), class, value (the address of A and AAAA,
the target name of NS, CNAME, PTR and MX, the text of TXT, the data of other
types), and per type: A/AAAA address; MX preference, exchange; NS ns; CNAME
target; PTR ptr; TXT texts; SOA mname, rname, serial, refresh, retry,
expire, minimum; SRV priority, weight, port, target. str(r) is its zone-file
line.`

func (r *Record) String() string        { return r.rr.String() }
func (r *Record) Type() string          { return "dns.record" }
func (r *Record) Freeze()               {}
func (r *Record) Truth() starlark.Bool  { return true }
func (r *Record) Hash() (uint32, error) { return starlark.String(r.rr.String()).Hash() }
func (r *Record) AttrNames() []string {
	names := []string{"class", "name", "ttl", "type", "value"}
	for n := range typeAttrs(r.rr) {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *Record) Attr(name string) (starlark.Value, error) {
	h := r.rr.Header()
	switch name {
	case "name":
		return starlark.String(h.Name), nil
	case "type":
		return starlark.String(dns.TypeName(h.Rrtype)), nil
	case "ttl":
		return starlark.MakeUint(uint(h.Ttl)), nil
	case "class":
		return starlark.String(md.ClassToString[h.Class]), nil
	case "value":
		return starlark.String(dns.Value(r.rr)), nil
	}
	return typeAttrs(r.rr)[name], nil
}

// typeAttrs are the attributes a record has for its type, besides the five
// every record has: one table for AttrNames and Attr.
func typeAttrs(rr md.RR) map[string]starlark.Value {
	s := func(v string) starlark.Value { return starlark.String(v) }
	n := func(v uint32) starlark.Value { return starlark.MakeUint64(uint64(v)) }
	switch x := rr.(type) {
	case *md.A:
		return map[string]starlark.Value{"address": s(x.A.String())}
	case *md.AAAA:
		return map[string]starlark.Value{"address": s(x.AAAA.String())}
	case *md.MX:
		return map[string]starlark.Value{"preference": n(uint32(x.Preference)), "exchange": s(x.Mx)}
	case *md.NS:
		return map[string]starlark.Value{"ns": s(x.Ns)}
	case *md.CNAME:
		return map[string]starlark.Value{"target": s(x.Target)}
	case *md.PTR:
		return map[string]starlark.Value{"ptr": s(x.Ptr)}
	case *md.TXT:
		l := make([]starlark.Value, len(x.Txt))
		for i, t := range x.Txt {
			l[i] = starlark.String(t)
		}
		return map[string]starlark.Value{"texts": starlark.NewList(l)}
	case *md.SOA:
		return map[string]starlark.Value{"mname": s(x.Ns), "rname": s(x.Mbox), "serial": n(x.Serial),
			"refresh": n(x.Refresh), "retry": n(x.Retry), "expire": n(x.Expire), "minimum": n(x.Minttl)}
	case *md.SRV:
		return map[string]starlark.Value{"priority": n(uint32(x.Priority)), "weight": n(uint32(x.Weight)),
			"port": n(uint32(x.Port)), "target": s(x.Target)}
	}
	return nil
}

// recordArg converts what a script gives as a record: a dns.record, a
// zone-file line, or a tuple (name, type, value[, ttl]) — the course's
// order (name, value, type[, ttl]) is recognised too.
func recordArg(fn, origin string, v starlark.Value) (md.RR, error) {
	switch x := v.(type) {
	case *Record:
		return md.Copy(x.rr), nil
	case starlark.String:
		rr, err := dns.ParseRecord(origin, string(x))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		return rr, nil
	case starlark.Tuple, *starlark.List:
		seq := v.(starlark.Indexable)
		n := seq.Len()
		if n < 3 || n > 4 {
			return nil, fmt.Errorf("%s: record %s: want (name, type, value) or (name, type, value, ttl)", fn, v)
		}
		var parts [3]string
		for i := 0; i < 3; i++ {
			e := seq.Index(i)
			if str, ok := starlark.AsString(e); ok {
				parts[i] = str
			} else if _, ok := e.(starlark.Int); ok && i == 2 {
				parts[i] = e.String()
			} else {
				return nil, fmt.Errorf("%s: record %s: element %d: got %s, want str", fn, v, i, e.Type())
			}
		}
		name, typ, value := parts[0], parts[1], parts[2]
		if _, err := dns.ParseType(typ); err != nil {
			if _, err2 := dns.ParseType(value); err2 == nil {
				typ, value = value, typ // the course's (name, value, type, ttl)
			} else {
				return nil, fmt.Errorf("%s: record %s: %v", fn, v, err)
			}
		}
		ttl := uint32(dns.DefaultTTL)
		if n == 4 {
			// A TTL is 32 bits on the wire (RFC 2181 says senders keep
			// below 2**31, but 2**32-1 is what a misbehaving server sends).
			var d uint64
			i, ok := seq.Index(3).(starlark.Int)
			if ok {
				d, ok = i.Uint64()
			}
			if !ok || d > math.MaxUint32 {
				return nil, fmt.Errorf("%s: record %s: ttl must be an int from 0 to 4294967295", fn, v)
			}
			ttl = uint32(d)
		}
		rr, err := dns.MakeRecord(origin, name, typ, value, ttl)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		return rr, nil
	}
	return nil, fmt.Errorf("%s: record: got %s, want a (name, type, value, ttl) tuple, a zone-file line or a dns.record", fn, v.Type())
}

func recordsArg(fn, origin string, v starlark.Value) ([]md.RR, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	if s, ok := v.(starlark.String); ok {
		return dns.ParseZone(origin, string(s))
	}
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s: got %s, want a list of records", fn, v.Type())
	}
	iter := it.Iterate()
	defer iter.Done()
	var out []md.RR
	var x starlark.Value
	for iter.Next(&x) {
		rr, err := recordArg(fn, origin, x)
		if err != nil {
			return nil, err
		}
		out = append(out, rr)
	}
	return out, nil
}

// ZoneValue is a dns.zone.
type ZoneValue struct{ z *dns.Zone }

func (z *ZoneValue) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n", z.z.Origin)
	for _, rr := range z.z.Records {
		b.WriteString(rr.String() + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
func (z *ZoneValue) Type() string          { return "dns.zone" }
func (z *ZoneValue) Freeze()               {}
func (z *ZoneValue) Truth() starlark.Bool  { return true }
func (z *ZoneValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: dns.zone") }
func (z *ZoneValue) AttrNames() []string   { return []string{"origin", "records", "soa"} }
func (z *ZoneValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "origin":
		return starlark.String(z.z.Origin), nil
	case "records":
		return recordList(z.z.Records), nil
	case "soa":
		return &Record{z.z.SOA()}, nil
	}
	return nil, nil
}

// addrTuple is a client's address as (host, port), None for none.
func addrTuple(a net.Addr) starlark.Value {
	if a == nil {
		return starlark.None
	}
	return lang.AddrValue(a)
}

func statsValue(s dns.Stats) starlark.Value {
	return starlarkstruct.FromStringDict(starlark.String("dns.stats"), starlark.StringDict{
		"queries":    starlark.MakeInt(s.Queries),
		"relayed":    starlark.MakeInt(s.Relayed),
		"cache_hits": starlark.MakeInt(s.CacheHits),
		"rejected":   starlark.MakeInt(s.Rejected),
		"resolved":   starlark.MakeInt(s.Resolved),
	})
}

var _ = lang.Errorf
