package dns

import (
	"context"
	"net"
	"net/netip"
	"time"

	md "github.com/miekg/dns"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Lookup is a host's stub resolver: it asks server ("ip:port") for name's
// A records with RD set, as a host configured with that name server does,
// and follows the aliases in the reply, asking again for the last alias
// when the server stops at a CNAME. It keeps no cache (glibc's resolver
// keeps none either: the name server caches). Failures are *net.DNSError,
// as from the operating system's resolver, so every module reports "no
// such host" the same way on both stacks.
func Lookup(ctx context.Context, st stack.Stack, server, name string) ([]netip.Addr, error) {
	c := &Client{Stack: st}
	cur := md.CanonicalName(name)
	seen := map[string]bool{}
	for hops := 0; ; hops++ {
		if seen[cur] || hops > MaxCNAMEs {
			return nil, &net.DNSError{Err: "CNAME loop or chain too long", Name: name, Server: server}
		}
		seen[cur] = true
		q := NewQuery(st, cur, md.TypeA, true)
		ex, err := c.Exchange(ctx, q, server, QueryOptions{Timeout: 2 * time.Second, Retries: 2, Op: "lookup"})
		if err != nil {
			return nil, &net.DNSError{Err: errMsg(err), Name: name, Server: server, IsTimeout: isTimeout(err) || neterr.Kind(err) == neterr.KindTimeout}
		}
		r := ex.Reply
		switch r.Rcode {
		case md.RcodeSuccess:
		case md.RcodeNameError:
			return nil, &net.DNSError{Err: "no such host", Name: name, Server: server, IsNotFound: true}
		default:
			return nil, &net.DNSError{Err: "server answered " + RcodeName(r.Rcode), Name: name, Server: server, IsTemporary: r.Rcode == md.RcodeServerFailure}
		}
		_, final, alias := followAnswer(r.Answer, cur, md.TypeA)
		if alias == loopMark {
			return nil, &net.DNSError{Err: "CNAME loop", Name: name, Server: server}
		}
		if len(final) > 0 {
			var addrs []netip.Addr
			for _, rr := range final {
				if a, ok := netip.AddrFromSlice(rr.(*md.A).A.To4()); ok {
					addrs = append(addrs, a)
				}
			}
			return addrs, nil
		}
		if alias == "" {
			return nil, &net.DNSError{Err: "no address for this name", Name: name, Server: server, IsNotFound: true}
		}
		cur = alias // the server stopped at an alias: ask for its target
	}
}
