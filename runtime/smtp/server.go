package smtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// MXResolver finds the mail servers of a domain: host names (or
// "host:port"), most preferred first. A dns resolver can offer it so that
// smtp.serve(relay=True, resolver=...) finds the next server by MX lookup.
type MXResolver interface {
	LookupMX(ctx context.Context, domain string) ([]string, error)
}

// MXFunc adapts a function to MXResolver.
type MXFunc func(ctx context.Context, domain string) ([]string, error)

func (f MXFunc) LookupMX(ctx context.Context, domain string) ([]string, error) { return f(ctx, domain) }

// Relay says where mail for other domains goes.
type Relay struct {
	Routes map[string]string // domain (or "*") -> "host:port"
	MX     MXResolver        // used for domains without a route
	MXPort int               // port for MX hosts given without one (25)
}

// Envelope is what the SMTP dialogue says about a message.
type Envelope struct {
	From string
	To   []string
	Helo string
	Peer string // the client's address
	ID   string
}

// Verdict is what a handler decides about a message.
type Verdict struct {
	Code int    // 0: accept as usual; 2xx accept with Text; 4xx/5xx refuse
	Text string // reply text
	Drop bool   // accept but do not deliver
}

// Config configures a server.
type Config struct {
	Domain    string
	Locals    []string // more domains delivered locally
	Users     []string // if set, the only local users that exist
	Store     *mail.Store
	MaxBytes  int64 // 0: no limit
	MaxLine   int   // longest command or text line (default 1000)
	Relay     *Relay
	Handler   func(env Envelope, raw []byte) (Verdict, error)
	RetryBase time.Duration // first retry delay (default 1s); doubles each time
	RetryMax  time.Duration // longest delay (default 60s)
	Timeout   time.Duration // for each relay connection step (default 30s)
	// IdleTimeout disconnects a client silent this long, on the stack's
	// clock (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Logf, if set, also receives every log line.
	Logf func(string)
}

// Server is a running SMTP server.
type Server struct {
	cfg   Config
	st    stack.Stack
	ln    net.Listener
	srv   *gosmtp.Server
	spool *mail.Spool

	ctx    context.Context
	cancel func()
	wg     sync.WaitGroup

	mu       sync.Mutex
	log      []string
	seq      int
	inflight map[string]bool
	timers   map[string]stack.Timer
	stopped  bool
}

// DefaultIdleTimeout is RFC 5321's (section 4.5.3.2) five minutes a server
// waits for the next command.
const DefaultIdleTimeout = 5 * time.Minute

