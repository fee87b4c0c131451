package dns

import (
	"fmt"
	"strings"

	md "github.com/miekg/dns"
)

// DefaultTTL is the TTL of records given without one.
const DefaultTTL = 3600

// A Zone is the records one authoritative server holds for a domain
// (origin) and every name under it, except where part of it is delegated
// by NS records to another server (a zone cut).
type Zone struct {
	Origin  string  // fully qualified, lower case
	Records []md.RR // in the order given
	names   map[string][]md.RR
	cuts    map[string]bool // delegated names below the origin
	soa     *md.SOA
}

// ParseZone parses zone-file text relative to origin ($ORIGIN, $TTL and
// relative names work as in a BIND zone file).
func ParseZone(origin, text string) ([]md.RR, error) {
	origin = md.Fqdn(origin)
	zp := md.NewZoneParser(strings.NewReader(text), origin, "")
	zp.SetDefaultTTL(DefaultTTL)
	var rrs []md.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("zone %s: %v", origin, err)
	}
	return rrs, nil
}

// ParseRecord parses one zone-file line ("www 300 IN A 10.0.0.1", class
// and TTL optional) relative to origin.
func ParseRecord(origin, line string) (md.RR, error) {
	rrs, err := ParseZone(origin, line)
	if err != nil {
		return nil, err
	}
	if len(rrs) != 1 {
		return nil, fmt.Errorf("record %q: want one record, got %d", line, len(rrs))
	}
	return rrs[0], nil
}

