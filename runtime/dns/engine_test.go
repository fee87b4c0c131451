package dns

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
)

func mustZone(t testing.TB, origin string, lines ...string) *Zone {
	t.Helper()
	rrs, err := ParseZone(origin, strings.Join(lines, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	z, err := NewZone(origin, rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func umassZone(t testing.TB) *Zone {
	return mustZone(t, "umass.edu.",
		"@ IN NS dns",
		"dns IN A 127.0.0.3",
		"gaia.cs 600 IN A 128.119.245.12",
		"www IN CNAME gaia.cs",
		"loop1 IN CNAME loop2",
		"loop2 IN CNAME loop1",
		"@ IN MX 10 mail",
		"mail IN A 128.119.1.1",
		"*.wild IN A 10.9.9.9",
		"sub IN NS ns.sub",
		"ns.sub IN A 127.0.0.9",
		"a.b.c IN TXT hello",
	)
}

func TestZoneLookup(t *testing.T) {
	z := umassZone(t)
	tests := []struct {
		name       string
		qname      string
		qtype      uint16
		rcode      int
		aa         bool
		answer     []string // values
		authority  uint16   // type of the first authority record, 0 for none
		additional int
	}{
		{"A answer is authoritative", "gaia.cs.umass.edu.", md.TypeA, md.RcodeSuccess, true, []string{"128.119.245.12"}, 0, 0},
		{"names are case-insensitive", "GAIA.cs.UMass.edu", md.TypeA, md.RcodeSuccess, true, []string{"128.119.245.12"}, 0, 0},
		{"CNAME followed inside the zone", "www.umass.edu.", md.TypeA, md.RcodeSuccess, true, []string{"gaia.cs.umass.edu.", "128.119.245.12"}, 0, 0},
		{"CNAME asked for itself", "www.umass.edu.", md.TypeCNAME, md.RcodeSuccess, true, []string{"gaia.cs.umass.edu."}, 0, 0},
		{"MX with its address in additional", "umass.edu.", md.TypeMX, md.RcodeSuccess, true, []string{"mail.umass.edu."}, 0, 1},
		{"NXDOMAIN carries the SOA", "nope.umass.edu.", md.TypeA, md.RcodeNameError, true, nil, md.TypeSOA, 0},
		{"NODATA: name exists, type does not", "gaia.cs.umass.edu.", md.TypeMX, md.RcodeSuccess, true, nil, md.TypeSOA, 0},
		{"empty non-terminal is NODATA", "cs.umass.edu.", md.TypeA, md.RcodeSuccess, true, nil, md.TypeSOA, 0},
		{"empty non-terminal deeper", "b.c.umass.edu.", md.TypeA, md.RcodeSuccess, true, nil, md.TypeSOA, 0},
		{"wildcard", "x.wild.umass.edu.", md.TypeA, md.RcodeSuccess, true, []string{"10.9.9.9"}, 0, 0},
		{"delegation: NS in authority, glue in additional", "host.sub.umass.edu.", md.TypeA, md.RcodeSuccess, false, nil, md.TypeNS, 1},
		{"delegation point itself", "sub.umass.edu.", md.TypeA, md.RcodeSuccess, false, nil, md.TypeNS, 1},
		{"NS at the origin with glue", "umass.edu.", md.TypeNS, md.RcodeSuccess, true, []string{"dns.umass.edu."}, 0, 1},
		{"CNAME loop ends", "loop1.umass.edu.", md.TypeA, md.RcodeSuccess, true, nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := z.Lookup(tc.qname, tc.qtype)
			if a.Rcode != tc.rcode || a.Authoritative != tc.aa {
				t.Fatalf("rcode %s aa %v, want %s aa %v", RcodeName(a.Rcode), a.Authoritative, RcodeName(tc.rcode), tc.aa)
			}
			if tc.answer != nil {
				var got []string
				for _, rr := range a.Answer {
					got = append(got, Value(rr))
				}
				if strings.Join(got, ",") != strings.Join(tc.answer, ",") {
					t.Errorf("answer %v, want %v", got, tc.answer)
				}
			} else if tc.name != "CNAME loop ends" && len(a.Answer) != 0 {
				t.Errorf("answer %v, want none", a.Answer)
			}
			if tc.authority != 0 && (len(a.Authority) == 0 || a.Authority[0].Header().Rrtype != tc.authority) {
				t.Errorf("authority %v, want a %s first", a.Authority, TypeName(tc.authority))
			}
			if len(a.Additional) != tc.additional {
				t.Errorf("additional %v, want %d records", a.Additional, tc.additional)
			}
		})
	}
}

func TestMakeRecord(t *testing.T) {
	tests := []struct {
		name, origin, owner, typ, value string
		want                            string
	}{
		{"absolute name without a dot", "umass.edu.", "gaia.cs.umass.edu", "A", "1.2.3.4", "gaia.cs.umass.edu.\t60\tIN\tA\t1.2.3.4"},
		{"relative name", "umass.edu.", "www", "CNAME", "gaia.cs", "www.umass.edu.\t60\tIN\tCNAME\tgaia.cs."},
		{"relative target", "umass.edu.", "@", "MX", "10 mail", "umass.edu.\t60\tIN\tMX\t10 mail.umass.edu."},
		{"absolute target", "edu.", "umass.edu", "NS", "dns.umass.edu", "umass.edu.\t60\tIN\tNS\tdns.umass.edu."},
		{"TXT is quoted", ".", "t.example", "TXT", `say "hi"`, "t.example.\t60\tIN\tTXT\t\"say \\\"hi\\\"\""},
		{"root zone", ".", "edu", "NS", "a.edu-servers.net", "edu.\t60\tIN\tNS\ta.edu-servers.net."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rr, err := MakeRecord(tc.origin, tc.owner, tc.typ, tc.value, 60)
			if err != nil {
				t.Fatal(err)
			}
			if rr.String() != tc.want {
				t.Errorf("got %q, want %q", rr.String(), tc.want)
			}
		})
	}
	for _, bad := range [][3]string{{"x", "BOGUS", "1"}, {"x", "A", "not-an-ip"}, {"a b", "A", "1.2.3.4"}} {
		if _, err := MakeRecord(".", bad[0], bad[1], bad[2], 60); err == nil {
			t.Errorf("MakeRecord%v: no error", bad)
		}
	}
	if _, err := NewZone("umass.edu.", []md.RR{mustRR(t, "google.com. 60 IN A 1.1.1.1")}); err == nil {
		t.Error("a record outside the zone was accepted")
	}
}

func mustRR(t testing.TB, s string) md.RR {
	rr, err := md.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// hierarchy runs root, edu and umass.edu servers on one port at 127.0.0.1-3.
type hierarchy struct {
	root, edu, umass *Server
	port             int
}

func startServer(t testing.TB, addr string, zones ...*Zone) *Server {
	t.Helper()
	return startServerRec(t, addr, false, zones...)
}

func startServerRec(t testing.TB, addr string, recursive bool, zones ...*Zone) *Server {
	t.Helper()
	s := &Server{Stack: stack.OS, Zones: zones, Recursive: recursive}
	if err := s.Start(context.Background(), addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// newHierarchy starts the servers; the root and edu servers recurse for
// queries with RD set, as in the course's recursive figure.
func newHierarchy(t testing.TB) *hierarchy { return newHierarchyRec(t, true) }

func newHierarchyRec(t testing.TB, recursive bool) *hierarchy {
	t.Helper()
	h := &hierarchy{}
	h.root = startServerRec(t, "127.0.0.1:0", recursive, mustZone(t, ".",
		"edu. IN NS a.edu-servers.net.", "a.edu-servers.net. IN A 127.0.0.2",
		"com. IN NS a.gtld-servers.net.", "a.gtld-servers.net. IN A 127.0.0.2",
		"loop. IN NS ns.loop.", "ns.loop. IN A 127.0.0.2"))
	h.port = h.root.Port()
	p := ":" + itoa(h.port)
	h.edu = startServerRec(t, "127.0.0.2"+p, recursive,
		mustZone(t, "edu.", "umass.edu. IN NS dns.umass.edu.", "dns.umass.edu. IN A 127.0.0.3",
			"glueless.edu. IN NS ns.elsewhere.com."),
		mustZone(t, "com.", "elsewhere.com. IN NS ns.elsewhere.com.", "ns.elsewhere.com. IN A 127.0.0.3",
			"external.com. IN A 9.9.9.9"),
		// a broken zone that refers back up to the root: a referral loop
		mustZone(t, "loop.", "x.loop. IN NS ns.x.loop.", "ns.x.loop. IN A 127.0.0.1"))
	h.umass = startServer(t, "127.0.0.3"+p, umassZone(t),
		mustZone(t, "glueless.edu.", "@ IN NS ns.elsewhere.com.", "host IN A 10.1.1.1", "alias IN CNAME external.com."),
		mustZone(t, "elsewhere.com.", "ns IN A 127.0.0.3"))
	return h
}

func itoa(n int) string { return intString(n) }

func intString(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func (h *hierarchy) resolver(cache bool) *Resolver {
	r := &Resolver{Client: &Client{Stack: stack.OS}, Roots: []string{h.root.Addr()}, Port: h.port,
		Bailiwick: true, Timeout: time.Second, Retries: 1}
	if cache {
		r.Cache = NewCache(stack.OS)
	}
	return r
}

func TestResolver(t *testing.T) {
	h := newHierarchy(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		mode      Mode
		rcode     int
		last      string // value of the last answer record
		queries   int    // Stats.Queries
		relayed   int
		errSubstr string
	}{
		{"iterative: root, TLD, authoritative", "gaia.cs.umass.edu", md.TypeA, Iterative, md.RcodeSuccess, "128.119.245.12", 3, 0, ""},
		{"recursive: one query from the local server, two down the chain", "gaia.cs.umass.edu", md.TypeA, Recursive, md.RcodeSuccess, "128.119.245.12", 1, 2, ""},
		{"CNAME chain", "www.umass.edu", md.TypeA, Iterative, md.RcodeSuccess, "128.119.245.12", 3, 0, ""},
		{"NXDOMAIN is a reply", "nope.umass.edu", md.TypeA, Iterative, md.RcodeNameError, "", 3, 0, ""},
		{"NODATA is a reply", "gaia.cs.umass.edu", md.TypeMX, Iterative, md.RcodeSuccess, "", 3, 0, ""},
		{"NXDOMAIN from the TLD", "nosuch.edu", md.TypeA, Iterative, md.RcodeNameError, "", 2, 0, ""},
		{"referral without glue: resolve the name server first", "host.glueless.edu", md.TypeA, Iterative, md.RcodeSuccess, "10.1.1.1", 6, 0, ""},
		{"CNAME to another zone", "alias.glueless.edu", md.TypeA, Iterative, md.RcodeSuccess, "9.9.9.9", 7, 0, ""},
		{"referral loop ends with an error", "a.x.loop", md.TypeA, Iterative, 0, "", 0, 0, "referral loop"},
		{"CNAME loop ends with an error", "loop1.umass.edu", md.TypeA, Iterative, 0, "", 0, 0, "CNAME loop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.resolver(true)
			var trace []string
			res, err := r.Resolve(ctx, tc.qname, tc.qtype, tc.mode, func(s string) { trace = append(trace, s) })
			if tc.errSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("err %v, want %q", err, tc.errSubstr)
				}
				var le *neterr.Error
				if !errors.As(err, &le) || le.Kind != neterr.KindProtocol {
					t.Errorf("err %#v, want kind protocol", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, strings.Join(trace, "\n"))
			}
			if res.Msg.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", RcodeName(res.Msg.Rcode), RcodeName(tc.rcode))
			}
			last := ""
			if n := len(res.Msg.Answer); n > 0 {
				last = Value(res.Msg.Answer[n-1])
			}
			if last != tc.last {
				t.Errorf("last answer %q, want %q", last, tc.last)
			}
			st := r.Stats()
			if st.Queries != tc.queries || st.Relayed != tc.relayed {
				t.Errorf("queries %d relayed %d, want %d and %d\n%s", st.Queries, st.Relayed, tc.queries, tc.relayed, strings.Join(trace, "\n"))
			}
			// the repeat comes from the cache, negative answers included
			res2, err := r.Resolve(ctx, tc.qname, tc.qtype, tc.mode, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res2.FromCache || res2.Msg.Rcode != tc.rcode || r.Stats().Queries != tc.queries {
				t.Errorf("repeat: from cache %v rcode %s queries %d", res2.FromCache, RcodeName(res2.Msg.Rcode), r.Stats().Queries)
			}
		})
	}
	t.Run("recursive: each server asks the next from its own address", func(t *testing.T) {
		r := h.resolver(false)
		var trace []string
		if _, err := r.Resolve(ctx, "gaia.cs.umass.edu", md.TypeA, Recursive, func(s string) { trace = append(trace, s) }); err != nil {
			t.Fatal(err)
		}
		all := strings.Join(trace, "\n")
		for _, want := range []string{
			"[1] asked root server 127.0.0.1:",
			"root server 127.0.0.1:" + itoa(h.port) + " recursed (ra)",
			"        [1] asked edu. server 127.0.0.2:",
			"            [1] asked umass.edu. server 127.0.0.3:",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("trace lacks %q:\n%s", want, all)
			}
		}
		// (On loopback every query leaves from 127.0.0.1; the lab's test
		// checks that each log shows the address of the server above.)
		if eduLog := strings.Join(h.edu.Log(), "\n"); !strings.Contains(eduLog, "recursing for 127.0.0.1:") {
			t.Errorf("the edu server's log should show the query it sent on:\n%s", eduLog)
		}
	})
	t.Run("recursive mode with servers that only refer", func(t *testing.T) {
		h := newHierarchyRec(t, false)
		r := h.resolver(false)
		var trace []string
		res, err := r.Resolve(ctx, "gaia.cs.umass.edu", md.TypeA, Recursive, func(s string) { trace = append(trace, s) })
		if err != nil || Value(res.Msg.Answer[0]) != "128.119.245.12" {
			t.Fatalf("%v %v", res, err)
		}
		if st := r.Stats(); st.Queries != 3 || st.Relayed != 0 {
			t.Errorf("stats %+v, want 3 queries, none relayed", st)
		}
		if all := strings.Join(trace, "\n"); !strings.Contains(all, "root server does not recurse (ra clear): following its referral to edu. myself") {
			t.Errorf("trace:\n%s", all)
		}
	})
	t.Run("without a cache every lookup asks again", func(t *testing.T) {
		r := h.resolver(false)
		for i := 0; i < 2; i++ {
			if _, err := r.Resolve(ctx, "gaia.cs.umass.edu", md.TypeA, Iterative, nil); err != nil {
				t.Fatal(err)
			}
		}
		if st := r.Stats(); st.Queries != 6 || st.CacheHits != 0 {
			t.Errorf("stats %+v, want 6 queries and no hits", st)
		}
	})
	t.Run("cached delegation skips the root", func(t *testing.T) {
		r := h.resolver(true)
		r.Resolve(ctx, "gaia.cs.umass.edu", md.TypeA, Iterative, nil)
		res, err := r.Resolve(ctx, "umass.edu", md.TypeMX, Iterative, nil)
		if err != nil || res.Queries != 1 {
			t.Fatalf("res %+v err %v, want one query", res, err)
		}
	})
}

func TestCacheTTL(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	c := NewCache(clock)
	c.Put("a.example.", md.TypeA, []md.RR{mustRR(t, "a.example. 10 IN A 1.2.3.4")})
	soa := mustRR(t, "example. 3600 IN SOA ns. host. 1 2 3 4 5")
	c.PutNegative("gone.example.", md.TypeA, md.RcodeNameError, soa)
	c.PutNegative("a.example.", md.TypeMX, md.RcodeSuccess, soa)
	clock.now = clock.now.Add(4 * time.Second)
	if rrs, _, _, ok := c.Get("A.example", md.TypeA); !ok || rrs[0].Header().Ttl != 6 {
		t.Fatalf("after 4s: %v %v, want TTL 6", rrs, ok)
	}
	if _, neg, rc, ok := c.Get("gone.example.", md.TypeAAAA); !ok || !neg || rc != md.RcodeNameError {
		t.Error("NXDOMAIN does not cover every type")
	}
	if _, neg, rc, ok := c.Get("a.example.", md.TypeMX); !ok || !neg || rc != md.RcodeSuccess {
		t.Error("NODATA not cached")
	}
	clock.now = clock.now.Add(2 * time.Second) // 6s: negative TTL (min 5) has run out
	if _, _, _, ok := c.Get("gone.example.", md.TypeA); ok {
		t.Error("negative entry outlived the SOA minimum")
	}
	clock.now = clock.now.Add(4 * time.Second) // 10s
	if _, _, _, ok := c.Get("a.example.", md.TypeA); ok {
		t.Error("entry outlived its TTL")
	}
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}
func (c *fakeClock) AfterFunc(d time.Duration, f func()) stack.Timer {
	return time.AfterFunc(d, f)
}

func TestClient(t *testing.T) {
	ctx := context.Background()
	big := []string{"@ IN NS ns", "ns IN A 127.0.0.1"}
	for i := 0; i < 60; i++ {
		big = append(big, "many IN A 10.0.0."+intString(i+1))
	}
	srv := startServer(t, "127.0.0.1:0", mustZone(t, "big.test.", big...))
	c := &Client{Stack: stack.OS}

	t.Run("truncated UDP answer is retried over TCP", func(t *testing.T) {
		ex, err := c.Exchange(ctx, NewQuery(stack.OS, "many.big.test", md.TypeA, false), srv.Addr(), QueryOptions{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if !ex.TCP || ex.Reply.Truncated || len(ex.Reply.Answer) != 60 || ex.Attempts != 2 {
			t.Errorf("tcp %v tc %v answers %d attempts %d", ex.TCP, ex.Reply.Truncated, len(ex.Reply.Answer), ex.Attempts)
		}
	})
	t.Run("the server sets TC over UDP", func(t *testing.T) {
		conn, err := net.Dial("udp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		q := NewQuery(stack.OS, "many.big.test", md.TypeA, false)
		wire, _ := q.Pack()
		conn.Write(wire)
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 65535)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n > 512 {
			t.Errorf("UDP reply of %d bytes, over 512", n)
		}
		r := new(md.Msg)
		if err := r.Unpack(buf[:n]); err != nil || !r.Truncated {
			t.Errorf("reply %v err %v, want TC", r, err)
		}
	})
	t.Run("silent server: timeout after the retries with backoff", func(t *testing.T) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		got := make(chan time.Time, 10)
		go func() {
			buf := make([]byte, 512)
			for {
				if _, _, err := pc.ReadFrom(buf); err != nil {
					return
				}
				got <- time.Now()
			}
		}()
		start := time.Now()
		_, err = c.Exchange(ctx, NewQuery(stack.OS, "x.test", md.TypeA, true), pc.LocalAddr().String(), QueryOptions{Timeout: 50 * time.Millisecond, Retries: 2})
		var le *neterr.Error
		if !errors.As(err, &le) || le.Kind != neterr.KindTimeout {
			t.Fatalf("err %v, want a timeout", err)
		}
		if el := time.Since(start); el < 340*time.Millisecond {
			t.Errorf("gave up after %v, want 50+100+200ms", el)
		}
		if len(got) != 3 {
			t.Errorf("%d queries sent, want 3", len(got))
		}
		t1, t2, t3 := <-got, <-got, <-got
		if g1, g2 := t2.Sub(t1), t3.Sub(t2); g2 < g1*3/2 {
			t.Errorf("gaps %v then %v: not backing off", g1, g2)
		}
	})
	t.Run("nobody listening is refused", func(t *testing.T) {
		pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
		addr := pc.LocalAddr().String()
		pc.Close()
		_, err := c.Exchange(ctx, NewQuery(stack.OS, "x.test", md.TypeA, true), addr, QueryOptions{Timeout: time.Second})
		var le *neterr.Error
		if !errors.As(err, &le) || le.Kind != neterr.KindRefused {
			t.Fatalf("err %v, want refused", err)
		}
	})
	t.Run("cancelled context ends the wait", func(t *testing.T) {
		pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
		defer pc.Close()
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.Exchange(cctx, NewQuery(stack.OS, "x.test", md.TypeA, true), pc.LocalAddr().String(), QueryOptions{Timeout: 5 * time.Second})
		if err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
	})
}

// garbage is a set of hostile packets: empty, short, truncated, pointer
// loops, a response instead of a query, many questions, bad opcodes.
func garbage() [][]byte {
	q := NewQuery(stack.OS, "gaia.cs.umass.edu", md.TypeA, true)
	wire, _ := q.Pack()
	resp := q.Copy()
	resp.Response = true
	rwire, _ := resp.Pack()
	multi := q.Copy()
	multi.Question = append(multi.Question, multi.Question[0])
	mwire, _ := multi.Pack()
	notify := q.Copy()
	notify.Opcode = md.OpcodeUpdate
	nwire, _ := notify.Pack()
	loop := append([]byte{}, wire[:12]...)
	loop = append(loop, 0xc0, 12, 0, 1, 0, 1) // a name pointing at itself
	return [][]byte{{}, {0}, wire[:5], wire[:len(wire)-3], rwire, mwire, nwire, loop,
		append(append([]byte{}, wire...), make([]byte, 3000)...)}
}

func TestServerSurvivesHostilePackets(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", umassZone(t))
	for i, p := range garbage() {
		sendRaw(t, srv.Addr(), p)
		if !stillAnswers(t, srv.Addr()) {
			t.Fatalf("server stopped answering after packet %d (% x)", i, p)
		}
	}
}

func sendRaw(t testing.TB, addr string, p []byte) {
	if c, err := net.Dial("udp", addr); err == nil {
		c.Write(p)
		c.Close()
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		n := len(p)
		c.Write(append([]byte{byte(n >> 8), byte(n)}, p...))
		c.SetDeadline(time.Now().Add(5 * time.Millisecond))
		c.Read(make([]byte, 10))
		c.Close()
	}
}

func stillAnswers(t testing.TB, addr string) bool {
	c := &Client{Stack: stack.OS}
	for _, tcp := range []bool{false, true} {
		ex, err := c.Exchange(context.Background(), NewQuery(stack.OS, "gaia.cs.umass.edu", md.TypeA, false), addr, QueryOptions{TCP: tcp, Timeout: time.Second, Retries: 2})
		if err != nil || len(ex.Reply.Answer) != 1 {
			return false
		}
	}
	return true
}

func FuzzServer(f *testing.F) {
	for _, p := range garbage() {
		f.Add(p)
	}
	srv := &Server{Stack: stack.OS, Zones: []*Zone{umassZone(f)}}
	if err := srv.Start(context.Background(), "127.0.0.1:0"); err != nil {
		f.Fatal(err)
	}
	defer srv.Stop()
	n := 0
	f.Fuzz(func(t *testing.T, p []byte) {
		// the answering logic straight, then over the wire
		if m := new(md.Msg); m.Unpack(p) == nil {
			srv.Answer(m, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, "udp")
		}
		sendRaw(t, srv.Addr(), p)
		if n++; n%50 == 0 && !stillAnswers(t, srv.Addr()) {
			t.Fatalf("server stopped answering after % x", p)
		}
	})
	if !stillAnswers(f, srv.Addr()) {
		f.Fatal("server stopped answering")
	}
}

func TestDig(t *testing.T) {
	m := NewQuery(stack.OS, "www.oxford.ac.uk", md.TypeA, true)
	m.Id = 35102
	m.Response, m.RecursionAvailable = true, true
	m.Answer = []md.RR{mustRR(t, "www.oxford.ac.uk. 300 IN A 129.67.242.154")}
	m.Ns = []md.RR{mustRR(t, "oxford.ac.uk. 86399 IN NS dns2.ox.ac.uk.")}
	got := Dig(m, &Footer{RTT: 589 * time.Millisecond, Server: "129.94.172.11:53", Size: 242})
	for _, want := range []string{
		";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 35102",
		";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 1, ADDITIONAL: 0",
		";; QUESTION SECTION:\n;www.oxford.ac.uk.\t\tIN\tA",
		";; ANSWER SECTION:\nwww.oxford.ac.uk.\t300\tIN\tA\t129.67.242.154",
		";; AUTHORITY SECTION:\noxford.ac.uk.\t86399\tIN\tNS\tdns2.ox.ac.uk.",
		";; Query time: 589 msec",
		";; SERVER: 129.94.172.11#53(129.94.172.11)",
		";; MSG SIZE  rcvd: 242",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "ADDITIONAL SECTION") {
		t.Error("empty section printed")
	}
}
