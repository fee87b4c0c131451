package http

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// RequestHead is a request's first line and header lines.
type RequestHead struct {
	Method, Target, Proto string
	Header                Header
}

// ReadRequestHead reads a request line and header lines from br.
func ReadRequestHead(br *bufio.Reader) (*RequestHead, error) {
	budget := maxHeaderBytes
	var raw strings.Builder
	line, err := readLine(br, &budget)
	for err == nil && line == "" { // tolerate blank lines between requests
		line, err = readLine(br, &budget)
	}
	if err != nil {
		return nil, err
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || !strings.HasPrefix(parts[2], "HTTP/") {
		return nil, protoErr("malformed request line %q", line)
	}
	h, err := readHeader(br, &budget, &raw)
	if err != nil {
		return nil, err
	}
	return &RequestHead{Method: parts[0], Target: parts[1], Proto: parts[2], Header: h}, nil
}

// splitRequests reads the requests in data, to know how many responses a
// raw exchange should wait for. ok is false when data is not a sequence of
// well-formed requests (then the reply is read until the server closes).
func splitRequests(data []byte) (methods []string, closeAfter, ok bool) {
	rd := bytes.NewReader(data)
	br := bufio.NewReader(rd)
	for {
		consumed := len(data) - rd.Len() - br.Buffered()
		if len(bytes.TrimSpace(data[consumed:])) == 0 {
			return methods, closeAfter, len(methods) > 0
		}
		h, err := ReadRequestHead(br)
		if err != nil {
			return nil, false, false
		}
		methods = append(methods, h.Method)
		conn := h.Header.Get("Connection")
		if hasToken(conn, "close") || (h.Proto == "HTTP/1.0" && !hasToken(conn, "keep-alive")) {
			closeAfter = true
		}
		if cl := h.Header.Get("Content-Length"); cl != "" {
			n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
			if err != nil || n < 0 {
				return nil, false, false
			}
			if _, err := io.CopyN(io.Discard, br, n); err != nil {
				return nil, false, false
			}
		}
	}
}

// Raw connects to addr, sends data exactly as given and returns what the
// server answers: for well-formed requests, the responses to them (or
// everything until the server closes, when a request asked it to); for
// anything else, everything until the server closes or stays silent.
func Raw(ctx context.Context, st stack.Stack, addr string, data []byte, timeout time.Duration) ([]byte, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	dctx, cancel := stack.WithTimeout(ctx, st, timeout)
	nc, err := st.Dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() == nil {
			err = context.DeadlineExceeded
		}
		return nil, err
	}
	defer nc.Close()
	nc.SetDeadline(st.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := nc.Write(data); err != nil {
		return nil, ctxErr(ctx, err)
	}
	var got bytes.Buffer
	methods, closeAfter, ok := splitRequests(data)
	if ok && !closeAfter {
		br := bufio.NewReader(io.TeeReader(nc, &got))
		for _, m := range methods {
			resp, err := ReadResponse(br, m, defaultMaxBody, nil)
			if err != nil {
				if got.Len() > 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
					return got.Bytes(), nil
				}
				return nil, ctxErr(ctx, err)
			}
			if resp.Close {
				break
			}
		}
		// what a pipelining-unaware reader would have consumed too
		return got.Bytes()[:got.Len()-br.Buffered()], nil
	}
	_, err = io.Copy(&got, io.LimitReader(nc, defaultMaxBody))
	if err != nil && ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) && got.Len() > 0 {
		err = nil // a silent server: what it sent is the answer
	}
	if err != nil && !isReset(err) {
		return nil, ctxErr(ctx, err)
	}
	return got.Bytes(), nil
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}