// Serve starts a server on ln. Mail left in the store's queue for this
// domain by an earlier server is picked up again.
func Serve(st stack.Stack, ln net.Listener, cfg Config) *Server {
	if cfg.MaxLine == 0 {
		cfg.MaxLine = 1000
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 60 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Store == nil {
		cfg.Store = mail.NewStore()
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	s := &Server{cfg: cfg, st: st, ln: ln, spool: cfg.Store.Spool(strings.ToLower(cfg.Domain)),
		inflight: map[string]bool{}, timers: map[string]stack.Timer{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	gs := gosmtp.NewServer(&backend{s})
	gs.Domain = cfg.Domain
	gs.MaxMessageBytes = cfg.MaxBytes
	gs.MaxLineLength = cfg.MaxLine
	gs.MaxRecipients = 100
	gs.ErrorLog = log.New(io.Discard, "", 0)
	s.srv = gs
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// go-smtp's own ReadTimeout reads the wall clock, which would not
		// work in the lab: the deadline comes from the stack's clock.
		gs.Serve(&courseListener{Listener: stack.IdleListener(ln, st, cfg.IdleTimeout), domain: cfg.Domain})
	}()
	for _, it := range s.spool.Items() {
		s.logf("resuming queued message %s for %s", it.ID, strings.Join(it.To, ", "))
		s.schedule(it.ID, 0)
	}
	return s
}

// Addr is where the server listens.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Domain is the domain the server receives mail for.
func (s *Server) Domain() string { return s.cfg.Domain }

// Clock is the clock of the server's stack, which its retries follow.
func (s *Server) Clock() stack.Clock { return s.st }

// Stop closes the listener and every connection, and stops relaying. Queued
// mail stays in the store's queue for the next server on it.
func (s *Server) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
	s.mu.Unlock()
	s.cancel()
	s.srv.Close()
	s.ln.Close() // Serve may not have registered it with go-smtp yet
	s.wg.Wait()
}

// Log returns what the server has done, one line per event.
func (s *Server) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// Queue returns the outgoing queue.
func (s *Server) Queue() []mail.QueueItem { return s.spool.Items() }

// Flush retries every queued message now.
func (s *Server) Flush() {
	for _, it := range s.spool.Items() {
		s.schedule(it.ID, 0)
	}
}

// WaitQueue waits until the queue is empty or ctx is done; it reports
// whether the queue emptied.
func (s *Server) WaitQueue(ctx context.Context) bool {
	for {
		if s.spool.Len() == 0 {
			return true
		}
		if err := s.st.Sleep(ctx, 20*time.Millisecond); err != nil {
			return s.spool.Len() == 0
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.log = append(s.log, line)
	if len(s.log) > 10000 {
		s.log = s.log[len(s.log)-10000:]
	}
	s.mu.Unlock()
	if s.cfg.Logf != nil {
		s.cfg.Logf(line)
	}
}

func (s *Server) nextID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%d", s.seq)
}

// isLocal reports whether a domain is delivered into the store.
func (s *Server) isLocal(domain string) bool {
	if domain == "" || strings.EqualFold(domain, s.cfg.Domain) {
		return true
	}
	for _, d := range s.cfg.Locals {
		if strings.EqualFold(domain, d) {
			return true
		}
	}
	return false
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

type backend struct{ s *Server }

func (b *backend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *gosmtp.Conn
	from string
	to   []string
}

func (se *session) Reset()        { se.from, se.to = "", nil }
func (se *session) Logout() error { return nil }

func (se *session) Mail(from string, opts *gosmtp.MailOptions) error {
	se.from, se.to = from, nil
	return nil
}

func smtpErr(code int, text string) *gosmtp.SMTPError {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.NoEnhancedCode, Message: text}
}

func (se *session) Rcpt(to string, opts *gosmtp.RcptOptions) error {
	s := se.s
	d := domainOf(to)
	if s.isLocal(d) {
		if len(s.cfg.Users) > 0 {
			u := mail.UserOf(to)
			ok := false
			for _, name := range s.cfg.Users {
				if strings.EqualFold(name, u) {
					ok = true
				}
			}
			if !ok {
				s.logf("refused RCPT %s: no such user", to)
				return smtpErr(550, fmt.Sprintf("%s... User unknown", to))
			}
		}
	} else if s.cfg.Relay == nil {
		s.logf("refused RCPT %s: relaying denied", to)
		return smtpErr(550, fmt.Sprintf("%s... Relaying denied: %s is not %s", to, d, s.cfg.Domain))
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	s := se.s
	body, err := io.ReadAll(r)
	if err != nil {
		// too large, or the client went away mid-DATA: nothing is kept
		if errors.Is(err, gosmtp.ErrDataTooLarge) || err == gosmtp.ErrDataTooLarge {
			s.logf("refused message from %s: larger than %d bytes", se.from, s.cfg.MaxBytes)
			return smtpErr(552, fmt.Sprintf("Message too big: the limit is %d bytes", s.cfg.MaxBytes))
		}
		s.logf("discarded partial message from %s: %v", se.from, err)
		return err
	}
	id := s.nextID()
	peer := se.conn.Conn().RemoteAddr().String()
	ip := peer
	if h, _, err := net.SplitHostPort(peer); err == nil {
		ip = h
	}
	now := s.st.Now()
	helo := se.conn.Hostname()
	rcptFor := ""
	if len(se.to) == 1 {
		rcptFor = fmt.Sprintf("\r\n\tfor <%s>", se.to[0])
	}
	received := fmt.Sprintf("Received: from %s ([%s])\r\n\tby %s (netplay) with SMTP id %s%s;\r\n\t%s\r\n",
		helo, ip, s.cfg.Domain, id, rcptFor, now.Format(time.RFC1123Z))
	raw := append([]byte(received), mail.CRLF(body)...)
	env := Envelope{From: se.from, To: append([]string(nil), se.to...), Helo: helo, Peer: peer, ID: id}
	reply := "Message accepted for delivery"
	if s.cfg.Handler != nil {
		v, err := s.cfg.Handler(env, raw)
		if err != nil {
			s.logf("handler failed on message %s: %v", id, err)
			return smtpErr(451, "Requested action aborted: local error in processing")
		}
		switch {
		case v.Code >= 400:
			s.logf("handler refused message %s from %s: %d %s", id, se.from, v.Code, v.Text)
			return smtpErr(v.Code, v.Text)
		case v.Code >= 200 && v.Text != "":
			reply = v.Text
		}
		if v.Drop {
			s.logf("handler dropped message %s from %s", id, se.from)
			return smtpErr(250, reply)
		}
	}
	var remote []string
	for _, to := range se.to {
		if s.isLocal(domainOf(to)) {
			if _, err := s.cfg.Store.Deliver(mail.UserOf(to), mail.Inbox, raw, now); err != nil {
				return smtpErr(451, "Requested action aborted: "+err.Error())
			}
			s.logf("delivered message %s from %s to %s (local)", id, se.from, to)
		} else {
			remote = append(remote, to)
		}
	}
	if len(remote) > 0 {
		s.spool.Add(&mail.QueueItem{ID: id, From: se.from, To: remote, Raw: raw, Queued: now, Next: now})
		s.logf("queued message %s from %s for %s", id, se.from, strings.Join(remote, ", "))
		s.schedule(id, 0)
	}
	return smtpErr(250, reply)
}

// schedule runs a delivery attempt for item id after d.
func (s *Server) schedule(id string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	if t := s.timers[id]; t != nil {
		t.Stop()
	}
	s.timers[id] = s.st.AfterFunc(d, func() { s.attempt(id) })
}

func (s *Server) attempt(id string) {
	s.mu.Lock()
	if s.stopped || s.inflight[id] {
		s.mu.Unlock()
		return
	}
	delete(s.timers, id)
	s.inflight[id] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, id)
		s.mu.Unlock()
		s.wg.Done()
	}()
	var item mail.QueueItem
	if !s.spool.Update(id, func(it *mail.QueueItem) { item = *it; item.To = append([]string(nil), it.To...) }) {
		return
	}
	order, byHop, failures := s.byHop(item.To)
	remaining := map[string]bool{}
	for _, to := range item.To {
		remaining[to] = true
	}
	for _, key := range order {
		rcpts := byHop[key]
		var lastErr error
		for _, hop := range strings.Split(key, ",") {
			done, perm, err := s.deliver(hop, item, rcpts)
			for _, to := range done {
				delete(remaining, to)
				s.logf("relayed message %s to %s via %s", id, to, hop)
			}
			for to, why := range perm {
				delete(remaining, to)
				s.logf("bounced message %s for %s: %s", id, to, why)
			}
			lastErr = err
			if err == nil {
				break
			}
			s.logf("delivery of message %s via %s failed: %v", id, hop, err)
		}
		if lastErr != nil {
			failures = append(failures, lastErr.Error())
		}
	}
	if len(remaining) == 0 {
		s.spool.Remove(id)
		return
	}
	s.retryLater(id, item.To, remaining, failures)
}

// byHop groups recipients by their next hops (in the order they first
// appear) and lists those that have none.
func (s *Server) byHop(to []string) (order []string, byHop map[string][]string, failures []string) {
	byHop = map[string][]string{}
	for _, rcpt := range to {
		hops, err := s.route(domainOf(rcpt))
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", rcpt, err))
			continue
		}
		key := strings.Join(hops, ",")
		if _, ok := byHop[key]; !ok {
			order = append(order, key)
		}
		byHop[key] = append(byHop[key], rcpt)
	}
	return order, byHop, failures
}

// retryLater keeps the recipients still remaining in the queue item id and
// schedules its next attempt, backing off exponentially up to RetryMax.
func (s *Server) retryLater(id string, to []string, remaining map[string]bool, failures []string) {
	var left []string
	for _, rcpt := range to {
		if remaining[rcpt] {
			left = append(left, rcpt)
		}
	}
	var delay time.Duration
	s.spool.Update(id, func(it *mail.QueueItem) {
		it.To = left
		it.Attempts++
		delay = s.cfg.RetryBase << min(it.Attempts-1, 20)
		if delay > s.cfg.RetryMax || delay <= 0 {
			delay = s.cfg.RetryMax
		}
		it.Next = s.st.Now().Add(delay)
		it.LastError = strings.Join(failures, "; ")
	})
	s.logf("message %s deferred (%s); retry in %s", id, strings.Join(failures, "; "), delay)
	s.schedule(id, delay)
}

// route returns the next hops for a domain.
func (s *Server) route(domain string) ([]string, error) {
	r := s.cfg.Relay
	if r == nil {
		return nil, fmt.Errorf("no relay configured")
	}
	if hop, ok := r.Routes[domain]; ok {
		return []string{hop}, nil
	}
	if hop, ok := r.Routes["*"]; ok {
		return []string{hop}, nil
	}
	if r.MX == nil {
		return nil, fmt.Errorf("no route to %s and no resolver for MX lookup", domain)
	}
	ctx, cancel := stack.WithTimeout(s.ctx, s.st, s.cfg.Timeout)
	defer cancel()
	hosts, err := r.MX.LookupMX(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("MX lookup for %s: %v", domain, err)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("no MX for %s", domain)
	}
	port := r.MXPort
	if port == 0 {
		port = 25
	}
	var out []string
	for _, h := range hosts {
		h = strings.TrimSuffix(h, ".")
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, fmt.Sprint(port))
		}
		out = append(out, h)
	}
	return out, nil
}

