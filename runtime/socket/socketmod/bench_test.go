package socketmod_test

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/modules/startest"
)

// The course's UDP server and client loop, as bench/socket runs them, in one
// process (each script its own interpreter): b.ReportAllocs counts both
// sides' allocations per round trip, and a CPU profile shows both sides'
// work without the kernel's scheduling in between.
const (
	benchUDPServer = `
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", %d))
while True:
    message, clientAddress = s.recvfrom(2048)
    if message == b"stop":
        break
    modifiedMessage = message.decode().upper()
    s.sendto(modifiedMessage.encode(), clientAddress)
`
	benchUDPClient = `
host, port = "127.0.0.1", %d
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(%d):
    s.sendto("hello world".encode(), (host, port))
    reply, addr = s.recvfrom(2048)
s.sendto(b"stop", (host, port))
`
)

func BenchmarkUDPRoundTrip(b *testing.B) {
	roundTrips(b, freePort(b, "udp4"), benchUDPServer, benchUDPClient, waitUDP)
}

// freePort is a port of 127.0.0.1 that was free a moment ago, for network
// "udp4" or "tcp4".
func freePort(b *testing.B, network string) int {
	var addr net.Addr
	if network == "udp4" {
		pc, err := net.ListenPacket(network, "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer pc.Close()
		addr = pc.LocalAddr()
	} else {
		l, err := net.Listen(network, "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		addr = l.Addr()
	}
	return int(netip.MustParseAddrPort(addr.String()).Port())
}

// roundTrips runs server (a format taking the port) until it answers
// ready, then client (the port and b.N) timed.
func roundTrips(b *testing.B, port int, server, client string, ready func(port int) bool) {
	done := make(chan startest.Result)
	go func() { done <- startest.Run(b, fmt.Sprintf(server, port), nil) }()
	if !ready(port) {
		r := <-done
		b.Fatalf("the server on %d did not answer: %v %s", port, r.Err, r.Stderr)
	}
	b.ReportAllocs()
	b.ResetTimer()
	r := startest.Run(b, fmt.Sprintf(client, port, b.N), nil)
	b.StopTimer()
	if r.Err != nil {
		b.Fatal(r.Err, r.Stderr)
	}
	if r := <-done; r.Err != nil {
		b.Fatal(r.Err, r.Stderr)
	}
}

// waitUDP waits until the server answers a datagram on port. (The probe
// is not connected: a connected one would fail on the refusals of the
// datagrams sent before the server was up.)
func waitUDP(port int) bool {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return false
	}
	defer c.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	buf := make([]byte, 64)
	for range 100 {
		c.WriteTo([]byte("ping"), to)
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := c.ReadFrom(buf); err == nil {
			return true
		}
	}
	return false
}

// The course's TCP server and client loop, a connection per exchange.
const (
	benchTCPServer = `
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("", %d))
s.listen(1)
while True:
    conn, addr = s.accept()
    sentence = conn.recv(1024).decode()
    conn.send(sentence.upper().encode())
    conn.close()
    if sentence == "stop":
        break
`
	benchTCPClient = `
host, port = "127.0.0.1", %d
for i in range(%d):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, port))
    s.send("hello world".encode())
    reply = s.recv(1024)
    s.close()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((host, port))
s.send(b"stop")
s.recv(10)
`
)

func BenchmarkTCPRoundTrip(b *testing.B) {
	roundTrips(b, freePort(b, "tcp4"), benchTCPServer, benchTCPClient, waitTCP)
}

// waitTCP waits until the server answers an exchange on port.
func waitTCP(port int) bool {
	for range 100 {
		c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		c.Write([]byte("ping"))
		c.SetReadDeadline(time.Now().Add(time.Second))
		_, err = c.Read(make([]byte, 64))
		c.Close()
		return err == nil
	}
	return false
}
