package torrent

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// The peer-wire protocol of BEP 3: a 68-byte handshake, then messages each
// framed as a 4-byte big-endian length, a 1-byte id and a payload. A
// length of 0 is a keep-alive.

const protocolName = "BitTorrent protocol"

// HandshakeLen is the size of a handshake: pstrlen, pstr, 8 reserved
// bytes, the info hash and the peer id.
const HandshakeLen = 1 + len(protocolName) + 8 + 20 + 20

// Message ids.
const (
	MsgChoke         = 0
	MsgUnchoke       = 1
	MsgInterested    = 2
	MsgNotInterested = 3
	MsgHave          = 4
	MsgBitfield      = 5
	MsgRequest       = 6
	MsgPiece         = 7
	MsgCancel        = 8
	MsgPort          = 9 // BEP 5 (DHT port): understood and ignored
)

var msgNames = [...]string{"choke", "unchoke", "interested", "not interested", "have", "bitfield", "request", "piece", "cancel", "port"}

// A Handshake is what both sides send first.
type Handshake struct {
	Reserved [8]byte
	InfoHash [20]byte
	PeerID   [20]byte
}

// Bytes is the handshake on the wire.
func (h Handshake) Bytes() []byte {
	b := make([]byte, 0, HandshakeLen)
	b = append(b, byte(len(protocolName)))
	b = append(b, protocolName...)
	b = append(b, h.Reserved[:]...)
	b = append(b, h.InfoHash[:]...)
	return append(b, h.PeerID[:]...)
}

// ReadHandshake reads a handshake, failing on anything that is not one.
func ReadHandshake(r io.Reader) (Handshake, error) {
	var b [HandshakeLen]byte
	if _, err := io.ReadFull(r, b[:1]); err != nil {
		return Handshake{}, err
	}
	if int(b[0]) != len(protocolName) {
		return Handshake{}, fmt.Errorf("bad handshake: protocol name length %d, want %d (%q)", b[0], len(protocolName), protocolName)
	}
	if _, err := io.ReadFull(r, b[1:]); err != nil {
		return Handshake{}, fmt.Errorf("handshake cut short: %w", err)
	}
	if string(b[1:20]) != protocolName {
		return Handshake{}, fmt.Errorf("bad handshake: protocol %q, want %q", b[1:20], protocolName)
	}
	var h Handshake
	copy(h.Reserved[:], b[20:28])
	copy(h.InfoHash[:], b[28:48])
	copy(h.PeerID[:], b[48:68])
	return h, nil
}

// A Message is one peer-wire message, decoded.
type Message struct {
	KeepAlive bool
	ID        byte
	Index     uint32 // have, request, piece, cancel
	Begin     uint32 // request, piece, cancel
	Length    uint32 // request, cancel
	Bitfield  []byte // bitfield
	Block     []byte // piece
	Port      uint16 // port
}

// Append appends m's wire form to b.
func (m Message) Append(b []byte) []byte {
	if m.KeepAlive {
		return append(b, 0, 0, 0, 0)
	}
	switch m.ID {
	case MsgHave:
		b = binary.BigEndian.AppendUint32(b, 5)
		b = append(b, m.ID)
		return binary.BigEndian.AppendUint32(b, m.Index)
	case MsgBitfield:
		b = binary.BigEndian.AppendUint32(b, uint32(1+len(m.Bitfield)))
		b = append(b, m.ID)
		return append(b, m.Bitfield...)
	case MsgRequest, MsgCancel:
		b = binary.BigEndian.AppendUint32(b, 13)
		b = append(b, m.ID)
		b = binary.BigEndian.AppendUint32(b, m.Index)
		b = binary.BigEndian.AppendUint32(b, m.Begin)
		return binary.BigEndian.AppendUint32(b, m.Length)
	case MsgPiece:
		b = binary.BigEndian.AppendUint32(b, uint32(9+len(m.Block)))
		b = append(b, m.ID)
		b = binary.BigEndian.AppendUint32(b, m.Index)
		b = binary.BigEndian.AppendUint32(b, m.Begin)
		return append(b, m.Block...)
	case MsgPort:
		b = binary.BigEndian.AppendUint32(b, 3)
		b = append(b, m.ID)
		return binary.BigEndian.AppendUint16(b, m.Port)
	}
	b = binary.BigEndian.AppendUint32(b, 1)
	return append(b, m.ID)
}

// ErrProtocol marks a message that breaks the protocol: the connection
// that sent it is closed.
var ErrProtocol = errors.New("protocol violation")

