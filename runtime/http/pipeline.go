package http

import (
	"bytes"
	"context"
	"time"
)

// Pipeline fetches urls (all on one server) with GET requests sent one after
// another on one connection before any response is read, as HTTP/1.1
// pipelining does, and returns the responses in order. Each response's
// Timing counts from the start of the whole pipeline.
func (c *Client) Pipeline(ctx context.Context, urls []string, header Header, timeout time.Duration, trace func(string)) ([]*Response, error) {
	if len(urls) == 0 {
		return nil, nil
	}
	var targets []*target
	var msgs [][]byte
	for i, u := range urls {
		t, err := c.target(u)
		if err != nil {
			return nil, err
		}
		if i > 0 && t.addr != targets[0].addr {
			return nil, &ArgError{"pipeline: every URL must be on the same server (" + targets[0].addr + "), not " + t.addr}
		}
		targets = append(targets, t)
		last := i == len(urls)-1
		h, err := c.head(t, &Request{Method: "GET", Header: header}, last && !c.Persistent)
		if err != nil {
			return nil, err
		}
		var msg bytes.Buffer
		writeHead(&msg, "GET", t.reqPath, h)
		msgs = append(msgs, msg.Bytes())
	}
	start := c.st.Now()
	var out []*Response
	var cn *conn
	if c.Persistent {
		cn = c.idleConn(targets[0].addr)
	}
	for len(out) < len(targets) {
		// A server that closes after some responses (HTTP/1.0) gets the
		// rest again on a new connection, as browsers do; so does a
		// kept-alive connection the server had closed meanwhile.
		reused := cn != nil
		rs, err := c.pipeline1(ctx, cn, targets[len(out):], msgs[len(out):], start, timeout, trace)
		cn = nil
		if err != nil {
			if reused && ctx.Err() == nil && staleConnError(err) {
				continue
			}
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// pipeline1 sends msgs on one new connection and reads responses until
// they are all in or the server closes the connection.
func (c *Client) pipeline1(ctx context.Context, cn *conn, targets []*target, msgs [][]byte, start time.Time, timeout time.Duration, trace func(string)) ([]*Response, error) {
	if trace != nil {
		for _, m := range msgs {
			traceHead(trace, "C: ", m)
		}
	}
	var connect time.Duration
	if cn == nil {
		dialStart := c.st.Now()
		var err error
		if cn, err = c.dial(ctx, targets[0].addr, timeout); err != nil {
			return nil, err
		}
		connect = c.st.Now().Sub(dialStart)
	}
	if timeout > 0 {
		cn.SetDeadline(c.st.Now().Add(timeout))
	}
	stop := context.AfterFunc(ctx, func() { cn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// Write in the background: a server may answer the first requests before
	// it has read the last, and both sides' buffers must not fill up.
	werr := make(chan error, 1)
	go func() {
		_, err := cn.Write(bytes.Join(msgs, nil))
		werr <- err
	}()
	var out []*Response
	closed := false
	for _, t := range targets {
		var fb time.Duration
		resp, err := readResponse(cn.br, cn.Conn, "GET", defaultMaxBody, func() { fb = c.st.Now().Sub(start) })
		if err != nil {
			cn.Close()
			<-werr
			if len(out) > 0 && ctx.Err() == nil && staleConnError(err) {
				return out, nil // the server closed early: the rest go again
			}
			return nil, ctxErr(ctx, err)
		}
		resp.URL = t.u.String()
		resp.Timing = Timing{Connect: connect, FirstByte: fb, Total: c.st.Now().Sub(start)}
		if trace != nil {
			traceHead(trace, "S: ", []byte(resp.Head))
		}
		if c.Jar != nil {
			c.Jar.SetFromResponse(t.u, resp.Header, c.st.Now())
		}
		out = append(out, resp)
		if resp.Close {
			closed = true
			break
		}
	}
	if err := <-werr; err != nil && !closed {
		cn.Close()
		return nil, ctxErr(ctx, err)
	}
	if c.Persistent && !closed {
		c.putConn(cn)
	} else {
		cn.Close()
	}
	return out, nil
}
