// Package smtp is netplay's SMTP: a client that sends one command per call
// (so a script walks through the course's dialogue and sees every line), a
// server on github.com/emersion/go-smtp that delivers into a mail.Store,
// refuses relaying unless configured, and relays through a persistent-while-
// running outgoing queue with retries. It imports no Starlark; the module
// smtp is runtime/smtp/smtpmod.
package smtp

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/runtime/lineio"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Reply is an SMTP reply: a code and one or more lines of text.
type Reply struct {
	Code  int
	Lines []string
}

// Text is the reply's text, lines joined by "\n".
func (r Reply) Text() string { return strings.Join(r.Lines, "\n") }

// Positive reports a 2xx or 3xx reply.
func (r Reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

func (r Reply) String() string {
	var b strings.Builder
	for i, l := range r.Lines {
		sep := " "
		if i < len(r.Lines)-1 {
			sep = "-"
		}
		fmt.Fprintf(&b, "%d%s%s", r.Code, sep, l)
		if i < len(r.Lines)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// MaxReplyLine bounds one reply line the client reads.
const MaxReplyLine = 4096

// maxReplyLines bounds the lines of one multi-line reply.
const maxReplyLines = 1000

// Client is an SMTP client connection that sends exactly what it is told.
// Close closes it without QUIT.
type Client struct{ *lineio.Client }

// Dial connects to addr and reads the server's greeting.
func Dial(ctx context.Context, st stack.Stack, addr string, timeout time.Duration, trace func(string)) (*Client, Reply, error) {
	return lineio.DialGreeted(ctx, st, addr, timeout, trace, newClient, (*Client).ReadReply)
}

func newClient(lc *lineio.Client) *Client { return &Client{lc} }

// ReadReply reads one (possibly multi-line) reply.
func (c *Client) ReadReply(ctx context.Context) (Reply, error) {
	defer c.Guard(ctx)()
	var rep Reply
	for n := 0; ; n++ {
		line, err := lineio.ReadLine(c.R, MaxReplyLine)
		if err != nil {
			return rep, err
		}
		c.TraceLine("S", line)
		code, more, text, err := ParseReplyLine(line)
		if err != nil {
			return rep, err
		}
		if rep.Code != 0 && code != rep.Code {
			return rep, fmt.Errorf("reply code changed from %d to %d inside a multi-line reply", rep.Code, code)
		}
		rep.Code = code
		rep.Lines = append(rep.Lines, text)
		if !more {
			return rep, nil
		}
		if n > maxReplyLines {
			return rep, fmt.Errorf("reply longer than %d lines", maxReplyLines)
		}
	}
}

// ParseReplyLine splits "250-text" or "250 text" (or a bare "250").
func ParseReplyLine(line string) (code int, more bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", fmt.Errorf("malformed reply %q", line)
	}
	code, err = strconv.Atoi(line[:3])
	if err != nil || code < 100 || code > 599 || line[0] < '1' || line[0] > '5' {
		return 0, false, "", fmt.Errorf("malformed reply %q", line)
	}
	if len(line) == 3 {
		return code, false, "", nil
	}
	switch line[3] {
	case ' ':
		return code, false, line[4:], nil
	case '-':
		return code, true, line[4:], nil
	}
	return 0, false, "", fmt.Errorf("malformed reply %q", line)
}

// Cmd sends a command line and reads its reply.
func (c *Client) Cmd(ctx context.Context, line string) (Reply, error) {
	if err := c.Send(ctx, line); err != nil {
		return Reply{}, err
	}
	return c.ReadReply(ctx)
}

// Data sends DATA and, if the server says 354, the message (dot-stuffed,
// CRLF line ends) and the final ".", returning the last reply.
func (c *Client) Data(ctx context.Context, msg []byte) (Reply, error) {
	rep, err := c.Cmd(ctx, "DATA")
	if err != nil || rep.Code != 354 {
		return rep, err
	}
	lines := DotStuff(msg)
	defer c.Guard(ctx)()
	var buf bytes.Buffer
	for _, l := range lines {
		c.TraceLine("C", l)
		buf.WriteString(l)
		buf.WriteString("\r\n")
	}
	c.TraceLine("C", ".")
	buf.WriteString(".\r\n")
	if _, err := c.Write(buf.Bytes()); err != nil {
		return Reply{}, err
	}
	return c.ReadReply(ctx)
}

// DotStuff splits a message into the lines SMTP sends for it: any line end
// becomes a line break, a line starting with "." gets another "." in front
// (RFC 5321 section 4.5.2), and a final line end adds no empty line.
func DotStuff(msg []byte) []string {
	s := strings.ReplaceAll(string(msg), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") {
			lines[i] = "." + l
		}
	}
	return lines
}
