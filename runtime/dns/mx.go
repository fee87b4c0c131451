package dns

import (
	"context"
	"sort"

	md "github.com/miekg/dns"
)

// LookupMX finds the mail servers of domain for another engine (the SMTP
// relay): the addresses of its MX exchanges, most preferred first, each
// resolved through this resolver, so a lab's names never reach the
// operating system's resolver. An exchange without an address record is
// skipped; when none has one, the exchanges' names are returned instead.
// It resolves in the resolver's Mode and stops when ctx is done.
func (r *Resolver) LookupMX(ctx context.Context, domain string) ([]string, error) {
	res, err := r.Resolve(ctx, domain, md.TypeMX, r.Mode, nil)
	if err != nil {
		return nil, err
	}
	var mxs []*md.MX
	for _, rr := range res.Msg.Answer {
		if mx, ok := rr.(*md.MX); ok {
			mxs = append(mxs, mx)
		}
	}
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Preference < mxs[j].Preference })
	var hosts []string
	for _, mx := range mxs {
		if a := r.firstA(ctx, mx.Mx); a != "" {
			hosts = append(hosts, a)
		}
	}
	if len(hosts) == 0 {
		for _, mx := range mxs {
			hosts = append(hosts, mx.Mx)
		}
	}
	return hosts, nil
}

// firstA is the first IPv4 address of name, or "" if it has none or the
// lookup fails.
func (r *Resolver) firstA(ctx context.Context, name string) string {
	res, err := r.Resolve(ctx, name, md.TypeA, r.Mode, nil)
	if err != nil {
		return ""
	}
	for _, rr := range res.Msg.Answer {
		if a, ok := rr.(*md.A); ok {
			return a.A.String()
		}
	}
	return ""
}
