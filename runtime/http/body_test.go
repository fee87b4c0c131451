package http

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// response is a reader of a 200 response announcing length bytes of body
// and carrying sent of them.
func response(length, sent int64) *bufio.Reader {
	head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.FormatInt(length, 10) + "\r\n\r\n"
	return bufio.NewReaderSize(io.MultiReader(strings.NewReader(head), &zeros{sent}), 16<<10)
}

// smallEager makes eagerBody small for a test, so that crossing it costs
// little memory (and little of the race detector's).
func smallEager(t *testing.T) {
	old := eagerBody
	eagerBody = 1 << 20
	t.Cleanup(func() { eagerBody = old })
}

// A body of known length lands in one buffer of exactly its size.
func TestReadResponseSizedBody(t *testing.T) {
	smallEager(t)
	for _, n := range []int64{0, 1, 100, 16 << 10, 1 << 20, eagerBody + 1000} {
		r, err := ReadResponse(response(n, n), "GET", defaultMaxBody, nil)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if int64(len(r.Body)) != n || int64(cap(r.Body)) != n {
			t.Errorf("%d bytes: body has len %d, cap %d", n, len(r.Body), cap(r.Body))
		}
	}
}

// A body cut short is an unexpected EOF, whether none or some of it came.
func TestReadResponseShortBody(t *testing.T) {
	for _, sent := range []int64{0, 10, 99} {
		_, err := ReadResponse(response(100, sent), "GET", defaultMaxBody, nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("100 bytes announced, %d sent: got %v, want unexpected EOF", sent, err)
		}
	}
	_, err := ReadResponse(response(defaultMaxBody+1, 10), "GET", defaultMaxBody, nil)
	if want := "exceeds the limit"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("over the limit: got %v, want %q", err, want)
	}
}

// A length announced without its bytes costs at most eagerBody of memory.
func TestReadResponseAnnouncedLengthAloneAllocatesLittle(t *testing.T) {
	smallEager(t)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadResponse(response(4*eagerBody, 10), "GET", defaultMaxBody, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want unexpected EOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(2*eagerBody) {
		t.Errorf("a %d-byte announced body with 10 bytes sent allocated %d bytes", 4*eagerBody, got)
	}
}

// BenchmarkReadResponse reads a 4 MB body: B/op near 4 MB means it was
// read into one buffer of its size, copied once.
func BenchmarkReadResponse(b *testing.B) {
	const n = 4 << 20
	msg := append([]byte("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(n)+"\r\n\r\n"), make([]byte, n)...)
	rd := bytes.NewReader(msg)
	br := bufio.NewReaderSize(rd, 16<<10)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(msg)
		br.Reset(rd)
		if _, err := ReadResponse(br, "GET", defaultMaxBody, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// whole reads as the lab's streams do: ReadFull fills a buffer in one call.
type whole struct {
	r     io.Reader
	calls int
}

func (w *whole) Read(p []byte) (int, error) { return w.r.Read(p) }
func (w *whole) ReadFull(p []byte) (int, error) {
	w.calls++
	return io.ReadFull(w.r, p)
}

// From a connection that reads whole buffers, a body of known length
// takes what the bufio.Reader holds, then the rest in one ReadFull, and
// leaves the next response where it was; cut short, it is an unexpected
// EOF as before.
func TestReadResponseWholeReads(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 10_000)
	msg := "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + string(body) +
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	conn := &whole{r: strings.NewReader(msg)}
	br := bufio.NewReaderSize(conn, 16<<10)
	r, err := readResponse(br, conn, "GET", defaultMaxBody, nil)
	if err != nil || !bytes.Equal(r.Body, body) {
		t.Fatalf("first response: %v, body intact %v", err, err == nil && bytes.Equal(r.Body, body))
	}
	if conn.calls != 1 {
		t.Errorf("%d ReadFull calls for one body, want 1", conn.calls)
	}
	r, err = readResponse(br, conn, "GET", defaultMaxBody, nil)
	if err != nil || string(r.Body) != "hello" {
		t.Fatalf("the response after it: %v, %q", err, r.Body)
	}
	short := &whole{r: strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + string(body[:50_000]))}
	if _, err := readResponse(bufio.NewReaderSize(short, 16<<10), short, "GET", defaultMaxBody, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a body cut short: %v, want unexpected EOF", err)
	}
}
