package torrent

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// Misbehaving peers get their connection closed; the peer keeps serving
// the others.
func TestMisbehavingPeersAreDisconnected(t *testing.T) {
	data := content(256<<10, 21)
	meta, _ := Create(data, "x", 32<<10, "")
	seeder := newPeer(t, Config{Meta: meta, Data: data})
	seeder.Start()
	hs := Handshake{InfoHash: meta.InfoHash, PeerID: RandomPeerID()}
	msg := func(m Message) []byte { return m.Append(nil) }
	raw := func(id byte, payload ...byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
		return append(append(b, id), payload...)
	}
	for _, c := range []struct {
		name    string
		send    []byte
		noHello bool // send these bytes instead of a handshake
	}{
		{"malformed handshake", []byte("GET / HTTP/1.1\r\n\r\n" + strings.Repeat("x", 60)), true},
		{"handshake for another torrent", Handshake{PeerID: RandomPeerID()}.Bytes(), true},
		{"oversize message", binary.BigEndian.AppendUint32(nil, 1<<30), false},
		{"unknown message", raw(99, 1, 2, 3), false},
		{"have of the wrong size", raw(MsgHave, 1), false},
		{"request beyond a piece", msg(Message{ID: MsgRequest, Index: 0, Begin: 32 << 10, Length: BlockSize}), false},
		{"request for a piece that does not exist", msg(Message{ID: MsgRequest, Index: 99, Length: BlockSize}), false},
		{"request larger than a block", msg(Message{ID: MsgRequest, Index: 0, Length: 1 << 20}), false},
		{"bitfield of the wrong length", msg(Message{ID: MsgBitfield, Bitfield: []byte{0xff, 0xff, 0xff}}), false},
		{"request flood", flood(meta), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := stack.OS.Dial(context.Background(), "tcp", seeder.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if !c.noHello {
				conn.Write(hs.Bytes())
			}
			conn.Write(c.send)
			if !closedSoon(conn) {
				t.Fatal("connection still open")
			}
			// The seeder still serves an honest leecher.
			l := newPeer(t, Config{Meta: meta})
			l.Start()
			l.Connect(seeder.Addr())
			waitAll(t, l)
			if !bytes.Equal(l.Data(), data) {
				t.Fatal("honest leecher got different bytes")
			}
		})
	}
}

// flood sends interest and then far more requests than a peer may queue,
// without waiting for an unchoke: those that arrive while choked are
// dropped and counted, the rest are queued. Either count passes the limit
// whenever the unchoke comes, unless the seeder serves most of the queue
// while it is still reading the flood: at twice the limit that happened
// under -race on a loaded machine, at eight times it cannot (it would
// have to send 24 MB meanwhile).
func flood(meta *MetaInfo) []byte {
	b := Message{ID: MsgInterested}.Append(nil)
	for i := 0; i < 8*MaxQueuedRequests; i++ {
		b = Message{ID: MsgRequest, Index: uint32(i % meta.NumPieces()), Begin: 0, Length: BlockSize}.Append(b)
	}
	return b
}

// closedSoon reads until the connection ends, reporting whether it did
// within a few seconds.
func closedSoon(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return err == nil || !(errorsAs(err, &ne) && ne.Timeout())
}

func errorsAs(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

// A peer whose bitfield claims pieces beyond the torrent's end is dropped.
func TestLyingBitfield(t *testing.T) {
	data := content(5*16<<10, 22) // 5 pieces: the bitfield's last 3 bits are spare
	meta, _ := Create(data, "x", 16<<10, "")
	l := newPeer(t, Config{Meta: meta})
	l.Start()
	ln, err := stack.OS.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l.Connect(ln.Addr().String())
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ReadHandshake(c)
	c.Write(Handshake{InfoHash: meta.InfoHash, PeerID: RandomPeerID()}.Bytes())
	c.Write(Message{ID: MsgBitfield, Bitfield: []byte{0xff}}.Append(nil))
	if !closedSoon(c) {
		t.Fatal("connection still open after a bitfield with spare bits set")
	}
	s := l.Stats()
	if len(s.Peers) != 1 || !strings.Contains(s.Peers[0].Closed, "beyond piece 4") {
		t.Fatalf("stats %+v", s.Peers)
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range []Message{{ID: MsgHave, Index: 3}, {ID: MsgRequest, Index: 1, Begin: 2, Length: 3}, {ID: MsgPiece, Index: 1, Block: []byte("abc")}, {ID: MsgBitfield, Bitfield: []byte{0xf0}}, {ID: MsgUnchoke}} {
		f.Add(m.Append(nil)[4:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		if m.KeepAlive {
			return
		}
		back := m.Append(nil)
		if !bytes.Equal(back[4:], b) {
			t.Fatalf("decoded %v re-encodes as %x, not %x", m, back[4:], b)
		}
	})
}

func FuzzReadHandshake(f *testing.F) {
	f.Add(Handshake{}.Bytes())
	f.Add([]byte("\x13BitTorrent protocol"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadHandshake(bytes.NewReader(b))
		if err == nil && !bytes.Equal(h.Bytes(), b[:HandshakeLen]) {
			t.Fatal("handshake does not round-trip")
		}
	})
}
