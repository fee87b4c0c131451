package dns

import (
	"strings"
	"testing"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/runtime/stack"
)

func TestHopReport(t *testing.T) {
	q := NewQuery(stack.OS, "gaia.cs.umass.edu", md.TypeA, true)
	if wantsHops(q) {
		t.Fatal("a plain query asks for a hop report")
	}
	askHops(q)
	if !wantsHops(q) {
		t.Fatal("askHops did not ask")
	}
	resp := new(md.Msg)
	resp.SetReply(q)
	lines := []string{"[1] asked edu. server 10.0.0.5:53: gaia.cs.umass.edu. A? (rd)", "    edu. 10.0.0.5:53 answered: A 128.119.245.12"}
	reportHops(resp, lines)
	wire, err := resp.Pack()
	if err != nil {
		t.Fatal(err)
	}
	back, ok := reply(wire, q)
	if !ok {
		t.Fatal("the reply does not match its query")
	}
	if got := reportedHops(back); strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Errorf("reported %q, want %q", got, lines)
	}
	big := make([]string, 100)
	for i := range big {
		big[i] = strings.Repeat("x", 60)
	}
	resp2 := new(md.Msg)
	resp2.SetReply(q)
	reportHops(resp2, big)
	if n := len(strings.Join(reportedHops(resp2), "\n")); n > maxHopReport {
		t.Errorf("a report of %d bytes, want at most %d", n, maxHopReport)
	}
}

// FuzzReply: whatever arrives on a resolver's socket (a forged flood, a
// garbled datagram) is checked without a panic.
func FuzzReply(f *testing.F) {
	q := NewQuery(stack.OS, "www.bank.example", md.TypeA, true)
	q.Id = 0x1234
	ok := new(md.Msg)
	ok.SetReply(q)
	reportHops(ok, []string{"[1] asked x"})
	w, _ := ok.Pack()
	f.Add(w)
	f.Add([]byte{0x12, 0x34})
	f.Add([]byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, ok := reply(b, q); ok {
			reportedHops(r)
			if r.Id != q.Id {
				t.Fatalf("accepted id %d for query %d", r.Id, q.Id)
			}
		}
	})
}
