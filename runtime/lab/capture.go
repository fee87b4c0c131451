package lab

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// wire is what a capture needs to write a packet as a real one: the lab's
// packets carry sizes and callbacks, not headers. It is filled in only
// while a capture runs.
type wire struct {
	udp      bool
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	payload  []byte
}

// TCP flags of wire.flags.
const (
	flagFIN = 1 << iota
	flagSYN
	flagRST
	flagPSH
	flagACK
)

// Capture writes the packets of a lab network to a pcap file: synthetic
// Ethernet, IPv4 and TCP or UDP headers around the real payloads, with
// sequence and acknowledgement numbers that follow the bytes, so tshark
// and Wireshark decode HTTP, DNS, SMTP, POP3 and IMAP and follow the
// streams. Timestamps are lab time (lab.Epoch is 2000-01-01).
type Capture struct {
	n     *Network
	f     io.WriteCloser
	buf   *bufio.Writer
	w     *pcapgo.Writer
	links map[*Link]bool // nil: every packet, once, as its host sends it

	ipID    uint16
	packets int
	err     error
	stopped bool
	once    sync.Once
}

// Capture starts writing the network's packets to f: every packet once,
// as its host sends it, or with links, every packet that enters one of
// those links (once per link it crosses). Stop ends it and closes f.
func (n *Network) Capture(f io.WriteCloser, links []*Link) (*Capture, error) {
	c := &Capture{n: n, f: f, buf: bufio.NewWriterSize(f, 64<<10)}
	c.w = pcapgo.NewWriter(c.buf)
	if err := c.w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		f.Close()
		return nil, err
	}
	if links != nil {
		c.links = map[*Link]bool{}
		for _, l := range links {
			if l.n != n {
				f.Close()
				return nil, fmt.Errorf("link %s-%s belongs to another network", l.A, l.B)
			}
			c.links[l] = true
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		f.Close()
		return nil, errNetClosed
	}
	n.captures = append(n.captures, c)
	return c, nil
}

// Stop ends the capture, flushes and closes the file, and reports the
// first error writing it met.
func (c *Capture) Stop() error {
	c.once.Do(func() {
		n := c.n
		n.mu.Lock()
		c.stopped = true
		for i, x := range n.captures {
			if x == c {
				n.captures = append(n.captures[:i:i], n.captures[i+1:]...)
				break
			}
		}
		err := c.err
		n.mu.Unlock()
		if ferr := c.buf.Flush(); err == nil {
			err = ferr
		}
		if cerr := c.f.Close(); err == nil {
			err = cerr
		}
		c.err = err
	})
	return c.err
}

// Packets is how many packets the capture has written.
func (c *Capture) Packets() int {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.packets
}

// capturing reports whether any capture runs (n.mu held): only then do
// packets carry their headers.
func (n *Network) capturing() bool { return len(n.captures) > 0 }

// captureSent records p as its host sends it (n.mu held).
func (n *Network) captureSent(p *packet) {
	if p.wire == nil || p.src == p.dst {
		return
	}
	for _, c := range n.captures {
		if c.links == nil {
			c.write(p.wire)
		}
	}
}

// captureLink records p as it enters link l (n.mu held).
func (n *Network) captureLink(p *packet, l *Link) {
	if p.wire == nil {
		return
	}
	for _, c := range n.captures {
		if c.links != nil && c.links[l] {
			c.write(p.wire)
		}
	}
}

// mac makes a locally administered Ethernet address from a lab address.
func mac(a netip.Addr) net.HardwareAddr {
	b := a.Unmap().As4()
	return net.HardwareAddr{0x02, 0x00, b[0], b[1], b[2], b[3]}
}

// write writes one packet at the current lab time (n.mu held).
func (c *Capture) write(w *wire) {
	if c.err != nil || c.stopped {
		return
	}
	c.ipID++
	eth := &layers.Ethernet{SrcMAC: mac(w.src.Addr()), DstMAC: mac(w.dst.Addr()), EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Id: c.ipID, Flags: layers.IPv4DontFragment,
		SrcIP: w.src.Addr().Unmap().AsSlice(), DstIP: w.dst.Addr().Unmap().AsSlice()}
	var l4 gopacket.SerializableLayer
	if w.udp {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: layers.UDPPort(w.src.Port()), DstPort: layers.UDPPort(w.dst.Port())}
		u.SetNetworkLayerForChecksum(ip)
		l4 = u
	} else {
		ip.Protocol = layers.IPProtocolTCP
		t := &layers.TCP{SrcPort: layers.TCPPort(w.src.Port()), DstPort: layers.TCPPort(w.dst.Port()),
			Seq: w.seq, Ack: w.ack, Window: 65535,
			FIN: w.flags&flagFIN != 0, SYN: w.flags&flagSYN != 0, RST: w.flags&flagRST != 0,
			PSH: w.flags&flagPSH != 0, ACK: w.flags&flagACK != 0}
		if t.SYN {
			t.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: binary.BigEndian.AppendUint16(nil, MSS)}}
		}
		t.SetNetworkLayerForChecksum(ip)
		l4 = t
	}
	sb := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, l4, gopacket.Payload(w.payload))
	if err == nil {
		data := sb.Bytes()
		err = c.w.WritePacket(gopacket.CaptureInfo{Timestamp: Epoch.Add(c.n.now), CaptureLength: len(data), Length: len(data)}, data)
	}
	if err != nil {
		c.err = err
		return
	}
	c.packets++
}

// ---- the headers of stream segments ----

// tcpState is what a connection's end needs for its segments' headers.
type tcpState struct {
	isn  uint32 // initial sequence number
	sent uint32 // payload bytes put into segments so far
	rcvd uint32 // payload bytes received in order
	fin  bool   // the peer's FIN has arrived
}

// tcpWire returns the header fields of a segment from c (n.mu held), or
// nil when nothing is captured.
func (c *Conn) tcpWire(flags uint8, payload []byte) *wire {
	if !c.n.capturing() {
		return nil
	}
	return c.tcpWireSeq(flags, payload, c.ts.sent)
}

// tcpWireSeq is tcpWire for a segment with sent payload bytes before it
// (a Reno retransmission repeats its sequence number).
func (c *Conn) tcpWireSeq(flags uint8, payload []byte, sent uint32) *wire {
	w := &wire{src: c.laddr.AddrPort(), dst: c.raddr.AddrPort(), flags: flags, payload: payload}
	w.seq = c.ts.isn + 1 + sent
	if flags&flagSYN != 0 {
		w.seq = c.ts.isn
	}
	if flags&flagACK != 0 && c.peer != nil {
		w.ack = c.peer.ts.isn + 1 + c.ts.rcvd
		if c.ts.fin {
			w.ack++
		}
	}
	return w
}

// newISN draws an initial sequence number from the host's generator.
func (h *Host) newISN() uint32 { return uint32(h.rng.Uint64()) }
