package lab

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// ReadFull reads a whole buffer as recv(2) does with MSG_WAITALL: it
// returns when the segment that completes the buffer arrives, with the
// bytes intact, and leaves what follows for the next read.
func TestReadFull(t *testing.T) {
	t.Run("returns when its last byte arrives", func(t *testing.T) {
		n, a, b, _ := pair(t, LinkConfig{Rate: 10e6, Delay: 10 * time.Millisecond, Queue: -1})
		c, s := streamPair(t, a, b)
		data := noise(1<<20+5000, 7)
		start := n.Elapsed()
		go c.Write(data)
		p := make([]byte, 1<<20)
		k, err := s.(*Conn).ReadFull(p)
		if err != nil || k != len(p) || !bytes.Equal(p, data[:len(p)]) {
			t.Fatalf("ReadFull: %d bytes, %v; want the first %d bytes sent", k, err, len(p))
		}
		// The megabyte ends in segment 719; each takes MSS+TCPHeader
		// bytes of the link, and then the link's delay.
		segs := (len(p) + MSS - 1) / MSS
		want := time.Duration(float64(segs*(MSS+TCPHeader))*8/10e6*float64(time.Second)) + 10*time.Millisecond
		near(t, "ReadFull returned after", n.Elapsed()-start, want, time.Microsecond)
		rest := make([]byte, len(data)-len(p))
		if _, err := io.ReadFull(s, rest); err != nil || !bytes.Equal(rest, data[len(p):]) {
			t.Fatalf("the bytes after the ReadFull: %v", err)
		}
	})
	t.Run("the stream ending part way", func(t *testing.T) {
		_, a, b, _ := pair(t, LinkConfig{Rate: 10e6, Delay: 10 * time.Millisecond, Queue: -1})
		c, s := streamPair(t, a, b)
		const sent = "then the stream ends"
		c.Write([]byte(sent))
		c.Close()
		p := make([]byte, 200)
		k, err := s.(*Conn).ReadFull(p)
		if string(p[:k]) != sent || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadFull: %q, %v; want %q and io.ErrUnexpectedEOF", p[:k], err, sent)
		}
		if k, err := s.(*Conn).ReadFull(p); k != 0 || err != io.EOF {
			t.Errorf("ReadFull at the end: %d, %v; want 0, io.EOF", k, err)
		}
	})
	t.Run("a deadline part way", func(t *testing.T) {
		n, a, b, _ := pair(t, LinkConfig{Rate: 10e6, Delay: 10 * time.Millisecond, Queue: -1})
		c, s := streamPair(t, a, b)
		data := noise(10_000, 8)
		c.Write(data)
		start := n.Elapsed()
		s.SetReadDeadline(n.Now().Add(time.Second))
		p := make([]byte, 20_000)
		k, err := s.(*Conn).ReadFull(p)
		if k != len(data) || !errors.Is(err, os.ErrDeadlineExceeded) || !bytes.Equal(p[:k], data) {
			t.Errorf("ReadFull: %d bytes, %v; want the %d sent and a timeout", k, err, len(data))
		}
		near(t, "timed out after", n.Elapsed()-start, time.Second, 0)
		// Nothing read is read twice, and nothing is lost: the next bytes
		// come after the first ten thousand.
		s.SetReadDeadline(time.Time{})
		c.Write([]byte("next"))
		if k, err := s.(*Conn).ReadFull(p[:4]); k != 4 || err != nil || string(p[:4]) != "next" {
			t.Errorf("after the timeout: %q, %v", p[:k], err)
		}
	})
	t.Run("beside a Read on the same stream", func(t *testing.T) {
		_, a, b, _ := pair(t, LinkConfig{Rate: 10e6, Delay: 10 * time.Millisecond, Queue: -1})
		c, s := streamPair(t, a, b)
		const total = 300_000
		go func() {
			c.Write(make([]byte, total))
			c.Close()
		}()
		plain := make(chan int)
		go func() {
			got, _ := io.Copy(io.Discard, s)
			plain <- int(got)
		}()
		whole := 0
		for {
			k, err := s.(*Conn).ReadFull(make([]byte, 50_000))
			whole += k
			if err != nil {
				break
			}
		}
		if got := whole + <-plain; got != total {
			t.Errorf("the two readers got %d bytes between them, want %d", got, total)
		}
	})
}