// MakeRecord builds a record from the course's (name, type, value, ttl)
// form. A relative name or target is relative to origin; "@" is the origin.
func MakeRecord(origin, name, typ, value string, ttl uint32) (md.RR, error) {
	typ = strings.ToUpper(strings.TrimSpace(typ))
	if _, ok := md.StringToType[typ]; !ok {
		return nil, fmt.Errorf("unknown record type %q", typ)
	}
	if typ == "TXT" && !strings.HasPrefix(strings.TrimSpace(value), `"`) {
		value = `"` + strings.ReplaceAll(strings.ReplaceAll(value, `\`, `\\`), `"`, `\"`) + `"`
	}
	if strings.ContainsAny(name, " \t\n;()") || name == "" {
		return nil, fmt.Errorf("invalid record name %q", name)
	}
	if strings.ContainsAny(value, "\n") {
		return nil, fmt.Errorf("invalid record value %q", value)
	}
	name, value = absoluteOwner(origin, name), absoluteValue(typ, value)
	rr, err := ParseRecord(origin, fmt.Sprintf("%s %d IN %s %s", name, ttl, typ, value))
	if err != nil {
		return nil, fmt.Errorf("record (%s, %s, %s, %d): %v", name, typ, value, ttl, err)
	}
	return rr, nil
}

// absoluteOwner reads a tuple's name the way the course writes names
// ("gaia.cs.umass.edu", no final dot): absolute when that is inside the
// zone, else relative to the origin ("www" in umass.edu).
func absoluteOwner(origin, name string) string {
	if name == "@" || strings.HasSuffix(name, ".") {
		return name
	}
	if md.IsSubDomain(md.Fqdn(origin), md.Fqdn(name)) {
		return md.Fqdn(name)
	}
	return name
}

// absoluteValue makes the domain names in a tuple's value absolute when
// they have a dot ("dns.umass.edu", "10 mail.umass.edu"); a single label
// ("mail") stays relative to the origin.
func absoluteValue(typ, value string) string {
	f := strings.Fields(value)
	abs := func(i int) {
		if i < len(f) && !strings.HasSuffix(f[i], ".") && strings.Contains(f[i], ".") {
			f[i] += "."
		}
	}
	switch typ {
	case "NS", "CNAME", "PTR", "DNAME":
		abs(0)
	case "MX":
		abs(1)
	case "SRV":
		abs(3)
	case "SOA":
		abs(0)
		abs(1)
	default:
		return value
	}
	return strings.Join(f, " ")
}

// NewZone checks that every record belongs under origin and indexes them.
// A zone without an SOA record gets one, so negative answers can carry it.
func NewZone(origin string, records []md.RR) (*Zone, error) {
	origin = md.CanonicalName(origin)
	z := &Zone{Origin: origin, names: map[string][]md.RR{}, cuts: map[string]bool{}}
	for _, rr := range records {
		h := rr.Header()
		h.Name = md.CanonicalName(h.Name)
		if !md.IsSubDomain(origin, h.Name) {
			return nil, fmt.Errorf("zone %s: record %s is not in the zone", origin, h.Name)
		}
		if h.Class == 0 {
			h.Class = md.ClassINET
		}
		if soa, ok := rr.(*md.SOA); ok {
			if h.Name != origin {
				return nil, fmt.Errorf("zone %s: SOA record for %s: an SOA belongs at the origin", origin, h.Name)
			}
			z.soa = soa
		}
		if rr.Header().Rrtype == md.TypeNS && h.Name != origin {
			z.cuts[h.Name] = true
		}
		z.Records = append(z.Records, rr)
		z.names[h.Name] = append(z.names[h.Name], rr)
	}
	if z.soa == nil {
		mname := "ns." + origin
		for _, rr := range z.names[origin] {
			if ns, ok := rr.(*md.NS); ok {
				mname = ns.Ns
				break
			}
		}
		if origin == "." {
			mname = "a.root-servers.net."
		}
		z.soa = &md.SOA{Hdr: md.RR_Header{Name: origin, Rrtype: md.TypeSOA, Class: md.ClassINET, Ttl: DefaultTTL},
			Ns: mname, Mbox: "hostmaster." + strings.TrimPrefix(origin, "."), Serial: 1,
			Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 300}
		if origin == "." {
			z.soa.Mbox = "hostmaster."
		}
		z.names[origin] = append([]md.RR{z.soa}, z.names[origin]...)
	}
	return z, nil
}

// SOA is the zone's SOA record (given or made up).
func (z *Zone) SOA() *md.SOA { return z.soa }

// Answer is what a zone says about a question.
type Answer struct {
	Rcode         int
	Authoritative bool
	Answer        []md.RR
	Authority     []md.RR
	Additional    []md.RR
}

// Lookup answers qname/qtype from the zone: data (authoritative), a
// referral to a delegated zone (NS in authority, glue in additional, not
// authoritative), NODATA (NOERROR with the SOA in authority) or NXDOMAIN.
// CNAMEs are followed inside the zone.
func (z *Zone) Lookup(qname string, qtype uint16) Answer {
	a := Answer{Rcode: md.RcodeSuccess, Authoritative: true}
	name := md.CanonicalName(qname)
	for hops := 0; hops < 8; hops++ {
		if cut := z.cutAbove(name, qtype); cut != "" {
			if len(a.Answer) > 0 {
				return a // a CNAME into a delegated zone: the resolver follows it
			}
			ns := z.rrset(cut, md.TypeNS)
			return Answer{Rcode: md.RcodeSuccess, Authority: ns, Additional: z.glue(ns)}
		}
		rrs := z.names[name]
		if len(rrs) == 0 {
			rrs = z.wildcard(name)
		}
		if len(rrs) == 0 {
			if z.hasBelow(name) { // an empty non-terminal: the name exists
				a.Authority = []md.RR{z.negativeSOA()}
				return a
			}
			a.Rcode = md.RcodeNameError
			a.Authority = []md.RR{z.negativeSOA()}
			return a
		}
		var match []md.RR
		var cname *md.CNAME
		for _, rr := range rrs {
			t := rr.Header().Rrtype
			if t == qtype || qtype == md.TypeANY {
				match = append(match, withName(rr, name))
			}
			if c, ok := rr.(*md.CNAME); ok {
				cname = c
			}
		}
		if len(match) > 0 {
			a.Answer = append(a.Answer, match...)
			a.Additional = append(a.Additional, z.targets(match)...)
			if qtype == md.TypeNS && name == z.Origin {
				a.Additional = z.glue(match)
			}
			return a
		}
		if cname != nil && qtype != md.TypeCNAME {
			a.Answer = append(a.Answer, withName(cname, name))
			target := md.CanonicalName(cname.Target)
			if !md.IsSubDomain(z.Origin, target) {
				return a
			}
			name = target
			continue
		}
		a.Authority = []md.RR{z.negativeSOA()}
		return a
	}
	return a
}

// withName returns rr, or a copy owned by name when rr came from a wildcard.
func withName(rr md.RR, name string) md.RR {
	if rr.Header().Name == name {
		return rr
	}
	c := md.Copy(rr)
	c.Header().Name = name
	return c
}

// cutAbove returns the delegation point at or above name (below the
// origin), if any. A DS question at the cut itself is the parent's.
func (z *Zone) cutAbove(name string, qtype uint16) string {
	if len(z.cuts) == 0 {
		return ""
	}
	labels := md.SplitDomainName(name)
	olabels := md.CountLabel(z.Origin)
	// from just below the origin down to name itself
	for i := len(labels) - olabels - 1; i >= 0; i-- {
		c := md.Fqdn(strings.Join(labels[i:], "."))
		if z.cuts[c] && !(c == name && qtype == md.TypeDS) {
			return c
		}
	}
	return ""
}

func (z *Zone) hasBelow(name string) bool {
	suffix := "." + name
	if name == "." {
		suffix = "."
	}
	for n := range z.names {
		if n != name && strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// wildcard finds "*.parent" records for a name that does not exist.
func (z *Zone) wildcard(name string) []md.RR {
	for p := name; p != z.Origin && p != "."; {
		i := strings.IndexByte(p, '.')
		if i < 0 || i == len(p)-1 {
			p = "."
		} else {
			p = p[i+1:]
		}
		if rrs := z.names["*."+p]; len(rrs) > 0 {
			return rrs
		}
		if len(z.names[p]) > 0 {
			return nil // the closest encloser exists without a wildcard
		}
		if p == z.Origin {
			break
		}
	}
	return nil
}

func (z *Zone) rrset(name string, t uint16) []md.RR {
	var out []md.RR
	for _, rr := range z.names[name] {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}

// glue returns the A and AAAA records the zone holds for the targets of NS records.
func (z *Zone) glue(ns []md.RR) []md.RR {
	var out []md.RR
	for _, rr := range ns {
		if n, ok := rr.(*md.NS); ok {
			t := md.CanonicalName(n.Ns)
			out = append(out, z.rrset(t, md.TypeA)...)
			out = append(out, z.rrset(t, md.TypeAAAA)...)
		}
	}
	return out
}

// targets returns helpful addresses for MX and NS answers (the
// additional section dig shows).
func (z *Zone) targets(rrs []md.RR) []md.RR {
	var out []md.RR
	for _, rr := range rrs {
		var t string
		switch r := rr.(type) {
		case *md.MX:
			t = r.Mx
		case *md.NS:
			t = r.Ns
		case *md.SRV:
			t = r.Target
		default:
			continue
		}
		t = md.CanonicalName(t)
		if z.cutAbove(t, md.TypeA) != "" {
			continue
		}
		out = append(out, z.rrset(t, md.TypeA)...)
		out = append(out, z.rrset(t, md.TypeAAAA)...)
	}
	return out
}

// negativeSOA is the SOA put in the authority section of NXDOMAIN and
// NODATA answers; its TTL is how long resolvers cache the negative answer
// (RFC 2308: the smaller of the SOA's TTL and its minimum field).
func (z *Zone) negativeSOA() md.RR {
	soa := md.Copy(z.soa).(*md.SOA)
	if soa.Minttl < soa.Hdr.Ttl {
		soa.Hdr.Ttl = soa.Minttl
	}
	return soa
}
