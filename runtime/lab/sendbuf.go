package lab

// Send buffer memory. Write copies what a script sends (it may not keep
// the caller's slice), and a bulk transfer would otherwise copy every
// byte into memory fresh from the allocator: page faults and cache
// misses that cost more than everything else the lab does for the
// transfer. So the bytes written go into segment-sized slots of chunks
// that come back to the network once every segment cut from them has
// been delivered; the next writes reuse them while they are still warm,
// and the memory a transfer holds stays proportional to what is in
// flight, not to what it has sent.
//
// A chunk is reused only when nothing can read its bytes again. With the
// ideal model a segment is read once, when it is delivered in order (the
// receiver copies it into its receive buffer); a segment lost for good
// never returns its chunk, which the garbage collector then frees. Reno's
// segments may be retransmitted after the receiver has them, so its
// chunks are left to the garbage collector too.

const (
	chunkSlots = 64 // segments per chunk
	keptChunks = 64 // free chunks a network keeps at least (6 MB)
)

// A chunk is memory for chunkSlots segments.
type chunk struct {
	buf  []byte
	next int // first unused slot
	refs int // segments cut from it not yet delivered, +1 while it is a writer's
}

// newChunk takes a free chunk or makes one (n.mu held).
func (n *Network) newChunk() *chunk {
	if k := len(n.chunks); k > 0 {
		ch := n.chunks[k-1]
		n.chunks[k-1] = nil
		n.chunks = n.chunks[:k-1]
		ch.next, ch.refs = 0, 1
		n.chunksUsed++
		return ch
	}
	n.chunksMade++
	n.chunksUsed++
	return &chunk{buf: make([]byte, chunkSlots*MSS), refs: 1}
}

// freeChunk drops one reference to ch and keeps ch for reuse once nothing
// refers to it (n.mu held). The network keeps as many free chunks as are
// in use, so that many streams sending side by side reuse memory as one
// does, and what it keeps follows what is in flight.
func (n *Network) freeChunk(ch *chunk) {
	if ch == nil {
		return
	}
	ch.refs--
	if ch.refs > 0 {
		return
	}
	n.chunksUsed--
	if !n.closed && len(n.chunks) < max(keptChunks, n.chunksUsed) {
		n.chunks = append(n.chunks, ch)
	}
}

// writeSeg appends p to the segment being filled at this instant, opening
// slots as needed: the segments are the instant's writes cut every MSS
// bytes, as one buffer cut at flush would give (n.mu held).
func (c *Conn) writeSeg(p []byte) {
	for len(p) > 0 {
		if c.open == nil || len(c.open) == MSS {
			c.cutOpen()
			if c.wchunk == nil || c.wchunk.next == chunkSlots {
				c.freeSend()
				if c.tcp == nil {
					c.wchunk = c.n.newChunk()
				} else {
					// Never returned (see above), so not the network's.
					c.wchunk = &chunk{buf: make([]byte, chunkSlots*MSS)}
				}
			}
			i := c.wchunk.next * MSS
			c.wchunk.next++
			c.wchunk.refs++
			c.open = c.wchunk.buf[i : i : i+MSS]
		}
		k := min(len(p), MSS-len(c.open))
		c.open = append(c.open, p[:k]...)
		c.pendLen += k
		p = p[k:]
	}
}

// cutOpen moves the segment being filled, if any, to the segments waiting
// for the instant's flush (n.mu held).
func (c *Conn) cutOpen() {
	if len(c.open) > 0 {
		s := segment{data: c.open[:len(c.open):len(c.open)]}
		if c.tcp == nil {
			s.ch = c.wchunk
		}
		c.cutq = append(c.cutq, s)
	}
	c.open = nil
}

// freeSend gives back the chunk the writer fills, when it is full or the
// writer is done; Reno's are the garbage collector's (n.mu held).
func (c *Conn) freeSend() {
	if c.wchunk != nil && c.tcp == nil {
		c.n.freeChunk(c.wchunk)
	}
	c.wchunk = nil
}
