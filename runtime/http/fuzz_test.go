package http

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.0 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
		"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"garbage\n\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		r, err := ReadResponse(bufio.NewReader(bytes.NewReader(data)), method, 1<<20, nil)
		if err != nil {
			return
		}
		if r.Status < 100 || r.Status > 999 {
			t.Fatalf("status %d accepted", r.Status)
		}
		if head && len(r.Body) > 0 {
			t.Fatalf("HEAD response with a body")
		}
		if len(r.Body) > 1<<20 {
			t.Fatalf("body over the limit")
		}
	})
}

func FuzzSplitRequests(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /f HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.0\n\n",
		"HELO x\r\n",
		"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		methods, _, ok := splitRequests(data)
		if ok && len(methods) == 0 {
			t.Fatal("ok without requests")
		}
	})
}

// FuzzServer sends arbitrary bytes to a server whose handler reads every
// attribute a script could read: no input may crash it.
func FuzzServer(f *testing.F) {
	for _, s := range []string{
		"GET /?a=1&b=%zz HTTP/1.1\r\nHost: x\r\nCookie: id=1; bad\r\n\r\n",
		"POST /f HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2",
		"POST /f HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\nContent-Length: 7\r\n\r\n--\r\n\r\nx",
		"POST /f HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 60\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nv\r\n--b--\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET http://other/x HTTP/1.1\r\nHost: y\r\nIf-None-Match: *\r\n\r\n",
		"GARBAGE\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	static := StaticFiles(map[string][]byte{"/index.html": []byte("<p>x</p>")}, time.Unix(1e9, 0))
	s := ServeListener(stack.OS, l, ServerConfig{KeepAlive: false, Timeout: 100 * time.Millisecond, MaxBody: 1 << 16, Handler: func(r *InRequest) *Reply {
		if rep := static.Serve(r.Method, r.Path); rep != nil {
			return rep
		}
		rv := &reqValue{r}
		for _, a := range rv.AttrNames() {
			if v, err := rv.Attr(a); err == nil && v != nil {
				_ = v.String()
			}
		}
		return &Reply{Status: 200, Header: Header{{"ETag", `"e"`}}, Body: []byte(strings.Repeat("x", len(r.Body)))}
	}})
	defer s.Stop()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		client := c.(*net.TCPConn)
		client.SetDeadline(time.Now().Add(2 * time.Second))
		go func() {
			client.Write(data)
			client.CloseWrite()
		}()
		io.Copy(io.Discard, io.LimitReader(client, 1<<20))
		client.Close()
	})
}
