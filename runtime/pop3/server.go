// Package pop3 is netplay's POP3 (RFC 1939), written by hand: a server over
// a mail.Store and a client that sends one command per call, in plain Go
// (the module pop3 is runtime/pop3/pop3mod). Deletions take effect only when the client QUITs;
// a session that ends any other way leaves the maildrop as it was.
package pop3

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// MaxLine is the longest command line the server reads (RFC 2449 allows
// 255 octets including CRLF).
const MaxLine = 255

// maxErrors is how many bad commands a session may send before it is closed.
const maxErrors = 10

// Config configures a server.
type Config struct {
	Store *mail.Store
	// Users maps user names to passwords; nil accepts any password for any
	// user (a lab convenience).
	Users map[string]string
	// Logf, if set, receives a line per event.
	Logf func(string)
	// IdleTimeout ends a session silent this long (default
	// DefaultIdleTimeout), measured on Clock (default stack.OS).
	IdleTimeout time.Duration
	Clock       stack.Clock
}

// DefaultIdleTimeout is RFC 1939's ten minutes of inactivity after which a
// server may close a session (section 3). Its deletions are not applied,
// and its maildrop lock is released.
const DefaultIdleTimeout = 10 * time.Minute

// Server serves POP3 sessions.
type Server struct {
	cfg    Config
	ln     net.Listener
	mu     sync.Mutex
	locks  map[string]bool
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewServer returns a server; Serve it on a listener.
func NewServer(cfg Config) *Server {
	if cfg.Store == nil {
		cfg.Store = mail.NewStore()
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = stack.OS
	}
	return &Server{cfg: cfg, locks: map[string]bool{}, conns: map[net.Conn]struct{}{}}
}

// Serve accepts connections on ln until Close.
func (s *Server) Serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				s.mu.Lock()
				closed := s.closed
				s.mu.Unlock()
				if closed {
					return
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return
			}
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				c.Close()
				return
			}
			s.conns[c] = struct{}{}
			s.wg.Add(1)
			s.mu.Unlock()
			go func() {
				defer s.wg.Done()
				s.Session(stack.NewIdleConn(c, s.cfg.Clock, s.cfg.IdleTimeout), c)
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
}

// Close stops the server and ends every session (without applying their
// deletions).
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(fmt.Sprintf(format, args...))
	}
}

// ParseCommand splits a command line into its keyword (upper case) and
// arguments. It fails on an empty line, a keyword that is not 3 or 4
// letters, or a line with control characters.
func ParseCommand(line string) (string, []string, error) {
	for i := 0; i < len(line); i++ {
		if c := line[i]; (c < ' ' && c != '\t') || c == 127 {
			return "", nil, fmt.Errorf("control character in command")
		}
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", nil, fmt.Errorf("empty command")
	}
	kw := strings.ToUpper(f[0])
	if len(kw) < 3 || len(kw) > 4 {
		return "", nil, fmt.Errorf("unknown command")
	}
	for i := 0; i < len(kw); i++ {
		if kw[i] < 'A' || kw[i] > 'Z' {
			return "", nil, fmt.Errorf("unknown command")
		}
	}
	return kw, f[1:], nil
}

// readCommand reads one line of at most MaxLine octets.
func readCommand(r *bufio.Reader) (string, bool, error) {
	var line []byte
	long := false
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxLine {
			long = true
		} else {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 && !long {
				return strings.TrimRight(string(line), "\r\n"), false, nil
			}
			return "", long, err
		}
		return strings.TrimRight(string(line), "\r\n"), long, nil
	}
}

type session struct {
	s      *Server
	w      *bufio.Writer
	user   string
	authed bool
	folder *mail.Folder
	msgs   []*mail.Message
	del    []bool
	errs   int
}

func (se *session) reply(format string, args ...any) {
	fmt.Fprintf(se.w, format+"\r\n", args...)
	se.w.Flush()
}

func (se *session) bad(format string, args ...any) {
	se.errs++
	se.reply("-ERR "+format, args...)
}

