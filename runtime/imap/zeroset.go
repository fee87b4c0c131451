package imap

import (
	"bytes"
	"net"
	"strings"
	"sync"
)

// go-imap answers a sequence set holding 0 ("FETCH 0") with NO [SERVERBUG]:
// its parser's error is not a syntax error to it. It is the client's
// mistake (RFC 9051: message numbers start at 1), so zeroSetConn watches
// the commands for such sets and turns that answer into BAD.
type zeroSetConn struct {
	net.Conn
	mu   sync.Mutex
	line []byte          // the command line read so far
	bad  map[string]bool // tags of commands with a 0 in their set
}

func zeroSetListener(ln net.Listener) net.Listener { return &zeroSetLn{ln} }

type zeroSetLn struct{ net.Listener }

func (l *zeroSetLn) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &zeroSetConn{Conn: c, bad: map[string]bool{}}, nil
}

var numCommands = map[string]bool{"FETCH": true, "STORE": true, "COPY": true, "MOVE": true}

func (c *zeroSetConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range p[:n] {
		if b != '\n' {
			if len(c.line) < 512 { // a set is near the start; literals are not read here
				c.line = append(c.line, b)
			}
			continue
		}
		f := strings.Fields(string(c.line))
		c.line = c.line[:0]
		if len(f) < 3 {
			continue
		}
		i := 1
		if strings.EqualFold(f[1], "UID") {
			i = 2
		}
		if i+1 < len(f) && numCommands[strings.ToUpper(f[i])] && hasZero(f[i+1]) {
			c.bad[f[0]] = true
		}
	}
	return n, err
}

// hasZero tells whether a sequence set names message 0.
func hasZero(set string) bool {
	for _, r := range strings.Split(set, ",") {
		for _, n := range strings.Split(r, ":") {
			if strings.HasPrefix(n, "0") {
				return true
			}
		}
	}
	return false
}

func (c *zeroSetConn) Write(p []byte) (int, error) {
	n := len(p)
	c.mu.Lock()
	for tag := range c.bad {
		old := []byte(tag + " NO [SERVERBUG] Internal server error\r\n")
		if bytes.Contains(p, old) {
			p = bytes.Replace(p, old, []byte(tag+" BAD [CLIENTBUG] Invalid sequence set: message numbers start at 1\r\n"), 1)
			delete(c.bad, tag)
		}
	}
	c.mu.Unlock()
	_, err := c.Conn.Write(p)
	return n, err
}
