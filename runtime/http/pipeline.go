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
	var msg bytes.Buffer
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
		n := msg.Len()
		writeHead(&msg, "GET", t.reqPath, h)
		if trace != nil {
			traceHead(trace, "C: ", msg.Bytes()[n:])
		}
	}
	start := c.st.Now()
	// A pipeline always starts on a fresh connection: a kept-alive one might
	// be closed by the server halfway through.
	cn, err := c.dial(ctx, targets[0].addr, timeout)
	if err != nil {
		return nil, err
	}
	connect := c.st.Now().Sub(start)
	if timeout > 0 {
		cn.SetDeadline(start.Add(timeout))
	}
	stop := context.AfterFunc(ctx, func() { cn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// Write in the background: a server may answer the first requests before
	// it has read the last, and both sides' buffers must not fill up.
	werr := make(chan error, 1)
	go func() {
		_, err := cn.Write(msg.Bytes())
		werr <- err
	}()
	var out []*Response
	closed := false
	for i, t := range targets {
		var fb time.Duration
		resp, err := ReadResponse(cn.br, "GET", defaultMaxBody, func() { fb = c.st.Now().Sub(start) })
		if err != nil {
			cn.Close()
			<-werr
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
		if resp.Close && i < len(targets)-1 {
			cn.Close()
			<-werr
			return nil, protoErr("server closed the connection after %d of %d pipelined responses", i+1, len(targets))
		}
		closed = resp.Close
	}
	if err := <-werr; err != nil {
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