// Session runs one POP3 session on r and w until QUIT or the end of input.
func (s *Server) Session(r io.Reader, w io.Writer) {
	se := &session{s: s, w: bufio.NewWriter(w)}
	br := bufio.NewReaderSize(r, 512)
	se.reply("+OK POP3 server ready")
	defer se.unlock()
	for {
		line, long, err := readCommand(br)
		if long {
			se.reply("-ERR line too long")
			return
		}
		if err != nil {
			return // dropped: no deletions
		}
		if se.errs >= maxErrors {
			se.reply("-ERR too many errors, closing connection")
			return
		}
		if se.handle(line) {
			return
		}
	}
}

func (se *session) unlock() {
	if se.authed {
		se.s.mu.Lock()
		delete(se.s.locks, se.user)
		se.s.mu.Unlock()
	}
}

// msgArg parses a message-number argument (1-based, not deleted).
func (se *session) msgArg(args []string, i int) (int, bool) {
	if len(args) <= i {
		se.bad("message number required")
		return 0, false
	}
	n, err := strconv.Atoi(args[i])
	if err != nil || n < 1 || n > len(se.msgs) {
		se.bad("no such message")
		return 0, false
	}
	if se.del[n-1] {
		se.bad("message %d already deleted", n)
		return 0, false
	}
	return n, true
}

// handle runs one command and reports whether the session is over.
func (se *session) handle(line string) bool {
	kw, args, err := ParseCommand(line)
	if err != nil {
		se.bad("%v", err)
		return false
	}
	if !se.authed {
		return se.authorization(kw, args, line)
	}
	return se.transaction(kw, args)
}

// authorization runs a command of the AUTHORIZATION state (RFC 1939 §4).
func (se *session) authorization(kw string, args []string, line string) bool {
	switch kw {
	case "USER":
		if len(args) != 1 {
			se.bad("usage: USER name")
			return false
		}
		se.user = strings.ToLower(args[0])
		se.reply("+OK")
	case "PASS":
		se.pass(line)
	case "QUIT":
		se.reply("+OK POP3 server signing off")
		return true
	case "CAPA":
		se.capa()
	case "APOP", "AUTH", "STLS":
		se.bad("%s not supported; use USER and PASS", kw)
	default:
		se.bad("unknown command in the authorization state")
	}
	return false
}

// pass checks the password (the rest of the line: it may hold spaces),
// locks the maildrop and takes the snapshot the session works on.
func (se *session) pass(line string) {
	if se.user == "" {
		se.bad("USER first")
		return
	}
	pw := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line)[4:], " "))
	if want, ok := se.s.cfg.Users[se.user]; se.s.cfg.Users != nil && (!ok || want != pw) {
		se.s.logf("login failed for %s", se.user)
		se.user = ""
		se.bad("invalid user name or password")
		return
	}
	se.s.mu.Lock()
	if se.s.locks[se.user] {
		se.s.mu.Unlock()
		se.bad("maildrop already locked")
		return
	}
	se.s.locks[se.user] = true
	se.s.mu.Unlock()
	se.authed = true
	u := se.s.cfg.Store.User(se.user, true)
	se.folder = u.Folder(mail.Inbox)
	se.msgs = se.folder.Snapshot()
	se.del = make([]bool, len(se.msgs))
	se.s.logf("%s logged in: %d messages", se.user, len(se.msgs))
	se.reply("+OK user successfully logged on")
}

func (se *session) capa() {
	se.reply("+OK Capability list follows\r\nUSER\r\nTOP\r\nUIDL\r\n.")
}

// transaction runs a command of the TRANSACTION state (RFC 1939 §5).
func (se *session) transaction(kw string, args []string) bool {
	switch kw {
	case "STAT":
		n, size := se.count()
		se.reply("+OK %d %d", n, size)
	case "LIST", "UIDL":
		se.list(kw, args)
	case "RETR", "TOP":
		se.retrieve(kw, args)
	case "DELE":
		n, ok := se.msgArg(args, 0)
		if !ok {
			return false
		}
		se.del[n-1] = true
		se.reply("+OK message %d deleted", n)
	case "RSET":
		for i := range se.del {
			se.del[i] = false
		}
		se.reply("+OK maildrop has %d messages", len(se.msgs))
	case "NOOP":
		se.reply("+OK")
	case "QUIT":
		se.update()
		se.reply("+OK POP3 server signing off")
		return true
	case "CAPA":
		se.capa()
	case "USER", "PASS":
		se.bad("already logged in")
	default:
		se.bad("unknown command")
	}
	return false
}

