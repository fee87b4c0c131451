package lineio

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// A server on loopback that writes greeting and then reads what the client
// sends, handing it to got.
func greeter(t *testing.T, greeting string) (addr string, got chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte(greeting))
		buf := make([]byte, 100)
		n, _ := c.Read(buf)
		got <- string(buf[:n])
	}()
	return ln.Addr().String(), got
}

type client struct{ *Client }

func readGreeting(c *client, ctx context.Context) (string, error) {
	defer c.Guard(ctx)()
	line, err := ReadLine(c.R, 100)
	if err == nil && !strings.HasPrefix(line, "OK") {
		err = errors.New("not OK: " + line)
	}
	return line, err
}

func TestDialGreeted(t *testing.T) {
	wrap := func(lc *Client) *client { return &client{lc} }
	ctx := context.Background()
	t.Run("greeted, then a command", func(t *testing.T) {
		addr, got := greeter(t, "OK hello\r\n")
		var trace []string
		c, rep, err := DialGreeted(ctx, stack.OS, addr, 5*time.Second, func(l string) { trace = append(trace, l) }, wrap, readGreeting)
		if err != nil || rep != "OK hello" {
			t.Fatalf("DialGreeted: %q, %v", rep, err)
		}
		defer c.Close()
		if err := c.Send(ctx, "two\nlines"); err == nil {
			t.Error("Send took a line break")
		}
		if err := c.Send(ctx, "QUIT"); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "QUIT\r\n" {
			t.Errorf("server got %q", s)
		}
		if strings.Join(trace, "|") != "C: QUIT" { // readGreeting traces nothing
			t.Errorf("trace %q", trace)
		}
	})
	t.Run("refused greeting closes", func(t *testing.T) {
		addr, got := greeter(t, "NO go away\r\n")
		c, rep, err := DialGreeted(ctx, stack.OS, addr, 5*time.Second, nil, wrap, readGreeting)
		if err == nil || c != nil || rep != "" {
			t.Fatalf("got %v, %q, %v; want nil, \"\", an error", c, rep, err)
		}
		if s := <-got; s != "" { // the client closed without a word
			t.Errorf("server got %q", s)
		}
	})
}
