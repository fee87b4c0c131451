package mail

import (
	"net/netip"
	"strings"
	"time"

	netmail "net/mail"
)

// Hop is one Received: header field: one server's note of where it got the
// message from.
type Hop struct {
	From        string // the name the sending side gave (HELO), as claimed
	FromComment string // the receiving server's own note: usually the real address
	IP          string // the first IP address found in the from clause's comment
	By          string // the server that received it
	With        string // the protocol (SMTP, ESMTP…)
	ID          string
	For         string
	Date        string
	Time        time.Time // zero if Date does not parse
	Raw         string
}

var receivedKeys = map[string]bool{"from": true, "by": true, "via": true, "with": true, "id": true, "for": true}

// ParseReceived reads a Received: field value (RFC 5321 section 4.4):
//
//	from crepes.fr (localhost [127.0.0.1]) by hamburger.edu with SMTP id 1 for <bob@hamburger.edu>; Mon, 2 Jan 2006 15:04:05 +0000
//
// Keywords are case-insensitive; unknown words join the clause before them.
// It never fails: what it cannot place is left in Raw.
func ParseReceived(v string) Hop {
	h := Hop{Raw: v}
	clauses := v
	if i := strings.LastIndexByte(v, ';'); i >= 0 {
		clauses = v[:i]
		h.Date = strings.TrimSpace(v[i+1:])
		if t, err := netmail.ParseDate(h.Date); err == nil {
			h.Time = t
		}
	}
	key := ""
	vals := map[string][]string{}
	comments := map[string][]string{}
	s := clauses
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		if s[0] == '(' {
			c, rest := readComment(s)
			comments[key] = append(comments[key], c)
			s = rest
			continue
		}
		end := strings.IndexAny(s, " \t\r\n(")
		if end < 0 {
			end = len(s)
		}
		w := s[:end]
		s = s[end:]
		if lw := strings.ToLower(w); receivedKeys[lw] {
			key = lw
			continue
		}
		vals[key] = append(vals[key], w)
	}
	get := func(k string) string { return strings.Join(vals[k], " ") }
	h.From, h.By, h.With, h.ID = get("from"), get("by"), get("with"), get("id")
	h.For = strings.Trim(get("for"), "<>")
	h.FromComment = strings.Join(comments["from"], " ")
	h.IP = firstIP(h.FromComment)
	if h.IP == "" {
		h.IP = firstIP(h.From)
	}
	return h
}

// readComment reads a parenthesized comment with nesting and backslash
// escapes, returning its text without the outer parentheses.
func readComment(s string) (string, string) {
	depth := 0
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			continue
		case c == '(':
			depth++
			if depth == 1 {
				continue
			}
		case c == ')':
			depth--
			if depth == 0 {
				return b.String(), s[i+1:]
			}
		}
		b.WriteByte(c)
	}
	return b.String(), ""
}

// firstIP finds an IP address in text such as "localhost [127.0.0.1]" or
// "[129.94.242.19] == wagner".
func firstIP(s string) string {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '[' || r == ']' || r == '(' || r == ')' || r == ',' || r == '='
	}) {
		w = strings.TrimPrefix(w, "IPv6:")
		if a, err := netip.ParseAddr(w); err == nil {
			return a.String()
		}
	}
	return ""
}
