package main

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"fmt"
	"os"
	"path/filepath"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules"
)

// examples returns the indented code blocks of a doc.
func examples(doc string) []string {
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, strings.Join(cur, "\n")+"\n")
			cur = nil
		}
	}
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(line, "    "):
			cur = append(cur, line[4:])
		case strings.TrimSpace(line) == "" && len(cur) > 0:
			cur = append(cur, "")
		default:
			flush()
		}
	}
	flush()
	return blocks
}

// TestDocExamplesParse checks that every example in every builtin's doc is
// valid netplay Starlark, so help() never shows code that cannot run. (The
// README's examples are run whole by TestReadmeExamples.)
func TestDocExamplesParse(t *testing.T) {
	exs := docExamples()
	for _, e := range exs {
		if _, err := lang.Dialect.Parse(e.name+".example", lang.KeywordAttrs([]byte(e.code)), 0); err != nil {
			t.Errorf("%s example %d does not parse: %v\n%s", e.name, e.n, err, e.code)
		}
	}
	if len(exs) < 20 {
		t.Fatalf("found only %d examples: the extraction is broken", len(exs))
	}
	t.Logf("%d examples parse", len(exs))
}

// TestDocExamplesRun runs every example of every builtin's doc, as written,
// the way Go runs its examples: each in a fresh interpreter in an empty
// folder, with stdin "hello world\n", after the setup code that
// exampleSetups gives for its doc name (the servers, hosts and variables
// the example talks about but does not make). An example fails on any
// error, or if it does not end within a minute.
//
// The convention for a new module's docs (torrent, dash …): write examples
// that run; when one needs a peer, a server or a variable made elsewhere,
// add its setup here under the example's doc name, or under a prefix
// ("http" covers http.get and http.client.pipeline; the longest prefix
// wins; "=name" is for that name only). An example that reads files the
// repository has (Sabre's traces) runs in the folder exampleDirs names. An example that serves forever (a while True accept loop) gets a
// setup that spawns a client to drive it and ends the run with
// sys.exit(0) once the client got its answer.
func TestDocExamplesRun(t *testing.T) {
	exs := docExamples()
	for _, e := range exs {
		name, ex := e.name, e.code
		setup := exampleSetup(name)
		t.Run(fmt.Sprintf("%s#%d", name, e.n), func(t *testing.T) {
			for p, why := range examplesRunElsewhere {
				if name == p || strings.HasPrefix(name, p+".") {
					t.Skip(why)
				}
			}
			var out, errb bytes.Buffer
			dir := t.TempDir()
			if d := exampleDir(name); d != "" {
				// A copy, so what the example writes stays out of the repository.
				if err := os.CopyFS(filepath.Join(dir, "data", "sabre"), os.DirFS(filepath.Join(repoRoot(t), d))); err != nil {
					t.Fatal(err)
				}
			}
			in := lang.New(lang.Options{
				Stdin:       strings.NewReader("hello world\n"),
				Stdout:      &out,
				Stderr:      &errb,
				Argv:        []string{"example.star"},
				Timeout:     60 * time.Second, // dash.encode runs ffmpeg
				Root:        dir,
				Predeclared: modules.Universe(modules.Env{Argv: []string{"example.star"}}),
			})
			_, err := in.ExecFile(filepath.Join(dir, "example.star"), setup+"\n"+ex)
			in.Close()
			if code, ok := lang.ExitCode(err); ok && code == 0 {
				err = nil
			}
			if err != nil {
				t.Fatalf("example fails: %s\n--- setup\n%s--- example\n%s--- stdout\n%s--- stderr\n%s",
					lang.FormatError(err), setup, ex, out.String(), errb.String())
			}
			// The dash examples are there to show a result: one that
			// prints nothing has lost its point.
			if (name == "dash" || strings.HasPrefix(name, "dash.")) && strings.TrimSpace(out.String()) == "" {
				t.Errorf("example printed nothing:\n%s", ex)
			}
		})
	}
	if len(exs) < 50 {
		t.Fatalf("found only %d examples: the extraction is broken", len(exs))
	}
}

// docExample is the n-th (from 1) indented example of name's doc.
type docExample struct {
	name string
	n    int
	code string
}

// docExamples are the examples of every builtin's doc, in name order.
func docExamples() []docExample {
	all := modules.Docs(grade.Docs()...).All()
	var out []docExample
	for _, name := range slices.Sorted(maps.Keys(all)) {
		for i, ex := range examples(all[name]) {
			out = append(out, docExample{name, i + 1, ex})
		}
	}
	return out
}

// exampleDirs are the repository folders some examples run in a copy of,
// for the files they read (by doc name prefix); the others run in an empty
// folder.
var exampleDirs = map[string]string{
	"dash": "scripts/data/sabre", // copied to data/sabre/ below
}

func exampleDir(name string) string {
	for p, d := range exampleDirs {
		if name == p || strings.HasPrefix(name, p+".") {
			return d
		}
	}
	return ""
}

// examplesRunElsewhere are doc names (or prefixes) whose examples cannot
// run alone here, and why.
var examplesRunElsewhere = map[string]string{
	"testing.t": "its examples need the t of a running test: see grade's tests",
}

// exampleSetup is the setup of the longest prefix of name in exampleSetups.
// A key starting with "=" is for that name only, not the names under it.
func exampleSetup(name string) string {
	if s, ok := exampleSetups["="+name]; ok {
		return s
	}
	for n := name; ; {
		if s, ok := exampleSetups[n]; ok {
			return s
		}
		i := strings.LastIndex(n, ".")
		if i < 0 {
			return ""
		}
		n = n[:i]
	}
}

