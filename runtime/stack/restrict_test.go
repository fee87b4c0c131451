package stack_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// freeUDPPort returns a port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func TestRestrictListen(t *testing.T) {
	ctx := context.Background()
	port := freeUDPPort(t)
	other := freeUDPPort(t)
	var bound []int
	st := stack.Restrict(stack.OS, []int{port}, func(_ string, p int) { bound = append(bound, p) })
	cases := []struct {
		name, addr string
		ok         bool
		bound      string // the address actually bound, when ok
	}{
		{"wildcard on an allotted port maps to loopback", ":" + strconv.Itoa(port), true, "127.0.0.1:" + strconv.Itoa(port)},
		{"0.0.0.0 maps to loopback", "0.0.0.0:" + strconv.Itoa(port), true, "127.0.0.1:" + strconv.Itoa(port)},
		{"a free port for a client", "0.0.0.0:0", true, "127.0.0.1:"},
		{"another port", "127.0.0.1:" + strconv.Itoa(other), false, ""},
		{"a public address", "192.0.2.1:" + strconv.Itoa(port), false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pc, err := st.ListenPacket(ctx, "udp", c.addr)
			if !c.ok {
				if err == nil {
					pc.Close()
					t.Fatalf("ListenPacket(%s) succeeded, want a refusal", c.addr)
				}
				if !strings.Contains(err.Error(), "not allowed here") {
					t.Fatalf("error %q does not say it is not allowed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			if got := pc.LocalAddr().String(); !strings.HasPrefix(got, c.bound) {
				t.Fatalf("bound %s, want %s", got, c.bound)
			}
			if c.addr != "0.0.0.0:0" && (len(bound) == 0 || bound[len(bound)-1] != port) {
				t.Fatalf("onBind saw %v, want %d last", bound, port)
			}
		})
	}
}

func TestRestrictSendAndReply(t *testing.T) {
	ctx := context.Background()
	port := freeUDPPort(t)
	srv := stack.Restrict(stack.OS, []int{port}, nil)
	pc, err := srv.ListenPacket(ctx, "udp", ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()

	// A client outside the sandbox writes; the server may answer it although
	// the client's port was not allotted.
	cl, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.WriteTo([]byte("hi"), pc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, from, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.WriteTo([]byte(strings.ToUpper(string(buf[:n]))), from); err != nil {
		t.Fatalf("reply to a peer heard from: %v", err)
	}
	// A stranger on another port may not be written to.
	stranger, _ := net.ResolveUDPAddr("udp", "127.0.0.1:"+strconv.Itoa(freeUDPPort(t)))
	if _, err := pc.WriteTo([]byte("x"), stranger); err == nil {
		t.Fatal("wrote to a port neither allotted nor heard from")
	}
	if _, err := srv.Dial(ctx, "tcp", "93.184.216.34:80"); err == nil || !strings.Contains(err.Error(), "not allowed here") {
		t.Fatalf("dial to a public address: %v, want a refusal", err)
	}
	if _, err := srv.LookupHost(ctx, "example.com"); err == nil {
		t.Fatal("looked up a public name")
	}
}
