// Package http is netplay's HTTP/1.1 engine: a client with its own
// connection handling (persistent or not, pipelining, raw mode, timings), a
// server that calls a Go handler, and a caching forward proxy. It is plain
// Go reaching the network and the clock only through a stack.Stack; the
// Starlark module is runtime/http/httpmod.
package http

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httputil"
	"strconv"
	"strings"
)

// Limits on what a peer may make us buffer.
const (
	maxHeaderBytes = 64 << 10  // a message head
	maxHeaderCount = 256       // header lines in a head
	defaultMaxBody = 256 << 20 // a response body the client keeps in memory
)

// A Field is one header line, as it was sent.
type Field struct{ Name, Value string }

// Header is a message's header lines in order; lookups ignore case.
type Header []Field

// Get returns the first value of name, or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether name is present.
func (h Header) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns every value of name.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Set replaces every line of name by one with value.
func (h Header) Set(name, value string) Header {
	h = h.Del(name)
	return append(h, Field{name, value})
}

// Del removes every line of name.
func (h Header) Del(name string) Header {
	out := h[:0]
	for _, f := range h {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	return out
}

// hasToken reports whether a comma-separated header value lists token.
func hasToken(v, token string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// ProtocolError is a peer breaking HTTP: a malformed status line, a bad
// length, a head too large.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return e.Msg }

func protoErr(format string, args ...any) error {
	return &ProtocolError{fmt.Sprintf(format, args...)}
}

// Response is an HTTP response as the client read it.
type Response struct {
	Proto  string // "HTTP/1.1"
	Status int
	Reason string
	Header Header
	Body   []byte
	URL    string // the URL it answers (after redirects)
	Timing Timing
	// Head is the status line and header lines as received, for trace and
	// raw mode.
	Head string
	// Close is set when the connection cannot carry another request.
	Close bool
	// Stream, for a Request with Stream set, reads the body from the
	// connection (Body is nil); Length is its size, or -1 when unknown.
	// The caller must close it.
	Stream io.ReadCloser
	Length int64
}

// readLine reads one line of a head (without "\r\n" or "\n"), counting it
// against *budget.
func readLine(br *bufio.Reader, budget *int) (string, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		*budget -= len(chunk)
		if *budget < 0 {
			return "", protoErr("message head larger than %d bytes", maxHeaderBytes)
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		break
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
	return string(line), nil
}

// readHeader reads header lines up to the blank line that ends a head.
func readHeader(br *bufio.Reader, budget *int, raw *strings.Builder) (Header, error) {
	var h Header
	for {
		line, err := readLine(br, budget)
		if err != nil {
			return nil, err
		}
		raw.WriteString(line)
		raw.WriteString("\r\n")
		if line == "" {
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' { // obsolete folding
			if len(h) == 0 {
				return nil, protoErr("header continuation line before any header: %q", line)
			}
			h[len(h)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, protoErr("malformed header line %q", line)
		}
		if len(h) >= maxHeaderCount {
			return nil, protoErr("more than %d header lines", maxHeaderCount)
		}
		h = append(h, Field{name, strings.TrimSpace(value)})
	}
}

// parseStatusLine splits "HTTP/1.1 200 OK".
func parseStatusLine(line string) (proto string, status int, reason string, err error) {
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") {
		return "", 0, "", protoErr("malformed status line %q", line)
	}
	code, reason, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	if len(code) != 3 {
		return "", 0, "", protoErr("malformed status code in %q", line)
	}
	status, err = strconv.Atoi(code)
	if err != nil || status < 100 {
		return "", 0, "", protoErr("malformed status code in %q", line)
	}
	return proto, status, reason, nil
}

// bodyLength says how a response's body is delimited: n >= 0 bytes, -1 until
// the connection closes, -2 chunked.
func bodyLength(method string, status int, h Header) (int64, error) {
	if method == "HEAD" || status/100 == 1 || status == 204 || status == 304 {
		return 0, nil
	}
	if te := h.Get("Transfer-Encoding"); te != "" && !strings.EqualFold(te, "identity") {
		if !hasToken(te, "chunked") {
			return 0, protoErr("unsupported Transfer-Encoding %q", te)
		}
		return -2, nil
	}
	cls := h.Values("Content-Length")
	if len(cls) == 0 {
		return -1, nil
	}
	for _, cl := range cls[1:] {
		if cl != cls[0] {
			return 0, protoErr("conflicting Content-Length headers")
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(cls[0]), 10, 64)
	if err != nil || n < 0 {
		return 0, protoErr("malformed Content-Length %q", cls[0])
	}
	return n, nil
}

// ReadResponse reads one response to a request with method from br. It
// reads the whole body (up to maxBody bytes). firstByte, if set, is called
// once the first byte of the response has arrived.
func ReadResponse(br *bufio.Reader, method string, maxBody int64, firstByte func()) (*Response, error) {
	return readResponse(br, nil, method, maxBody, firstByte)
}

// A wholeReader reads a whole buffer in one call, as recv(2) does with
// MSG_WAITALL: the lab's streams do, and wake their reader once per body
// instead of once per train of segments.
type wholeReader interface {
	ReadFull(p []byte) (int, error)
}

// readResponse is ReadResponse for br reading from conn: a body of known
// length is read from conn in one ReadFull when conn has it.
func readResponse(br *bufio.Reader, conn io.Reader, method string, maxBody int64, firstByte func()) (*Response, error) {
	r, body, n, err := readResponseHead(br, method, firstByte)
	if err != nil {
		return nil, err
	}
	if n > maxBody {
		return nil, protoErr("response body of %d bytes exceeds the limit of %d", n, maxBody)
	}
	switch n {
	case -1:
		r.Body, err = readAll(body, maxBody)
		return r, err
	case -2:
		r.Body, err = readAll(body, maxBody)
	default:
		fill := func(b []byte) (int, error) { return io.ReadFull(body, b) }
		if w, ok := conn.(wholeReader); ok {
			fill = func(b []byte) (int, error) {
				// What br holds comes first; the body ends within n bytes,
				// so reading past br cannot take the next response's.
				k, _ := br.Read(b[:min(len(b), br.Buffered())])
				if k == len(b) {
					return k, nil
				}
				m, err := w.ReadFull(b[k:])
				return k + m, err
			}
		}
		r.Body, err = readSized(fill, n)
	}
	if err != nil {
		return nil, unexpected(err)
	}
	return r, nil
}

// readResponseHead reads a response's status line and header and returns
// a reader of its body: n bytes, or chunked (n == -2, the trailer is read at
// its end), or up to the end of the connection (n == -1).
func readResponseHead(br *bufio.Reader, method string, firstByte func()) (*Response, io.Reader, int64, error) {
	if firstByte != nil {
		if _, err := br.Peek(1); err != nil {
			return nil, nil, 0, err
		}
		firstByte()
	}
	for {
		budget := maxHeaderBytes
		var raw strings.Builder
		line, err := readLine(br, &budget)
		if err != nil {
			return nil, nil, 0, err
		}
		raw.WriteString(line)
		raw.WriteString("\r\n")
		proto, status, reason, err := parseStatusLine(line)
		if err != nil {
			return nil, nil, 0, err
		}
		h, err := readHeader(br, &budget, &raw)
		if err != nil {
			return nil, nil, 0, err
		}
		if status/100 == 1 && status != 101 {
			continue // 100 Continue and friends: the real answer follows
		}
		r := &Response{Proto: proto, Status: status, Reason: reason, Header: h, Head: raw.String()}
		n, err := bodyLength(method, status, h)
		if err != nil {
			return nil, nil, 0, err
		}
		r.Close = hasToken(h.Get("Connection"), "close") ||
			(proto == "HTTP/1.0" && !hasToken(h.Get("Connection"), "keep-alive"))
		switch {
		case n >= 0:
			return r, io.LimitReader(br, n), n, nil
		case n == -2:
			return r, &chunkedBody{br: br, r: httputil.NewChunkedReader(br), budget: budget}, n, nil
		}
		r.Close = true
		return r, br, n, nil
	}
}

// chunkedBody reads a chunked body and, at its end, the trailer.
type chunkedBody struct {
	br     *bufio.Reader
	r      io.Reader
	budget int
	done   bool
}

func (c *chunkedBody) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	if err == io.EOF {
		// trailers end with a blank line
		for {
			line, lerr := readLine(c.br, &c.budget)
			if lerr != nil {
				return n, unexpected(lerr)
			}
			if line == "" {
				break
			}
		}
		c.done = true
	}
	return n, err
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// eagerBody is how much of a body a peer's announced length alone makes
// us allocate before the bytes arrive (a variable for tests).
var eagerBody int64 = 64 << 20

// readSized reads a body of n bytes (a Content-Length) into a buffer of
// exactly that size, the bytes going straight from the connection into it
// (a bufio.Reader hands a read larger than its buffer through), so the
// body is copied once on its way in instead of once more per doubling of
// a growing buffer. A larger body gets its full buffer only once its first
// eagerBody bytes have come, so that a length a peer announces without
// sending the bytes costs at most eagerBody of memory. A body cut short is
// io.ErrUnexpectedEOF. fill reads exactly len(b) bytes, as io.ReadFull.
func readSized(fill func(b []byte) (int, error), n int64) ([]byte, error) {
	b := make([]byte, min(n, eagerBody))
	_, err := fill(b)
	if err == nil && int64(len(b)) < n {
		grown := make([]byte, n)
		copy(grown, b)
		_, err = fill(grown[len(b):])
		b = grown
	}
	if err != nil {
		return nil, unexpected(err)
	}
	return b, nil
}

// readAll reads a body of unknown length (chunked, or up to the end of
// the connection), of at most maxBody bytes.
func readAll(r io.Reader, maxBody int64) ([]byte, error) {
	// The buffer doubles as bytes arrive, as io.ReadAll's does, but never
	// grows past maxBody (plus one byte, to see the end).
	limit := maxBody + 1
	b := make([]byte, 0, min(512, limit))
	lr := io.LimitReader(r, limit)
	for {
		if len(b) == cap(b) {
			grown := make([]byte, len(b), max(min(2*int64(cap(b)), limit), int64(cap(b))+1))
			copy(grown, b)
			b = grown
		}
		k, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(b)) > maxBody {
		return nil, protoErr("response body exceeds the limit of %d bytes", maxBody)
	}
	return b, nil
}

// writeHead renders a request head.
func writeHead(b *bytes.Buffer, method, target string, h Header) {
	b.WriteString(method)
	b.WriteByte(' ')
	b.WriteString(target)
	b.WriteString(" HTTP/1.1\r\n")
	for _, f := range h {
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
}

// ValidField rejects header fields that would split a head.
func ValidField(f Field) error {
	if f.Name == "" || strings.ContainsAny(f.Name, " \t\r\n:") {
		return fmt.Errorf("invalid header name %q", f.Name)
	}
	if strings.ContainsAny(f.Value, "\r\n") {
		return fmt.Errorf("invalid value for header %s: contains a line break", f.Name)
	}
	return nil
}

// StatusText is the reason phrase for a status code.
func StatusText(code int) string {
	if t := nethttp.StatusText(code); t != "" {
		return t
	}
	return "Status " + strconv.Itoa(code)
}

var errNoResponse = errors.New("no response")
