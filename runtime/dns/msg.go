// Package dns is netplay's DNS engine: messages printed the way dig
// prints them, a client with retries and exponential backoff, an iterative
// and recursive resolver with a TTL cache and a bailiwick check, and an
// authoritative server over github.com/miekg/dns. It is plain Go over a
// stack.Stack, returning *neterr.Error; other engines use it directly (the
// SMTP relay's MX lookups: Resolver.LookupMX). The Starlark module is
// runtime/dns/dnsmod.
package dns

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	md "github.com/miekg/dns"
)

// TypeName is a record type's name: "A", "MX", "TYPE65".
func TypeName(t uint16) string {
	if t == 0 {
		return "ANY"
	}
	if s, ok := md.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// RcodeName is a reply code's name: "NOERROR", "NXDOMAIN".
func RcodeName(rc int) string {
	if s, ok := md.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

// ParseType turns "A", "mx", "TYPE65" into a type number.
func ParseType(s string) (uint16, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if t, ok := md.StringToType[u]; ok {
		return t, nil
	}
	if n, ok := strings.CutPrefix(u, "TYPE"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(v), nil
		}
	}
	return 0, fmt.Errorf("unknown record type %q (want A, AAAA, NS, CNAME, MX, PTR, TXT, SOA …)", s)
}

// ParseRcode turns "NXDOMAIN" into its number.
func ParseRcode(s string) (int, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if rc, ok := md.StringToRcode[u]; ok {
		return rc, nil
	}
	return 0, fmt.Errorf("unknown rcode %q (want NOERROR, NXDOMAIN, SERVFAIL, REFUSED …)", s)
}

// Value is a record's value as the course writes it: the address of an A
// record, the target name of NS, CNAME, PTR and MX, the text of TXT, the
// whole data of other types.
func Value(rr md.RR) string {
	switch r := rr.(type) {
	case *md.A:
		return r.A.String()
	case *md.AAAA:
		return r.AAAA.String()
	case *md.NS:
		return r.Ns
	case *md.CNAME:
		return r.Target
	case *md.PTR:
		return r.Ptr
	case *md.MX:
		return r.Mx
	case *md.TXT:
		return strings.Join(r.Txt, "")
	}
	s := rr.String()
	h := rr.Header().String()
	return strings.TrimSpace(strings.TrimPrefix(s, h))
}

// Footer is what dig prints after the sections of a reply it received.
type Footer struct {
	RTT    time.Duration
	Server string // host:port
	When   time.Time
	Size   int
	TCP    bool
}

// Dig prints m the way dig does.
func Dig(m *md.Msg, f *Footer) string {
	var b strings.Builder
	fmt.Fprintf(&b, ";; ->>HEADER<<- opcode: %s, status: %s, id: %d\n", md.OpcodeToString[m.Opcode], RcodeName(m.Rcode), m.Id)
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"}, {m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	extra := 0
	var opt *md.OPT
	for _, rr := range m.Extra {
		if o, ok := rr.(*md.OPT); ok {
			opt = o
			continue
		}
		extra++
	}
	if opt != nil {
		extra++ // dig counts the OPT pseudo-record
	}
	fmt.Fprintf(&b, ";; flags: %s; QUERY: %d, ANSWER: %d, AUTHORITY: %d, ADDITIONAL: %d\n",
		strings.Join(flags, " "), len(m.Question), len(m.Answer), len(m.Ns), extra)
	if opt != nil {
		fmt.Fprintf(&b, "\n;; OPT PSEUDOSECTION:\n; EDNS: version: %d, flags:; udp: %d\n", opt.Version(), opt.UDPSize())
	}
	if len(m.Question) > 0 {
		b.WriteString("\n;; QUESTION SECTION:\n")
		for _, q := range m.Question {
			fmt.Fprintf(&b, ";%s\t\t%s\t%s\n", q.Name, md.ClassToString[q.Qclass], TypeName(q.Qtype))
		}
	}
	section := func(title string, rrs []md.RR) {
		n := 0
		for _, rr := range rrs {
			if _, ok := rr.(*md.OPT); !ok {
				n++
			}
		}
		if n == 0 {
			return
		}
		fmt.Fprintf(&b, "\n;; %s SECTION:\n", title)
		for _, rr := range rrs {
			if _, ok := rr.(*md.OPT); ok {
				continue
			}
			b.WriteString(rr.String())
			b.WriteString("\n")
		}
	}
	section("ANSWER", m.Answer)
	section("AUTHORITY", m.Ns)
	section("ADDITIONAL", m.Extra)
	if f != nil {
		b.WriteString("\n")
		fmt.Fprintf(&b, ";; Query time: %d msec\n", f.RTT.Milliseconds())
		if f.Server != "" {
			host, port, err := net.SplitHostPort(f.Server)
			if err != nil {
				host, port = f.Server, "53"
			}
			proto := "UDP"
			if f.TCP {
				proto = "TCP"
			}
			fmt.Fprintf(&b, ";; SERVER: %s#%s(%s) (%s)\n", host, port, host, proto)
		}
		if !f.When.IsZero() {
			fmt.Fprintf(&b, ";; WHEN: %s\n", f.When.Format("Mon Jan 02 15:04:05 MST 2006"))
		}
		if f.Size > 0 {
			fmt.Fprintf(&b, ";; MSG SIZE  rcvd: %d\n", f.Size)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