// deliver sends item to rcpts through hop. It returns the recipients
// accepted, those refused for good (5xx) and, if the rest must wait, why.
func (s *Server) deliver(hop string, item mail.QueueItem, rcpts []string) (done []string, perm map[string]string, err error) {
	perm = map[string]string{}
	ctx := s.ctx
	c, greet, err := Dial(ctx, s.st, hop, s.cfg.Timeout, nil)
	if err != nil {
		return nil, perm, err
	}
	defer c.Close()
	if greet.Code != 220 {
		return nil, perm, fmt.Errorf("greeting %s", greet)
	}
	step := func(line string) (Reply, error) {
		rep, err := c.Cmd(ctx, line)
		if err != nil {
			return rep, err
		}
		return rep, nil
	}
	rep, err := step("EHLO " + s.cfg.Domain)
	if err == nil && rep.Code/100 == 5 {
		rep, err = step("HELO " + s.cfg.Domain)
	}
	if err != nil {
		return nil, perm, err
	}
	if rep.Code != 250 {
		return nil, perm, fmt.Errorf("HELO: %s", rep)
	}
	if rep, err = step("MAIL FROM:<" + item.From + ">"); err != nil {
		return nil, perm, err
	}
	if rep.Code != 250 {
		if rep.Code/100 == 5 {
			for _, to := range rcpts {
				perm[to] = rep.String()
			}
			return nil, perm, nil
		}
		return nil, perm, fmt.Errorf("MAIL: %s", rep)
	}
	var accepted []string
	var tempErr error
	for _, to := range rcpts {
		rep, err := step("RCPT TO:<" + to + ">")
		if err != nil {
			return nil, perm, err
		}
		switch rep.Code / 100 {
		case 2:
			accepted = append(accepted, to)
		case 5:
			perm[to] = rep.String()
		default:
			tempErr = fmt.Errorf("RCPT %s: %s", to, rep)
		}
	}
	if len(accepted) == 0 {
		step("QUIT")
		return nil, perm, tempErr
	}
	rep, err = c.Data(ctx, item.Raw)
	if err != nil {
		return nil, perm, err
	}
	switch rep.Code / 100 {
	case 2:
		step("QUIT")
		return accepted, perm, tempErr
	case 5:
		for _, to := range accepted {
			perm[to] = rep.String()
		}
		step("QUIT")
		return nil, perm, tempErr
	}
	return nil, perm, fmt.Errorf("DATA: %s", rep)
}

