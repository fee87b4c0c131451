package http

import (
	"bufio"
	"bytes"
	"testing"
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