// count is the number and total size of the messages not deleted.
func (se *session) count() (n, size int) {
	for i, m := range se.msgs {
		if !se.del[i] {
			n++
			size += len(m.Raw)
		}
	}
	return n, size
}

// list answers LIST or UIDL: for one message, or a multi-line listing of
// every message not deleted.
func (se *session) list(kw string, args []string) {
	if len(args) > 0 {
		n, ok := se.msgArg(args, 0)
		if !ok {
			return
		}
		if kw == "LIST" {
			se.reply("+OK %d %d", n, len(se.msgs[n-1].Raw))
		} else {
			se.reply("+OK %d %s", n, se.uidl(n))
		}
		return
	}
	var b strings.Builder
	if kw == "LIST" {
		n, size := se.count()
		fmt.Fprintf(&b, "+OK %d messages (%d octets)\r\n", n, size)
	} else {
		b.WriteString("+OK\r\n")
	}
	for i, m := range se.msgs {
		if se.del[i] {
			continue
		}
		if kw == "LIST" {
			fmt.Fprintf(&b, "%d %d\r\n", i+1, len(m.Raw))
		} else {
			fmt.Fprintf(&b, "%d %s\r\n", i+1, se.uidl(i+1))
		}
	}
	b.WriteString(".")
	se.reply("%s", b.String())
}

// retrieve answers RETR (the whole message) or TOP (its header and the
// first lines of its body), dot-stuffed.
func (se *session) retrieve(kw string, args []string) {
	n, ok := se.msgArg(args, 0)
	if !ok {
		return
	}
	raw := se.msgs[n-1].Raw
	if kw == "TOP" {
		if len(args) < 2 {
			se.bad("usage: TOP msg lines")
			return
		}
		lines, err := strconv.Atoi(args[1])
		if err != nil || lines < 0 {
			se.bad("bad line count")
			return
		}
		raw = top(raw, lines)
		se.w.WriteString("+OK\r\n")
	} else {
		fmt.Fprintf(se.w, "+OK %d octets\r\n", len(raw))
	}
	WriteDotStuffed(se.w, raw)
	se.w.WriteString(".\r\n")
	se.w.Flush()
	if kw == "RETR" {
		se.s.logf("%s retrieved message %d", se.user, n)
	}
}

// update removes the messages marked deleted: the UPDATE state QUIT enters
// (a dropped connection deletes nothing).
func (se *session) update() {
	set := map[*mail.Message]bool{}
	for i, d := range se.del {
		if d {
			set[se.msgs[i]] = true
		}
	}
	if len(set) > 0 {
		se.folder.Remove(set)
		se.s.logf("%s deleted %d messages at QUIT", se.user, len(set))
	}
}

func (se *session) uidl(n int) string {
	return fmt.Sprintf("%d.%d", se.folder.UIDValidity, se.msgs[n-1].UID)
}

// top returns a message's header, the blank line and the first n body lines.
func top(raw []byte, n int) []byte {
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 {
		return raw
	}
	out := raw[:i+4]
	body := raw[i+4:]
	for ; n > 0 && len(body) > 0; n-- {
		j := bytes.Index(body, []byte("\r\n"))
		if j < 0 {
			out = append(out[:len(out):len(out)], body...)
			break
		}
		out = append(out[:len(out):len(out)], body[:j+2]...)
		body = body[j+2:]
	}
	return out
}

// WriteDotStuffed writes raw as multi-line response lines: CRLF line ends,
// lines starting with "." doubled (RFC 1939 section 3). It does not write
// the final ".".
func WriteDotStuffed(w *bufio.Writer, raw []byte) {
	s := strings.ReplaceAll(string(raw), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ".") {
			w.WriteByte('.')
		}
		w.WriteString(l)
		w.WriteString("\r\n")
	}
}
