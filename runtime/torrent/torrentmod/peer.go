package torrentmod

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
	"github.com/netplay-dev/netplay/runtime/torrent"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"golang.org/x/term"
)

const peerDoc = `peer(meta, data=None, listen="127.0.0.1:0", peer_id=None, upload_rate=None, download_rate=None, choker=None, picker=None, trace=False) -> torrent.peer

A BitTorrent peer for the torrent meta. With data (the content's bytes, or
a str naming a file) it seeds what it is given — not checked, so corrupt
data makes a lying peer for experiments; without, it downloads. It listens
on listen (on a lab host the default is ":0"); start() announces to the
torrent's tracker and connects to the peers listed. peer_id is 20
characters, random ("-NP0001-…") by default. upload_rate and download_rate
cap its traffic ("1Mbps", "500KB/s", or bits per second). trace=True prints
every message sent and received, decoded, one line each.

choker(peers) replaces tit-for-tat: it is called every 10 seconds and when
a peer's interest changes, with a list of peers each having peer_id, addr,
download_rate and upload_rate (bytes/s over the last 20 s), interested,
am_choking, snubbed and has (a list of bools, one per piece), and returns
the peers (or their peer_ids) to unchoke. picker(have, available, peer)
replaces rarest first: have[i] is True for the pieces we have or are
already fetching, available[i] counts the connected peers that have piece
i, and it returns the index of a piece peer has (peer.has[i]) to fetch
from it, or None.

    def choker(peers):
        # unchoke the three fastest uploaders to us, and nobody else
        fast = sorted([p for p in peers if p.interested], key=lambda p: -p.download_rate)
        return fast[:3]

    seeder = torrent.peer(meta, data=data)
    leecher = torrent.peer(meta, choker=choker)
    seeder.start()
    leecher.start()
    leecher.wait(timeout=60)`

func newPeer(st stack.Stack, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var metaV starlark.Value
	var dataV, idV, upV, downV, chokerV, pickerV starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
	listen := defaultAddr(st)
	trace := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "meta", &metaV, "data?", &dataV, "listen?", &listen, "peer_id?", &idV,
		"upload_rate?", &upV, "download_rate?", &downV, "choker?", &chokerV, "picker?", &pickerV, "trace?", &trace); err != nil {
		return nil, err
	}
	mv, ok := metaV.(*Meta)
	if !ok {
		return nil, fmt.Errorf("%s: for parameter meta: got %s, want torrent.metainfo", b.Name(), metaV.Type())
	}
	in := lang.InterpOf(th)
	cfg := torrent.Config{Meta: mv.m, Stack: st, Listen: listen, Op: b.Name()}
	switch v := dataV.(type) {
	case starlark.NoneType:
	case starlark.Bytes:
		cfg.Data = []byte(v)
	case starlark.String:
		d, err := lang.ReadFile(th, b.Name(), string(v))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		cfg.Data = d
	default:
		return nil, fmt.Errorf("%s: for parameter data: got %s, want bytes, a file name or None", b.Name(), dataV.Type())
	}
	if idV != starlark.None {
		s, ok := starlark.AsString(idV)
		if !ok || len(s) != 20 {
			return nil, fmt.Errorf("%s: for parameter peer_id: want a str of 20 characters, got %s", b.Name(), idV.String())
		}
		copy(cfg.PeerID[:], s)
	}
	for _, r := range []struct {
		name string
		v    starlark.Value
		dst  *float64
	}{{"upload_rate", upV, &cfg.UploadRate}, {"download_rate", downV, &cfg.DownloadRate}} {
		if r.v == starlark.None {
			continue
		}
		bits, err := lang.Rate(r.v)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter %s: %v", b.Name(), r.name, err)
		}
		*r.dst = bits / 8
	}
	if chokerV != starlark.None {
		fn, ok := chokerV.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter choker: got %s, want a function", b.Name(), chokerV.Type())
		}
		cfg.Choker = &starChoker{in: in, fn: fn, op: b.Name(), fallback: &torrent.TitForTat{}}
	}
	if pickerV != starlark.None {
		fn, ok := pickerV.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter picker: got %s, want a function", b.Name(), pickerV.Type())
		}
		cfg.Picker = &starPicker{in: in, fn: fn, op: b.Name()}
	}
	if trace {
		out := in.Output()
		cfg.Trace = func(line string) { out.Println(line) }
	}
	var p *torrent.Peer
	var err error
	lang.Unlocked(th, func() { p, err = torrent.NewPeer(cfg) })
	if err != nil {
		return nil, err
	}
	pv := &PeerValue{p: p, meta: mv, st: st}
	pv.untrack = in.Track(pv)
	return pv, nil
}

