package httpmod

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/http"
	"github.com/netplay-dev/netplay/runtime/stack"
)

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
	static := http.StaticFiles(map[string][]byte{"/index.html": []byte("<p>x</p>")}, time.Unix(1e9, 0))
	s := http.ServeListener(stack.OS, l, http.ServerConfig{KeepAlive: false, Timeout: 100 * time.Millisecond, MaxBody: 1 << 16, Handler: func(r *http.InRequest) *http.Reply {
		if rep := static.Serve(r.Method, r.Path); rep != nil {
			return rep
		}
		rv := &reqValue{r: r}
		for _, a := range rv.AttrNames() {
			if v, err := rv.Attr(a); err == nil && v != nil {
				_ = v.String()
			}
		}
		return &http.Reply{Status: 200, Header: http.Header{{Name: "ETag", Value: `"e"`}}, Body: []byte(strings.Repeat("x", len(r.Body)))}
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
