// Command dns benchmarks netplay's DNS server under dnsperf on loopback,
// side by side in one run: a zone served by netplay (dns.serve with a
// dns.zone), a bare github.com/miekg/dns server answering the same zone
// from a map, and a netplay server whose Starlark handler answers every
// query. It prints queries per second and the ratios to the bare server
// (bars: ≥50% for the zone, ≥20% with the Starlark handler).
//
//	go run ./bench/dns [-l 5]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
	"go.starlark.net/starlark"
)

const zoneText = `$TTL 300
@     IN SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300
@     IN NS  ns
ns    IN A   127.0.0.1
www   IN A   10.0.0.1
www   IN A   10.0.0.2
@     IN MX  10 mail
mail  IN A   10.0.0.3
txt   IN TXT "hello from the bench zone"
`

var queries = []string{"www.bench.test A", "bench.test MX", "mail.bench.test A", "txt.bench.test TXT", "nope.bench.test A", "www.bench.test AAAA"}

func main() {
	seconds := flag.Int("l", 5, "seconds per dnsperf run")
	clients := flag.Int("c", 4, "dnsperf clients")
	flag.Parse()
	dnsperf, err := exec.LookPath("dnsperf")
	if err != nil {
		log.Fatal("dnsperf is not installed (apt-get install dnsperf)")
	}
	dir, err := os.MkdirTemp("", "netplay-bench-dns")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "queries.txt")
	os.WriteFile(data, []byte(strings.Join(queries, "\n")+"\n"), 0o644)

	run := func(name, addr string) float64 {
		_, port, _ := net.SplitHostPort(addr)
		out, err := exec.Command(dnsperf, "-s", "127.0.0.1", "-p", port, "-d", data, "-l", strconv.Itoa(*seconds),
			"-c", strconv.Itoa(*clients), "-q", "200", "-t", "2").CombinedOutput()
		if err != nil {
			log.Fatalf("dnsperf against %s: %v\n%s", name, err, out)
		}
		qps := parse(out, `Queries per second:\s+([\d.]+)`)
		lost := parse(out, `Queries lost:\s+(\d+)`)
		fmt.Printf("%-28s %10.0f queries/s  (lost %.0f)\n", name, qps, lost)
		return qps
	}

	bareAddr, stop := bare()
	bareQPS := run("bare miekg/dns", bareAddr)
	stop()

	zoneAddr, closeZone := netplay(dir, fmt.Sprintf("srv = dns.serve(\"127.0.0.1:0\", zones=[dns.zone(\"bench.test\", text=%q)])\n", zoneText))
	zoneQPS := run("netplay zone", zoneAddr)
	closeZone()

	handlerAddr, closeHandler := netplay(dir, `
def answer(q):
    if q.type == "A":
        return dns.reply(q, answer=[(q.name, "A", "10.0.0.1", 300)])
    return dns.reply(q, rcode="NXDOMAIN")
srv = dns.serve("127.0.0.1:0", handler=answer)
`)
	handlerQPS := run("netplay Starlark handler", handlerAddr)
	closeHandler()

	fmt.Println()
	fmt.Printf("zone / bare:              %5.1f%%  (bar ≥ 50%%)\n", 100*zoneQPS/bareQPS)
	fmt.Printf("Starlark handler / bare:  %5.1f%%  (bar ≥ 20%%)\n", 100*handlerQPS/bareQPS)
}

func parse(out []byte, re string) float64 {
	m := regexp.MustCompile(re).FindSubmatch(out)
	if m == nil {
		log.Fatalf("cannot find %s in dnsperf output:\n%s", re, out)
	}
	f, _ := strconv.ParseFloat(string(m[1]), 64)
	return f
}

// netplay runs a Starlark script that starts a server named srv and
// returns its address and a function that ends the interpreter.
func netplay(dir, src string) (string, func()) {
	var out bytes.Buffer
	in := lang.New(lang.Options{Stdout: &out, Stderr: os.Stderr, Root: dir,
		Predeclared: modules.Universe(modules.Env{})})
	globals, err := in.ExecFile(filepath.Join(dir, "bench.star"), src)
	if err != nil {
		log.Fatal(lang.FormatError(err))
	}
	v, _ := globals["srv"].(starlark.HasAttrs).Attr("address")
	s, _ := starlark.AsString(v)
	return s, in.Close
}

// bare serves the same zone with a plain miekg/dns handler: a map lookup.
func bare() (string, func()) {
	zp := md.NewZoneParser(strings.NewReader(zoneText), "bench.test.", "")
	type key struct {
		name  string
		qtype uint16
	}
	records := map[key][]md.RR{}
	names := map[string]bool{}
	var soa md.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		records[key{h.Name, h.Rrtype}] = append(records[key{h.Name, h.Rrtype}], rr)
		names[h.Name] = true
		if h.Rrtype == md.TypeSOA {
			soa = rr
		}
	}
	handler := md.HandlerFunc(func(w md.ResponseWriter, r *md.Msg) {
		m := new(md.Msg)
		m.SetReply(r)
		m.Authoritative = true
		q := r.Question[0]
		name := strings.ToLower(q.Name)
		if rrs := records[key{name, q.Qtype}]; len(rrs) > 0 {
			m.Answer = rrs
		} else {
			if !names[name] {
				m.Rcode = md.RcodeNameError
			}
			m.Ns = []md.RR{soa}
		}
		w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &md.Server{PacketConn: pc, Handler: handler}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	return pc.LocalAddr().String(), func() { srv.Shutdown(); time.Sleep(10 * time.Millisecond) }
}
