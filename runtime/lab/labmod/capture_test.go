package labmod_test

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/internal/peertest"
	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/modules/startest"
)

// captureScript loads a page by name (a DNS lookup through the client's
// name server, then HTTP) and sends a mail, capturing every packet.
const captureScript = `
net = lab.network()
client, web, ns = net.host("client", resolver="ns"), net.host("web"), net.host("ns")
r = net.router("r")
links = [net.link(h, r, rate="10Mbps", delay="5ms") for h in [client, web, ns]]
ns.dns.serve(":53", zones=[dns.zone("example", records=[("www.example", "A", web.addr)])])
web.http.serve(":80", handler=lambda req: "hello " * 1000)
box = mail.mailboxes()
web.smtp.serve(":25", "example", mailboxes=box)
web.pop3.serve(":110", mailboxes=box)
web.imap.serve(":143", mailboxes=box)
cap = net.capture("all.pcap")
web_only = net.capture("web.pcap", links=[links[1]])
resp = client.http.get("http://www.example/index.html")
reply = client.smtp.send(web.addr + ":25", "alice@client", "bob@example", "Subject: hi\n\nhello")
pop = client.pop3.client(web.addr + ":110")
pop.login("bob", "hungry")
print(pop.stat()[0])
pop.close()
im = client.imap.client(web.addr + ":143")
im.login("bob", "hungry")
im.select("INBOX")
print(resp.status, len(resp.body), reply.code)
cap.stop()
print(cap.packets > 20, web_only.packets < cap.packets, web_only.packets > 0)
net.close()
`

// expertWarning is Wireshark's PI_WARN: lower severities are chat and notes.
const expertWarning = 0x00600000

// tshark decodes the capture: the DNS lookup, the HTTP exchange and the
// SMTP dialogue, each stream complete.
func TestCaptureDecodesWithTshark(t *testing.T) {
	tshark := peertest.Need(t, "tshark")
	dir := t.TempDir()
	r := startest.RunIn(t, dir, captureScript, nil)
	if r.Err != nil {
		t.Fatalf("%s\n%s", lang.FormatError(r.Err), r.Stderr)
	}
	if r.Stdout != "1\n200 6000 250\nTrue True True\n" {
		t.Fatalf("script printed:\n%s", r.Stdout)
	}
	// One tshark run per file (it starts slowly): a row per packet with
	// the decoded fields, checked below.
	cols := []string{"dns.flags.response", "dns.qry.name", "dns.a", "http.request.method", "http.request.uri",
		"http.host", "http.response.code", "http.content_length", "smtp.req.command", "pop.request.command", "imap.request.command", "tcp.flags.syn", "tcp.flags.ack",
		"tcp.dstport", "_ws.expert.severity", "_ws.expert.message"}
	decode := func(file string) []map[string]string {
		t.Helper()
		args := []string{"-r", filepath.Join(dir, file), "-T", "fields", "-E", "separator=/t"}
		for _, c := range cols {
			args = append(args, "-e", c)
		}
		out, err := exec.Command(tshark, args...).Output()
		if err != nil {
			t.Fatalf("tshark %v: %v", args, err)
		}
		var rows []map[string]string
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			vals := strings.Split(line, "\t")
			row := map[string]string{}
			for i, c := range cols {
				if i < len(vals) {
					row[c] = vals[i]
				}
			}
			rows = append(rows, row)
		}
		return rows
	}
	all, webOnly := decode("all.pcap"), decode("web.pcap")
	pick := func(rows []map[string]string, when func(map[string]string) bool, fields ...string) []string {
		var out []string
		for _, r := range rows {
			if when(r) {
				var vs []string
				for _, f := range fields {
					vs = append(vs, r[f])
				}
				out = append(out, strings.Join(vs, " "))
			}
		}
		return out
	}
	first := func(n int, l []string) []string { return l[:min(n, len(l))] }
	has := func(f string) func(map[string]string) bool {
		return func(r map[string]string) bool { return r[f] != "" }
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"dns query and answer", pick(all, has("dns.qry.name"), "dns.flags.response", "dns.qry.name", "dns.a"),
			[]string{"0 www.example ", "1 www.example 10.0.0.3"}},
		{"http request", pick(all, has("http.request.method"), "http.request.method", "http.request.uri", "http.host"),
			[]string{"GET /index.html www.example"}},
		{"http response, reassembled", pick(all, has("http.response.code"), "http.response.code", "http.content_length"),
			[]string{"200 6000"}},
		{"smtp commands", pick(all, has("smtp.req.command"), "smtp.req.command"),
			[]string{"HELO", "MAIL", "RCPT", "DATA", "QUIT"}},
		{"pop3 commands", pick(all, has("pop.request.command"), "pop.request.command"),
			[]string{"user", "pass", "stat"}},
		{"imap commands (the first two)", first(2, pick(all, has("imap.request.command"), "imap.request.command")),
			[]string{"LOGIN", "SELECT"}},
		{"one handshake per connection", pick(all, func(r map[string]string) bool { return r["tcp.flags.syn"] == "1" && r["tcp.flags.ack"] == "0" }, "tcp.dstport"),
			[]string{"80", "25", "110", "143"}},
		// Wireshark's expert info: a lost, unseen, out-of-order segment
		// or a bad checksum is a warning or an error.
		{"no warnings from the analysis", pick(all, func(r map[string]string) bool {
			for _, sev := range strings.Split(r["_ws.expert.severity"], ",") {
				if n, _ := strconv.Atoi(sev); n >= expertWarning {
					return true
				}
			}
			return false
		}, "_ws.expert.message"), nil},
		{"a link's capture sees only its traffic", pick(webOnly, has("dns.qry.name"), "dns.qry.name"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Join(tc.got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