// ReadMessage reads one message. maxLen bounds the length prefix (a
// bitfield or a piece of one block, whichever is larger, plus framing), so
// a peer cannot make us allocate what it announces. buf is reused for the
// payload when large enough; the returned Block and Bitfield alias it.
func ReadMessage(r io.Reader, maxLen int, buf []byte) (Message, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Message{}, buf, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return Message{KeepAlive: true}, buf, nil
	}
	if n > uint32(maxLen) {
		return Message{}, buf, fmt.Errorf("%w: message of %d bytes is over the %d-byte limit", ErrProtocol, n, maxLen)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	p := buf[:n]
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Message{}, buf, err
	}
	m, err := DecodeMessage(p)
	return m, buf, err
}

// DecodeMessage decodes a message's body (its id and payload, without the
// length prefix).
func DecodeMessage(p []byte) (Message, error) {
	if len(p) == 0 {
		return Message{KeepAlive: true}, nil
	}
	m := Message{ID: p[0]}
	body := p[1:]
	want := -1 // exact payload length, or -1 when variable
	switch m.ID {
	case MsgChoke, MsgUnchoke, MsgInterested, MsgNotInterested:
		want = 0
	case MsgHave:
		want = 4
	case MsgRequest, MsgCancel:
		want = 12
	case MsgPort:
		want = 2
	case MsgBitfield:
		m.Bitfield = body
	case MsgPiece:
		if len(body) < 8 {
			return Message{}, fmt.Errorf("%w: piece message of %d bytes is shorter than its 8-byte header", ErrProtocol, len(body))
		}
	default:
		return Message{}, fmt.Errorf("%w: unknown message id %d", ErrProtocol, m.ID)
	}
	if want >= 0 && len(body) != want {
		return Message{}, fmt.Errorf("%w: %s message with a %d-byte payload, want %d", ErrProtocol, msgNames[m.ID], len(body), want)
	}
	switch m.ID {
	case MsgHave:
		m.Index = binary.BigEndian.Uint32(body)
	case MsgRequest, MsgCancel:
		m.Index = binary.BigEndian.Uint32(body)
		m.Begin = binary.BigEndian.Uint32(body[4:])
		m.Length = binary.BigEndian.Uint32(body[8:])
	case MsgPiece:
		m.Index = binary.BigEndian.Uint32(body)
		m.Begin = binary.BigEndian.Uint32(body[4:])
		m.Block = body[8:]
	case MsgPort:
		m.Port = binary.BigEndian.Uint16(body)
	}
	return m, nil
}

// String is the message decoded for a trace, one line.
func (m Message) String() string {
	if m.KeepAlive {
		return "keep-alive"
	}
	if int(m.ID) >= len(msgNames) {
		return fmt.Sprintf("message %d", m.ID)
	}
	name := msgNames[m.ID]
	switch m.ID {
	case MsgHave:
		return fmt.Sprintf("%s piece=%d", name, m.Index)
	case MsgBitfield:
		n := 0
		for _, c := range m.Bitfield {
			for ; c != 0; c &= c - 1 {
				n++
			}
		}
		return fmt.Sprintf("%s %d pieces", name, n)
	case MsgRequest, MsgCancel:
		return fmt.Sprintf("%s piece=%d begin=%d length=%d", name, m.Index, m.Begin, m.Length)
	case MsgPiece:
		return fmt.Sprintf("%s piece=%d begin=%d length=%d", name, m.Index, m.Begin, len(m.Block))
	case MsgPort:
		return fmt.Sprintf("%s %d", name, m.Port)
	}
	return name
}

// PeerIDString shows a peer id readably: as text when it is printable
// (most clients' are: "-TR3000-…"), in hex otherwise.
func PeerIDString(id [20]byte) string {
	for _, c := range id {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(id[:])
		}
	}
	return string(id[:])
}

// A Bitfield says which pieces a peer has, piece 0 in the high bit of byte 0.
type Bitfield []byte

// NewBitfield returns an empty bitfield for n pieces.
func NewBitfield(n int) Bitfield { return make(Bitfield, (n+7)/8) }

// Has reports whether piece i is set.
func (b Bitfield) Has(i int) bool {
	return i >= 0 && i/8 < len(b) && b[i/8]&(0x80>>(i%8)) != 0
}

// Set sets piece i.
func (b Bitfield) Set(i int) { b[i/8] |= 0x80 >> (i % 8) }

// CheckBitfield validates a received bitfield for n pieces: the right
// length and no spare bits set (BEP 3 says to drop such a peer).
func CheckBitfield(b []byte, n int) error {
	if len(b) != (n+7)/8 {
		return fmt.Errorf("%w: bitfield of %d bytes for %d pieces, want %d", ErrProtocol, len(b), n, (n+7)/8)
	}
	if n%8 != 0 && b[len(b)-1]&(0xff>>(n%8)) != 0 {
		return fmt.Errorf("%w: bitfield sets bits beyond piece %d", ErrProtocol, n-1)
	}
	return nil
}