// courseListener wraps each connection so the server speaks the way the
// course's sample interaction does ("250 Hello crepes.fr, pleased to meet
// you", "250 alice@crepes.fr... Sender ok"), instead of go-smtp's own
// wording, and without enhanced status codes.
type courseListener struct {
	net.Listener
	domain string
}

func (l *courseListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &courseConn{Conn: c, domain: l.domain}, nil
}

type courseConn struct {
	net.Conn
	domain  string
	mu      sync.Mutex
	pending []byte
}

var (
	reEnhanced = regexp.MustCompile(`^(\d{3})([ -])\d\.\d{1,3}\.\d{1,3} `)
	reGreeting = regexp.MustCompile(`^220 (\S+) ESMTP Service Ready$`)
	reHelo     = regexp.MustCompile(`^250([ -])Hello (.*)$`)
	reMail     = regexp.MustCompile(`^250 Roger, accepting mail from <(.*)>$`)
	reRcpt     = regexp.MustCompile(`^250 I'll make sure <(.*)> gets this$`)
)

// Rewrite maps one of go-smtp's reply lines to the course's wording.
func Rewrite(line, domain string) (string, bool) {
	if line == "250-ENHANCEDSTATUSCODES" {
		return "", false
	}
	line = reEnhanced.ReplaceAllString(line, "$1$2")
	switch {
	case reGreeting.MatchString(line):
		return reGreeting.ReplaceAllString(line, "220 $1"), true
	case reHelo.MatchString(line):
		return reHelo.ReplaceAllString(line, "250${1}Hello $2, pleased to meet you"), true
	case reMail.MatchString(line):
		return reMail.ReplaceAllString(line, "250 $1... Sender ok"), true
	case reRcpt.MatchString(line):
		return reRcpt.ReplaceAllString(line, "250 $1 ... Recipient ok"), true
	case strings.HasPrefix(line, "354 "):
		return `354 Enter mail, end with "." on a line by itself`, true
	case strings.HasPrefix(line, "502 ") && (strings.HasPrefix(line[4:], "Missing ") || strings.HasPrefix(line[4:], "Please introduce")):
		// a command out of sequence is 503 (RFC 5321 section 4.2.4)
		return "503 " + line[4:], true
	case line == "501 Bad command":
		// go-smtp's answer to a command word it cannot parse
		return "500 Syntax error, command unrecognized", true
	case line == "221 Bye":
		return "221 " + domain + " closing connection", true
	}
	return line, true
}

func (c *courseConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = append(c.pending, p...)
	var out []byte
	for {
		i := bytes.IndexByte(c.pending, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(c.pending[:i]), "\r")
		c.pending = c.pending[i+1:]
		if l, ok := Rewrite(line, c.domain); ok {
			out = append(out, l...)
			out = append(out, '\r', '\n')
		}
	}
	if len(out) > 0 {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
