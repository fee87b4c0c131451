package stack

import (
	"net"
	"sync/atomic"
	"time"
)

// IdleListener wraps ln so that a connection it accepts is closed by its
// next Read (which fails with a timeout) once it has been idle for idle,
// measured on clk: in the lab, lab time. Deadlines a protocol library sets
// on the connection by the wall clock (go-imap does) are carried over to
// clk too, and cannot make a read wait longer than idle.
func IdleListener(ln net.Listener, clk Clock, idle time.Duration) net.Listener {
	return &idleListener{Listener: ln, clk: clk, idle: idle}
}

type idleListener struct {
	net.Listener
	clk  Clock
	idle time.Duration
}

func (l *idleListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &IdleConn{Conn: c, clk: l.clk, idle: l.idle}, nil
}

// IdleConn is a connection whose reads time out after its idle time.
type IdleConn struct {
	net.Conn
	clk  Clock
	idle time.Duration
	lib  atomic.Int64 // what is left of a deadline the library set, in ns; 0: none
}

// NewIdleConn wraps c as IdleListener does.
func NewIdleConn(c net.Conn, clk Clock, idle time.Duration) *IdleConn {
	return &IdleConn{Conn: c, clk: clk, idle: idle}
}

func (c *IdleConn) Read(p []byte) (int, error) {
	d := c.idle
	if lib := time.Duration(c.lib.Load()); lib > 0 && (d <= 0 || lib < d) {
		d = lib
	}
	if d > 0 {
		c.Conn.SetReadDeadline(c.clk.Now().Add(d))
	}
	return c.Conn.Read(p)
}

// fromWall turns a deadline set by the wall clock into a span.
func fromWall(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	// The library computed t from time.Now; what it means is "this long
	// from now", which is what carries over to another clock.
	return max(int64(time.Until(t)), 1)
}

func (c *IdleConn) SetReadDeadline(t time.Time) error {
	c.lib.Store(fromWall(t))
	return nil
}

func (c *IdleConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		return c.Conn.SetWriteDeadline(t)
	}
	return c.Conn.SetWriteDeadline(c.clk.Now().Add(time.Duration(fromWall(t))))
}

func (c *IdleConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}
