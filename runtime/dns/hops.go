package dns

import (
	"strings"

	md "github.com/miekg/dns"
)

// hopOption is the EDNS option (from the range for local use, RFC 6891)
// in which a recursive server reports the queries it sent on to answer:
// empty in a query ("tell me"), the trace lines in a reply. It is how a
// resolver's trace shows the hops of a recursive chain that it did not
// make itself.
const hopOption = 65430

// maxHopReport bounds the report a server sends back.
const maxHopReport = 2048

// askHops asks the server q goes to for its hop report.
func askHops(q *md.Msg) {
	opt := q.IsEdns0()
	if opt == nil {
		q.SetEdns0(4096, false)
		opt = q.IsEdns0()
	}
	opt.Option = append(opt.Option, &md.EDNS0_LOCAL{Code: hopOption})
}

// wantsHops reports whether req asks for a hop report.
func wantsHops(req *md.Msg) bool {
	if opt := req.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if o.Option() == hopOption {
				return true
			}
		}
	}
	return false
}

// reportHops puts the trace lines into resp's hop option, keeping the
// first maxHopReport bytes.
func reportHops(resp *md.Msg, lines []string) {
	if len(lines) == 0 {
		return
	}
	data := strings.Join(lines, "\n")
	if len(data) > maxHopReport {
		data = data[:maxHopReport]
	}
	opt := resp.IsEdns0()
	if opt == nil {
		resp.SetEdns0(4096, false)
		opt = resp.IsEdns0()
	}
	opt.Option = append(opt.Option, &md.EDNS0_LOCAL{Code: hopOption, Data: []byte(data)})
}

// reportedHops returns the lines of r's hop report, if any.
func reportedHops(r *md.Msg) []string {
	opt := r.IsEdns0()
	if opt == nil {
		return nil
	}
	for _, o := range opt.Option {
		if l, ok := o.(*md.EDNS0_LOCAL); ok && l.Code == hopOption && len(l.Data) > 0 {
			return strings.Split(string(l.Data), "\n")
		}
	}
	return nil
}
