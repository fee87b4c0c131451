package labmod_test

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/modules/startest"
)

// Only a host made with spoof=True may forge a datagram's source; the
// receiver sees the forged address.
func TestSpoofedSource(t *testing.T) {
	out := startest.MustRun(t, `
net = lab.network()
a, b, mallory = net.host("a"), net.host("b"), net.host("mallory", spoof=True)
r = net.router("r")
for h in [a, b, mallory]:
    net.link(h, r, rate="10Mbps", delay="1ms")
rx = b.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("", 9000))
evil = mallory.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
evil.sendto(b"forged", (b.addr, 9000), source=(a.addr, 53))
data, frm = rx.recvfrom(100)
print(data, frm == (a.addr, 53), mallory.spoof, a.spoof)
honest = a.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
e = catch(honest.sendto, b"x", (b.addr, 9000), source=(mallory.addr, 1))
print(e.error.kind, "spoof=True" in e.error.message)
net.close()
os_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
e = catch(os_sock.sendto, b"x", ("127.0.0.1", 9), source=("127.0.0.2", 53))
print(e.error.kind, "operating system" in e.error.message)
`)
	want := "forged True True False\nargument True\nargument True\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// Query ids and source ports come from the network's seed: the same seed
// gives the same ones, another seed others; randomize_ports=False sends
// every query from one port.
func TestResolverIdsAndPortsFromTheSeed(t *testing.T) {
	src := func(seed int) string {
		return `
net = lab.network(seed=` + strconv.Itoa(seed) + `)
c, ns = net.host("c"), net.host("ns")
net.link(c, ns, rate="10Mbps", delay="1ms")
seen = []
def spy(q):
    seen.append((q.id, q.client[1]))
    return dns.reply(q, answer=[(q.name, "A", "10.9.9.9", 0)])
ns.dns.serve(":53", handler=spy)
random_ports = c.dns.resolver(roots=[ns.addr + ":53"], cache=False)
fixed = c.dns.resolver(roots=[ns.addr + ":53"], cache=False, randomize_ports=False)
for r in [random_ports, random_ports, fixed, fixed]:
    r.resolve("x.example")
print(seen)
print(random_ports.randomize_ports, random_ports.source_port, fixed.randomize_ports, fixed.source_port == seen[2][1] and seen[2][1] == seen[3][1])
net.close()
`
	}
	one, again, other := startest.MustRun(t, src(1)), startest.MustRun(t, src(1)), startest.MustRun(t, src(2))
	if one != again {
		t.Errorf("same seed, different ids or ports:\n%s\n%s", one, again)
	}
	if one == other {
		t.Errorf("seeds 1 and 2 gave the same ids and ports:\n%s", one)
	}
	m := regexp.MustCompile(`^\[\((\d+), (\d+)\), \((\d+), (\d+)\), \((\d+), (\d+)\), \((\d+), (\d+)\)\]\nTrue None False True\n$`).FindStringSubmatch(one)
	if m == nil {
		t.Fatalf("unexpected output:\n%s", one)
	}
	if m[1] == m[3] || m[2] == m[4] {
		t.Errorf("two queries with random ports shared an id or a port: %s", one)
	}
}

// A forged reply poisons the cache only with the query's id, sent to the
// port the query left from: the check the Kaminsky experiment
// (scripts/lab_kaminsky.star, run by cmd/netplay's TestEveryScript) races
// against. Here the real name server tells the test the id and port, and
// takes its time answering.
func TestForgedReplyNeedsIdAndPort(t *testing.T) {
	out := startest.MustRun(t, `
net = lab.network(seed=3)
r = net.router("internet")
victim, mallory = net.host("victim"), net.host("mallory", spoof=True)
root, ns = net.host("root"), net.host("ns")
for h in [victim, mallory, root, ns]:
    net.link(h, r, rate="100Mbps", delay="5ms")
root.dns.serve(":53", zones=[dns.zone(".", records=[("bank.example", "NS", "ns.bank.example"), ("ns.bank.example", "A", ns.addr)])])
seen = []
def slow(q):
    seen.append((q.id, q.client[1]))
    ns.sleep(0.2)            # the window the forged replies race into
    return None
ns.dns.serve(":53", zones=[dns.zone("bank.example", records=[("www.bank.example", "A", "10.1.1.1")])], handler=slow)
res = victim.dns.resolver(roots=[root.addr + ":53"], randomize_ports=False)
victim.dns.serve(":53", resolver=res)
s = mallory.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for case in ["wrong id", "wrong port", "id and port"]:
    name = case.replace(" ", "-") + ".bank.example"
    n = len(seen)
    t = spawn(lambda: mallory.dns.query(name, server=victim.addr + ":53", retries=0))
    while len(seen) == n:
        mallory.sleep(0.001)
    qid, port = seen[-1]
    forged = dns.reply((name, "A"), answer=[(name, "A", "6.6.6.6", 60)], additional=[("www.bank.example", "A", "6.6.6.6", 60)]).wire
    if case == "wrong id":
        qid = (qid + 1) % 65536
    if case == "wrong port":
        port = port + 1 if port < 65535 else port - 1
    s.sendto(bytes([qid // 256, qid % 256]) + forged[2:], (victim.addr, port), source=(ns.addr, 53))
    r = t.join()
    print(case, r.rcode, [a.value for a in r.answer], [rec.value for rec in res.cache if rec.name == "www.bank.example."], port == res.source_port or case == "wrong port")
net.close()
`)
	want := "wrong id NXDOMAIN [] [] True\nwrong port NXDOMAIN [] [] True\nid and port NOERROR [\"6.6.6.6\"] [\"6.6.6.6\"] True\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

var kaminskyRE = regexp.MustCompile(`(?m)^(one fixed source port|random source ports)\s+poisoned (\d+) of (\d+) attacks \(([0-9.]+), formula ([0-9.]+):`)

func TestKaminskyExperiment(t *testing.T) {
	if testing.Short() || raceOn {
		// Tens of thousands of forged replies; TestEveryScript runs the
		// script too, and the mechanism is tested above.
		t.Skip("runs tens of thousands of forged replies")
	}
	saved := startest.Timeout
	startest.Timeout = 5 * time.Minute // seconds when the machine is idle, a minute when it is loaded
	defer func() { startest.Timeout = saved }()
	out := runScript(t, "lab_kaminsky.star")
	rows := kaminskyRE.FindAllStringSubmatch(out, -1)
	if len(rows) != 2 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if fixed, _ := strconv.Atoi(rows[0][2]); fixed == 0 {
		t.Errorf("no attack succeeded against a fixed source port:\n%s", out)
	}
	if random, _ := strconv.Atoi(rows[1][2]); random != 0 {
		t.Errorf("an attack succeeded against random source ports:\n%s", out)
	}
}
