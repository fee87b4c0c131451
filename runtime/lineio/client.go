package lineio

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// Client is the connection of a line protocol's client (SMTP, POP3): every
// operation is bounded by Timeout on the stack's clock and by a context,
// and each line may be traced as the course shows it ("C: HELO crepes.fr").
type Client struct {
	conn  net.Conn
	R     *bufio.Reader // the server's lines
	clock stack.Clock

	Timeout time.Duration // per operation; 0 for none
	// Trace, if set, is called with each line as it crosses the wire:
	// "S: 220 hamburger.edu", "C: HELO crepes.fr".
	Trace func(line string)
	Addr  string
}

// Dial connects to addr within timeout (none if 0).
func Dial(ctx context.Context, st stack.Stack, addr string, timeout time.Duration, trace func(string)) (*Client, error) {
	dctx := ctx
	if timeout > 0 {
		var cancel func()
		dctx, cancel = stack.WithTimeout(ctx, st, timeout)
		defer cancel()
	}
	conn, err := st.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, R: bufio.NewReaderSize(conn, 4096), clock: st, Timeout: timeout, Trace: trace, Addr: addr}, nil
}

// DialGreeted is a line-protocol client's Dial: it connects (as Dial),
// wraps the connection in the protocol's client and reads the server's
// greeting with greet, closing the connection if that fails.
func DialGreeted[C, R any](ctx context.Context, st stack.Stack, addr string, timeout time.Duration, trace func(string),
	wrap func(*Client) C, greet func(C, context.Context) (R, error)) (C, R, error) {
	var noC C
	var noR R
	lc, err := Dial(ctx, st, addr, timeout, trace)
	if err != nil {
		return noC, noR, err
	}
	c := wrap(lc)
	rep, err := greet(c, ctx)
	if err != nil {
		lc.Close()
		return noC, noR, err
	}
	return c, rep, nil
}

// Send writes one command line (traced as the client's), refusing one
// with a line break in it.
func (c *Client) Send(ctx context.Context, line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("command has a line break")
	}
	defer c.Guard(ctx)()
	c.TraceLine("C", line)
	_, err := c.Write([]byte(line + "\r\n"))
	return err
}

// Guard bounds an operation by the client's timeout and by ctx; call what
// it returns when the operation is over.
func (c *Client) Guard(ctx context.Context) (done func()) {
	if c.Timeout > 0 {
		c.conn.SetDeadline(c.clock.Now().Add(c.Timeout))
	} else {
		c.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	return func() { stop() }
}

// TraceLine traces a line that went from dir ("C" the client, "S" the
// server).
func (c *Client) TraceLine(dir, line string) {
	if c.Trace != nil {
		c.Trace(dir + ": " + line)
	}
}

// Write sends p as it is.
func (c *Client) Write(p []byte) (int, error) { return c.conn.Write(p) }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// LocalAddr is the client's end of the connection.
func (c *Client) LocalAddr() net.Addr { return c.conn.LocalAddr() }
