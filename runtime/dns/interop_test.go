package dns

import (
	"github.com/netplay-dev/netplay/internal/peertest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestDigInterop(t *testing.T) {
	dig := peertest.Need(t, "dig")
	h := newHierarchyRec(t, false)
	big := []string{"@ IN NS ns", "ns IN A 127.0.0.1"}
	for i := 1; i <= 120; i++ {
		big = append(big, "many IN A 10.0.0."+strconv.Itoa(i))
	}
	bigSrv := startServer(t, "127.0.0.1:0", mustZone(t, "big.test.", big...))
	local := &Server{Stack: h.root.Stack, Resolver: h.resolver(true)}
	if err := local.Start(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(local.Stop)

	run := func(t *testing.T, srv *Server, args ...string) string {
		t.Helper()
		host := strings.Split(srv.Addr(), ":")[0]
		all := append([]string{"@" + host, "-p", strconv.Itoa(srv.Port()), "+time=2", "+tries=1"}, args...)
		out, err := exec.Command(dig, all...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %v: %v\n%s", all, err, out)
		}
		return string(out)
	}
	tests := []struct {
		name string
		srv  func() *Server
		args []string
		want []string // regular expressions
		not  []string
	}{
		{"A from the authoritative server", func() *Server { return h.umass }, []string{"gaia.cs.umass.edu", "A", "+norec"},
			[]string{`status: NOERROR`, `flags: qr aa;`, `gaia\.cs\.umass\.edu\.\s+600\s+IN\s+A\s+128\.119\.245\.12`}, nil},
		{"MX with the mail server's address", func() *Server { return h.umass }, []string{"umass.edu", "MX"},
			[]string{`flags: qr aa rd;`, `umass\.edu\.\s+\d+\s+IN\s+MX\s+10 mail\.umass\.edu\.`, `ADDITIONAL SECTION:\nmail\.umass\.edu\.\s+\d+\s+IN\s+A\s+128\.119\.1\.1`}, nil},
		{"NS referral from the TLD", func() *Server { return h.edu }, []string{"gaia.cs.umass.edu", "A", "+norec"},
			[]string{`status: NOERROR`, `flags: qr;`, `ANSWER: 0, AUTHORITY: 1`, `AUTHORITY SECTION:\numass\.edu\.\s+3600\s+IN\s+NS\s+dns\.umass\.edu\.`, `ADDITIONAL SECTION:\ndns\.umass\.edu\.\s+3600\s+IN\s+A\s+127\.0\.0\.3`}, []string{`flags: qr aa`}},
		{"over TCP", func() *Server { return h.umass }, []string{"+tcp", "gaia.cs.umass.edu"},
			[]string{`status: NOERROR`, `128\.119\.245\.12`, `\(TCP\)`}, nil},
		{"NXDOMAIN with the SOA", func() *Server { return h.umass }, []string{"nope.umass.edu"},
			[]string{`status: NXDOMAIN`, `flags: qr aa rd;`, `AUTHORITY SECTION:\numass\.edu\.\s+300\s+IN\s+SOA`}, nil},
		{"truncated answer over UDP", func() *Server { return bigSrv }, []string{"+ignore", "+noedns", "many.big.test"},
			[]string{`flags: qr aa tc rd;`, `MSG SIZE  rcvd: \d{3}\n`}, nil},
		{"truncated answer retried over TCP", func() *Server { return bigSrv }, []string{"many.big.test"},
			[]string{`Truncated, retrying in TCP mode`, `ANSWER: 120,`}, nil},
		{"local recursive name server", func() *Server { return local }, []string{"www.umass.edu"},
			[]string{`status: NOERROR`, `flags: qr rd ra;`, `www\.umass\.edu\.\s+\d+\s+IN\s+CNAME\s+gaia\.cs\.umass\.edu\.`, `gaia\.cs\.umass\.edu\.\s+\d+\s+IN\s+A\s+128\.119\.245\.12`}, nil},
		{"local recursive name server, NXDOMAIN", func() *Server { return local }, []string{"nope.umass.edu"},
			[]string{`status: NXDOMAIN`, `flags: qr rd ra;`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, tc.srv(), tc.args...)
			for _, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("dig output lacks %s:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if regexp.MustCompile(n).MatchString(out) {
					t.Errorf("dig output has %s:\n%s", n, out)
				}
			}
		})
	}
}
