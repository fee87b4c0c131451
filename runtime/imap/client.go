package imap

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// Dial connects to an IMAP server on st within timeout. trace, if not nil,
// is given each protocol line as "S: …" or "C: …".
func Dial(ctx context.Context, st stack.Stack, addr string, timeout time.Duration, trace func(string)) (net.Conn, error) {
	dctx, cancel := stack.WithTimeout(ctx, st, timeout)
	defer cancel()
	conn, err := st.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if trace != nil {
		conn = &traceConn{Conn: conn, print: trace}
	}
	return conn, nil
}

// traceConn prints each protocol line as it crosses the connection.
type traceConn struct {
	net.Conn
	print      func(string)
	mu         sync.Mutex
	rbuf, wbuf []byte
}

func (t *traceConn) emit(buf *[]byte, p []byte, dir string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	*buf = append(*buf, p...)
	for {
		i := bytes.IndexByte(*buf, '\n')
		if i < 0 {
			break
		}
		t.print(dir + ": " + strings.TrimRight(string((*buf)[:i]), "\r"))
		*buf = (*buf)[i+1:]
	}
}

func (t *traceConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.emit(&t.rbuf, p[:n], "S")
	}
	return n, err
}

func (t *traceConn) Write(p []byte) (int, error) {
	t.emit(&t.wbuf, p, "C")
	return t.Conn.Write(p)
}

// ParseNumSet reads "1", "1:3,5", "2:*" into ranges (0 stands for "*").
func ParseNumSet(s string) ([][2]uint32, error) {
	if s == "" {
		return nil, fmt.Errorf("empty message set")
	}
	var out [][2]uint32
	num := func(x string) (uint32, error) {
		if x == "*" {
			return 0, nil
		}
		n, err := strconv.ParseUint(x, 10, 32)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("bad message number %q", x)
		}
		return uint32(n), nil
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, ":")
		start, err := num(a)
		if err != nil {
			return nil, err
		}
		stop := start
		if isRange {
			if stop, err = num(b); err != nil {
				return nil, err
			}
		}
		out = append(out, [2]uint32{start, stop})
	}
	return out, nil
}