// exampleSetups are the setups of doc examples, by doc name or prefix.
var exampleSetups = map[string]string{
	"catch": `
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.settimeout("100ms")
`,
	"socket": `
# the course's UDP server on 127.0.0.1:12000
server_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server_socket.bind(("127.0.0.1", 12000))
def uppercase():
    message, address = server_socket.recvfrom(2048)
    server_socket.sendto(message.decode().upper(), address)
spawn(uppercase)
`,
	"spawn": `
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(5)
def client():
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(server.getsockname())
    c.sendall("hello")
    reply = c.recv(1024)
    if reply != b"HELLO":
        fail("the server answered %r" % reply)
    sys.exit(0)
spawn(client)
`,
	"open": `
f = open("index.html", "w")
f.write("<html>hello</html>")
f.close()
`,
	"http": `
def origin_handler(req):
    return http.response(body="logo", headers={"Cache-Control": "max-age=60"})
srv = http.serve("127.0.0.1:0", handler=lambda req: "<html>hello</html>")
origin = http.serve("127.0.0.1:0", handler=origin_handler)
def add(req):
    return http.response(body="added", cookies={"id": "1678"})
shop = http.serve("127.0.0.1:0", routes={"/add": add, "/cart": lambda req: "cart of " + req.headers.get("Cookie", "nobody")})
c = http.client()
`,
	"dns": dnsZoneSetup,
	"dns.resolver": `
root = dns.serve("127.0.0.1:0", zones=[dns.zone(".", records=[
    ("edu", "NS", "a.edu-servers.net"),
    ("a.edu-servers.net", "A", "127.0.0.2"),
])])
port = root.port
tld = dns.serve("127.0.0.2:%d" % port, zones=[dns.zone("edu", records=[
    ("umass.edu", "NS", "dns.umass.edu"),
    ("dns.umass.edu", "A", "127.0.0.3"),
])])
umass = dns.serve("127.0.0.3:%d" % port, zones=[dns.zone("umass.edu", records=[
    ("umass.edu", "NS", "dns.umass.edu"),
    ("dns.umass.edu", "A", "127.0.0.3"),
    ("gaia.cs.umass.edu", "A", "128.119.245.12"),
])])
`,
	"smtp": `
box = mail.mailboxes()
mx = smtp.serve("127.0.0.1:2525", "hamburger.edu", mailboxes=box)
`,
	"mail": mailSetup,
	"pop3": mailSetup,
	"imap": mailSetup,
	"mail.message": `
png = b"\x89PNG\r\n\x1a\n"
`,
	"mail.parse": `
raw = """Received: from crepes.fr (crepes.fr [127.0.0.5]) by hamburger.edu
Received: from alice-pc (alice-pc [192.168.1.10]) by crepes.fr
From: alice@crepes.fr
To: bob@hamburger.edu
Subject: hi

Do you like ketchup?
"""
`,
	"lab":                labSetup + labLink + labServer,
	"lab.host":           labSetup + labLink,
	"lab.link.set":       labSetup,
	"lab.network.link":   labSetup + "net.router(\"r\")\n",
	"lab.network.host":   "net = lab.network()\n",
	"lab.network.router": "net = lab.network()\na, b = net.host(\"a\"), net.host(\"b\")\n",
	"socket.socket.sendto": `
net = lab.network(seed=1)
victim, ns, attacker = net.host("victim"), net.host("ns"), net.host("mallory", spoof=True)
net.link(attacker, victim, rate="10Mbps", delay="1ms")
net.link(attacker, ns, rate="10Mbps", delay="1ms")
s = victim.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
evil = attacker.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
reply = b"forged"
`,
	"torrent": `
data = b"the course's file " * 1000
t = torrent.tracker("127.0.0.1:0", interval=1)
meta = torrent.create(data, tracker=t.url, name="file.bin", piece_length="16KiB")
seeder = torrent.peer(meta, data=data)
seeder.start()
leecher = torrent.peer(meta)
leecher.start()
leecher.wait(timeout=30)
assert = struct(eq=lambda a, b: fail("%r != %r" % (a, b)) if a != b else None)
`,
	"=torrent.peer": `
data = b"the course's file " * 1000
t = torrent.tracker("127.0.0.1:0", interval=1)
meta = torrent.create(data, tracker=t.url, name="file.bin", piece_length="16KiB")
`,
	"lab.capture": labSetup + labLink + labServer + `
cap = net.capture("page.pcap")
client.http.get("http://server/")
`,
	"lab.load_trace": labSetup + labLink + `
f = open("trace.json", "w")
f.write('[{"duration_ms": 5000, "bandwidth_kbps": 1363, "latency_ms": 20}]')
f.close()
`,
}

const dnsZoneSetup = `
ns = dns.serve("127.0.0.1:5300", zones=[dns.zone("umass.edu", records=[
    ("umass.edu", "NS", "dns.umass.edu"),
    ("dns.umass.edu", "A", "127.0.0.3"),
    ("gaia.cs.umass.edu", "A", "128.119.245.12"),
    ("umass.edu", "MX", "10 mail.umass.edu"),
])])
`

const mailSetup = `
box = mail.mailboxes()
box.deliver("bob", mail.message(sender="alice@crepes.fr", to="bob@hamburger.edu",
                                subject="ketchup", body="Do you like ketchup?"))
c = imap.client(imap.serve("127.0.0.1:0", mailboxes=box, users={"bob": "hungry"}).address)
c.login("bob", "hungry")
c.select("INBOX")
`

const labSetup = `
net = lab.network()
client, server = net.host("client"), net.host("server")
`

const labLink = `
access = net.link(client, server, rate="10Mbps", delay="20ms")
link = access
`

const labServer = `
srv = server.http.serve(":80", handler=lambda req: "hi")
client.http.get("http://server/")
`