// PeerValue is a torrent.peer.
type PeerValue struct {
	p       *torrent.Peer
	meta    *Meta
	st      stack.Stack
	untrack func()
	once    sync.Once
}

// Close stops the peer when the script ends.
func (pv *PeerValue) Close() error {
	pv.once.Do(func() { pv.p.Stop(); pv.untrack() })
	return nil
}

func noArgs(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) error {
	return starlark.UnpackArgs(b.Name(), args, kwargs)
}

var peerMethods = lang.NewMethods("torrent.peer", `torrent.peer

A BitTorrent peer from torrent.peer(). Attributes: peer_id, addr (where it
listens), meta, progress (0..1, the fraction of bytes it has), complete,
completed_after (seconds from start() to the last piece, None until then;
0 for a seeder), stats.

stats has uploaded and downloaded (block bytes), hash_failures (pieces that
failed their SHA-1 check) and peers: one struct per remote peer met, with
peer_id, addr, uploaded, downloaded, upload_rate, download_rate (bytes/s
over the last 20 s), am_choking, am_interested, peer_choking,
peer_interested, snubbed, connected, bad_pieces, closed (why the connection
ended, "" while open) and history: (seconds, event) pairs, event "choke" or
"unchoke" for our decisions, "choked" or "unchoked" for the peer's.`,
	lang.Method("torrent.peer.start", `start()

Starts the peer: it accepts connections, announces to the tracker and
connects to the peers it lists, and runs the choker.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		pv, _ := lang.Receiver[*PeerValue](b)
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, pv.p.Start)
		return starlark.None, nil
	}),
	lang.Method("torrent.peer.connect", `connect(addr)

Connects to the peer at addr ("host:port") without a tracker.

    leecher.connect(seeder.addr)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		pv, _ := lang.Receiver[*PeerValue](b)
		var addr string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr", &addr); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { pv.p.Connect(addr) })
		return starlark.None, nil
	}),
	lang.Method("torrent.peer.wait", `wait(timeout=None)

Waits until the peer has the whole content (start()ing it if needed).
Fails with kind "timeout" after timeout seconds (of the peer's clock: lab
time on the lab). Shows a progress bar meanwhile when the output is a
terminal.

    leecher.wait(timeout=30)
    print(leecher.completed_after)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		pv, _ := lang.Receiver[*PeerValue](b)
		var timeoutV starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timeout?", &timeoutV); err != nil {
			return nil, err
		}
		var timeout time.Duration
		if timeoutV != starlark.None {
			var err error
			if timeout, err = lang.Duration(timeoutV); err != nil {
				return nil, fmt.Errorf("%s: for parameter timeout: %v", b.Name(), err)
			}
		}
		ctx := lang.Context(th)
		var err error
		lang.Unlocked(th, func() {
			pv.p.Start()
			if pv.p.Complete() {
				return
			}
			stopBar := progressBar(pv)
			defer stopBar()
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			timedOut := false
			if timeoutV != starlark.None {
				t := pv.st.AfterFunc(timeout, func() { timedOut = true; cancel() })
				defer t.Stop()
			}
			err = pv.p.Wait(wctx)
			if err != nil && timedOut && ctx.Err() == nil {
				err = neterr.Errorf(neterr.KindTimeout, b.Name(), pv.p.Addr(), "timeout after %s at %.0f%%", neterr.FormatDuration(timeout), 100*pv.p.Progress())
			}
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			return nil, err
		}
		return starlark.None, nil
	}),
	lang.Method("torrent.peer.data", `data() -> bytes

The content: complete once the peer is complete (missing pieces are zeros
before).

    assert.eq(leecher.data(), data)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		pv, _ := lang.Receiver[*PeerValue](b)
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		var d []byte
		lang.Unlocked(th, func() { d = pv.p.Data() })
		return starlark.Bytes(d), nil
	}),
	lang.Method("torrent.peer.stop", `stop()

Leaves the swarm: tells the tracker and closes every connection.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		pv, _ := lang.Receiver[*PeerValue](b)
		if err := noArgs(b, args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { pv.Close() })
		return starlark.None, nil
	}),
)

func (pv *PeerValue) String() string {
	return fmt.Sprintf("<torrent.peer %s %s %.0f%%>", torrent.PeerIDString(pv.p.ID()), pv.p.Addr(), 100*pv.p.Progress())
}
func (pv *PeerValue) Type() string          { return "torrent.peer" }
func (pv *PeerValue) Freeze()               {}
func (pv *PeerValue) Truth() starlark.Bool  { return true }
func (pv *PeerValue) Hash() (uint32, error) { id := pv.p.ID(); return starlark.String(id[:]).Hash() }
func (pv *PeerValue) AttrNames() []string {
	return append(peerMethods.Names(), "addr", "complete", "completed_after", "meta", "peer_id", "progress", "stats")
}
func (pv *PeerValue) Attr(name string) (starlark.Value, error) {
	p := pv.p
	switch name {
	case "peer_id":
		id := p.ID()
		return starlark.String(id[:]), nil
	case "addr":
		return starlark.String(p.Addr()), nil
	case "meta":
		return pv.meta, nil
	case "progress":
		return starlark.Float(p.Progress()), nil
	case "complete":
		return starlark.Bool(p.Complete()), nil
	case "completed_after":
		if !p.Complete() {
			return starlark.None, nil
		}
		return starlark.Float(p.CompletedAfter().Seconds()), nil
	case "stats":
		return statsValue(p.Stats()), nil
	}
	return peerMethods.Attr(pv, name), nil
}

var (
	peerInfoType = lang.Document("torrent.peer_info", `torrent.peer_info

A remote peer as a choker or picker sees it: peer_id, addr, download_rate
and upload_rate (bytes/s over the last 20 s), interested (it wants our
pieces), am_choking (we choke it now), snubbed (we want its pieces and it
sent none for 60 s), has (list of bools, one per piece).`)
)

func statsValue(s torrent.Stats) starlark.Value {
	peers := make([]starlark.Value, len(s.Peers))
	for i, ps := range s.Peers {
		hist := make([]starlark.Value, len(ps.History))
		for j, h := range ps.History {
			hist[j] = starlark.Tuple{starlark.Float(h.At.Seconds()), starlark.String(h.Event)}
		}
		peers[i] = starlarkstruct.FromStringDict(starlark.String("torrent.peer_stats"), starlark.StringDict{
			"peer_id":         starlark.String(ps.ID),
			"addr":            starlark.String(ps.Addr),
			"uploaded":        starlark.MakeInt64(ps.Uploaded),
			"downloaded":      starlark.MakeInt64(ps.Downloaded),
			"upload_rate":     starlark.Float(ps.UploadRate),
			"download_rate":   starlark.Float(ps.DownloadRate),
			"am_choking":      starlark.Bool(ps.AmChoking),
			"am_interested":   starlark.Bool(ps.AmInterested),
			"peer_choking":    starlark.Bool(ps.PeerChoking),
			"peer_interested": starlark.Bool(ps.PeerInterested),
			"interested":      starlark.Bool(ps.PeerInterested),
			"snubbed":         starlark.Bool(ps.Snubbed),
			"connected":       starlark.Bool(ps.Connected),
			"bad_pieces":      starlark.MakeInt(ps.BadPieces),
			"closed":          starlark.String(ps.Closed),
			"history":         starlark.NewList(hist),
		})
	}
	return starlarkstruct.FromStringDict(starlark.String("torrent.stats"), starlark.StringDict{
		"uploaded":      starlark.MakeInt64(s.Uploaded),
		"downloaded":    starlark.MakeInt64(s.Downloaded),
		"hash_failures": starlark.MakeInt(s.HashFailures),
		"peers":         starlark.NewList(peers),
	})
}

func peerInfo(p torrent.PeerInfo) *starlarkstruct.Struct {
	has := make([]starlark.Value, len(p.Has))
	for i, h := range p.Has {
		has[i] = starlark.Bool(h)
	}
	return starlarkstruct.FromStringDict(starlark.String("torrent.peer_info"), starlark.StringDict{
		"peer_id":       starlark.String(p.ID),
		"addr":          starlark.String(p.Addr),
		"download_rate": starlark.Float(p.DownloadRate),
		"upload_rate":   starlark.Float(p.UploadRate),
		"interested":    starlark.Bool(p.Interested),
		"am_choking":    starlark.Bool(p.AmChoking),
		"snubbed":       starlark.Bool(p.Snubbed),
		"has":           starlark.NewList(has),
	})
}

// starChoker runs a script's choker(peers).
type starChoker struct {
	in       *lang.Interp
	fn       starlark.Callable
	op       string
	fallback torrent.Choker
	warned   sync.Once
}

func (s *starChoker) Choose(now time.Time, peers []torrent.PeerInfo, complete bool) []string {
	if s.in.Context().Err() != nil {
		return nil
	}
	list := make([]starlark.Value, len(peers))
	for i, p := range peers {
		list[i] = peerInfo(p)
	}
	v, err := s.in.Call("torrent choker", s.fn, starlark.Tuple{starlark.NewList(list)}, nil)
	if err == nil {
		var ids []string
		if ids, err = unchokeList(v); err == nil {
			return ids
		}
	}
	s.warned.Do(func() {
		s.in.Fprintf("%s: choker failed, using tit-for-tat instead: %s\n", s.op, lang.FormatError(err))
	})
	return s.fallback.Choose(now, peers, complete)
}

func unchokeList(v starlark.Value) ([]string, error) {
	if v == starlark.None {
		return nil, nil
	}
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("choker returned %s, want a list of peers or peer_ids", v.Type())
	}
	var ids []string
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		switch x := x.(type) {
		case starlark.String:
			ids = append(ids, string(x))
		case *starlarkstruct.Struct:
			id, err := x.Attr("peer_id")
			s, ok := id.(starlark.String)
			if err != nil || !ok {
				return nil, fmt.Errorf("choker returned a struct without peer_id")
			}
			ids = append(ids, string(s))
		default:
			return nil, fmt.Errorf("choker returned a list holding %s, want peers or peer_ids", x.Type())
		}
	}
	return ids, nil
}

// starPicker runs a script's picker(have, available, peer).
type starPicker struct {
	in     *lang.Interp
	fn     starlark.Callable
	op     string
	warned sync.Once
}

func (s *starPicker) Pick(have []bool, available []int, peer torrent.PeerInfo) int {
	if s.in.Context().Err() != nil {
		return -1
	}
	h := make([]starlark.Value, len(have))
	a := make([]starlark.Value, len(available))
	for i := range have {
		h[i] = starlark.Bool(have[i])
		a[i] = starlark.MakeInt(available[i])
	}
	v, err := s.in.Call("torrent picker", s.fn, starlark.Tuple{starlark.NewList(h), starlark.NewList(a), peerInfo(peer)}, nil)
	if err == nil {
		if v == starlark.None {
			return -1
		}
		var i int
		if err = starlark.AsInt(v, &i); err == nil {
			return i
		}
		err = fmt.Errorf("picker returned %s, want a piece index or None", v.Type())
	}
	s.warned.Do(func() {
		s.in.Fprintf("%s: picker failed, fetching nothing it would have picked: %s\n", s.op, lang.FormatError(err))
	})
	return -1
}

// progressBar shows the download on a terminal and returns what removes it.
func progressBar(pv *PeerValue) func() {
	if !term.IsTerminal(int(os.Stdout.Fd())) {
		return func() {}
	}
	return showBar(pv.meta.m.Name, pv.meta.m.Length, pv.p.Have, pv.p.Done())
}
