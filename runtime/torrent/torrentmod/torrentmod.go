// Package torrentmod is the Starlark module torrent: a thin layer over the
// engine in runtime/torrent (metainfo, tracker, peers), whose choker and
// picker a script may replace with its own functions.
package torrentmod

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/neterr"
	"github.com/netplay-dev/netplay/runtime/stack"
	"github.com/netplay-dev/netplay/runtime/torrent"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

const moduleDoc = `BitTorrent: .torrent metainfo, an HTTP tracker, and peers speaking the
BEP 3 peer-wire protocol. Peers download 16 KiB blocks rarest piece first,
check every piece's SHA-1, upload tit-for-tat (four slots by download rate,
rechoke every 10 s, an optimistic unchoke every 30 s) and seed once
complete, sharing a seed's upload among every peer that asks; choker= and
picker= replace those policies with Starlark functions. On the lab every host has h.torrent, for swarm experiments.

    t = torrent.tracker("127.0.0.1:0", interval=1)
    data = b"x" * 1000000
    meta = torrent.create(data, tracker=t.url, name="file.bin")
    seeder = torrent.peer(meta, data=data)
    seeder.start()
    leechers = [torrent.peer(meta) for i in range(3)]
    for p in leechers:
        p.start()
    for p in leechers:
        p.wait(timeout=30)
    print(all([p.data() == data for p in leechers]))   # True`

// New returns the torrent module over st.
func New(st stack.Stack) *lang.Module {
	bind := func(fn func(stack.Stack, *starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return fn(st, th, b, args, kwargs)
		}
	}
	return lang.NewModule("torrent", moduleDoc, starlark.StringDict{
		"create":  lang.Func("torrent.create", createDoc, create),
		"load":    lang.Func("torrent.load", loadDoc, load),
		"tracker": lang.Func("torrent.tracker", trackerDoc, bind(newTracker)),
		"peer":    lang.Func("torrent.peer", peerDoc, bind(newPeer)),
	}, metaMethods, trackerMethods, peerMethods, peerInfoType)
}

// defaultAddr is where servers listen when the script does not say: the
// loopback on the real network (netplay never listens beyond it unasked),
// every address on a lab host, so the other hosts can reach it.
func defaultAddr(st stack.Stack) string {
	if st.Name() == "os" {
		return "127.0.0.1:0"
	}
	return ":0"
}

// ---- metainfo ----

const createDoc = `create(data, piece_length="256KiB", tracker=None, name=None) -> torrent.metainfo

The metainfo (.torrent) of data: bytes, or a str naming a file to read.
The content is cut in pieces of piece_length (a power of two of at least
16 KiB) and each piece's SHA-1 is recorded; tracker is the announce URL
peers will ask for each other; name defaults to the file's name, or "data".

    meta = torrent.create(b"hello" * 100000, tracker="http://127.0.0.1:6969/announce", name="hello.txt")
    print(meta.pieces, meta.piece_length, meta.info_hash)`

func create(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dataV starlark.Value
	var plV starlark.Value = starlark.String("256KiB")
	var trackerV, nameV starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "data", &dataV, "piece_length?", &plV, "tracker?", &trackerV, "name?", &nameV); err != nil {
		return nil, err
	}
	name := "data"
	var data []byte
	switch v := dataV.(type) {
	case starlark.Bytes:
		data = []byte(v)
	case starlark.String:
		var err error
		if data, err = lang.ReadFile(th, b.Name(), string(v)); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		name = filepath.Base(string(v))
	default:
		return nil, fmt.Errorf("%s: for parameter data: got %s, want bytes or a file name", b.Name(), dataV.Type())
	}
	if nameV != starlark.None {
		s, ok := starlark.AsString(nameV)
		if !ok || s == "" {
			return nil, fmt.Errorf("%s: for parameter name: got %s, want a non-empty str", b.Name(), nameV.String())
		}
		name = s
	}
	pl, err := lang.Size(plV)
	if err != nil {
		return nil, fmt.Errorf("%s: for parameter piece_length: %v", b.Name(), err)
	}
	tracker := ""
	if trackerV != starlark.None {
		s, ok := starlark.AsString(trackerV)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter tracker: got %s, want a URL", b.Name(), trackerV.Type())
		}
		tracker = s
	}
	m, err := torrent.Create(data, name, pl, tracker)
	if err != nil {
		return nil, neterr.Errorf(neterr.KindArgument, b.Name(), "", "%v", err)
	}
	return &Meta{m: m}, nil
}

const loadDoc = `load(source) -> torrent.metainfo

Reads a .torrent file: source is a file name (str) or the file's bytes. A
malformed file fails with kind "protocol" and a message naming the field
at fault ("field info.pieces: length 41 is not a positive multiple of 20").

    meta = torrent.load(torrent.create(b"abc", name="abc").bytes())
    print(meta.name, meta.length)     # abc 3`

func load(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "source", &src); err != nil {
		return nil, err
	}
	var raw []byte
	where := "bytes"
	switch v := src.(type) {
	case starlark.Bytes:
		raw = []byte(v)
	case starlark.String:
		var err error
		if raw, err = lang.ReadFile(th, b.Name(), string(v)); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		where = string(v)
	default:
		return nil, fmt.Errorf("%s: for parameter source: got %s, want a file name or bytes", b.Name(), src.Type())
	}
	m, err := torrent.Parse(raw)
	if err != nil {
		return nil, neterr.Errorf(neterr.KindProtocol, b.Name(), where, "%v", err)
	}
	return &Meta{m: m}, nil
}

// Meta is a torrent.metainfo.
type Meta struct{ m *torrent.MetaInfo }

var metaMethods = lang.NewMethods("torrent.metainfo", `torrent.metainfo

A torrent's metainfo, from torrent.create or torrent.load. Attributes:
info_hash (hex SHA-1 of the info dictionary, the torrent's identity),
pieces (count), piece_length, length (bytes), name, tracker (announce URL or
None), private, hashes (each piece's SHA-1 in hex).`,
	lang.Method("torrent.metainfo.save", `save(path)

Writes the .torrent file, which real clients (transmission-cli …) read.

    meta.save("file.torrent")`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mv, _ := lang.Receiver[*Meta](b)
		var path string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
			return nil, err
		}
		abs, err := lang.CheckPath(th, b.Name(), path, true)
		if err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { err = os.WriteFile(abs, mv.m.Encode(), 0o644) })
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return starlark.None, nil
	}),
	lang.Method("torrent.metainfo.bytes", `bytes() -> bytes

The .torrent file's bytes.

    print(len(meta.bytes()))`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mv, _ := lang.Receiver[*Meta](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return starlark.Bytes(mv.m.Encode()), nil
	}),
)

func (mv *Meta) String() string {
	return fmt.Sprintf("<torrent.metainfo %q %d bytes, %d pieces of %d, info_hash %s>", mv.m.Name, mv.m.Length, mv.m.NumPieces(), mv.m.PieceLength, mv.m.HexHash())
}
func (mv *Meta) Type() string          { return "torrent.metainfo" }
func (mv *Meta) Freeze()               {}
func (mv *Meta) Truth() starlark.Bool  { return true }
func (mv *Meta) Hash() (uint32, error) { return starlark.String(mv.m.InfoHash[:]).Hash() }
func (mv *Meta) AttrNames() []string {
	return append(metaMethods.Names(), "hashes", "info_hash", "length", "name", "piece_length", "pieces", "private", "tracker")
}
func (mv *Meta) Attr(name string) (starlark.Value, error) {
	m := mv.m
	switch name {
	case "info_hash":
		return starlark.String(m.HexHash()), nil
	case "pieces":
		return starlark.MakeInt(m.NumPieces()), nil
	case "piece_length":
		return starlark.MakeInt64(m.PieceLength), nil
	case "length":
		return starlark.MakeInt64(m.Length), nil
	case "name":
		return starlark.String(m.Name), nil
	case "tracker":
		if m.Announce == "" {
			return starlark.None, nil
		}
		return starlark.String(m.Announce), nil
	case "private":
		return starlark.Bool(m.Private), nil
	case "hashes":
		l := make([]starlark.Value, len(m.Hashes))
		for i, h := range m.Hashes {
			l[i] = starlark.String(fmt.Sprintf("%x", h))
		}
		return starlark.NewList(l), nil
	}
	return metaMethods.Attr(mv, name), nil
}

// ---- tracker ----

const trackerDoc = `tracker(addr="127.0.0.1:0", interval=30) -> torrent.tracker

Starts an HTTP tracker on addr: peers announce to its url (GET
/announce?info_hash=…&peer_id=…&port=…&left=…&event=started) and get a
bencoded list of the other peers, compact (6 bytes each, BEP 23) unless they
ask otherwise, and how long to wait before announcing again (interval,
seconds). Bad announces get a "failure reason". On a lab host the default
address is ":0" (every address of the host).

    t = torrent.tracker("127.0.0.1:0", interval=5)
    meta = torrent.create(b"data" * 1000, tracker=t.url)
    print(t.url)`

func newTracker(st stack.Stack, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	addr := defaultAddr(st)
	var intervalV starlark.Value = starlark.MakeInt(30)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "addr?", &addr, "interval?", &intervalV); err != nil {
		return nil, err
	}
	interval, err := lang.Duration(intervalV)
	if err != nil || interval < time.Second {
		return nil, fmt.Errorf("%s: for parameter interval: want at least 1 second, got %s", b.Name(), intervalV.String())
	}
	var t *torrent.Tracker
	lang.Unlocked(th, func() { t, err = torrent.NewTracker(st, addr, interval) })
	if err != nil {
		return nil, err
	}
	tv := &TrackerValue{t: t, interval: interval}
	tv.untrack = lang.InterpOf(th).Track(tv)
	return tv, nil
}

// TrackerValue is a torrent.tracker.
type TrackerValue struct {
	t        *torrent.Tracker
	interval time.Duration
	untrack  func()
	once     sync.Once
}

// Close stops the tracker when the script ends.
func (tv *TrackerValue) Close() error {
	tv.once.Do(func() { tv.t.Stop(); tv.untrack() })
	return nil
}

var trackerMethods = lang.NewMethods("torrent.tracker", `torrent.tracker

A running tracker from torrent.tracker(). Attributes: url (the announce
URL to put in a torrent), interval (seconds).`,
	lang.Method("torrent.tracker.peers", `peers(info_hash) -> list

The peers the tracker knows in the swarm of info_hash (hex, or a
torrent.metainfo): structs with peer_id, addr ("ip:port"), left (bytes
still needed, 0 for a seeder) and uploaded.

    for p in t.peers(meta.info_hash):
        print(p.addr, p.left)`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		tv, _ := lang.Receiver[*TrackerValue](b)
		var ihV starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "info_hash", &ihV); err != nil {
			return nil, err
		}
		var ih [20]byte
		switch v := ihV.(type) {
		case *Meta:
			ih = v.m.InfoHash
		case starlark.String:
			var raw []byte
			if _, err := fmt.Sscanf(string(v), "%x", &raw); err != nil || len(raw) != 20 {
				return nil, fmt.Errorf("%s: for parameter info_hash: want 40 hex digits, got %q", b.Name(), string(v))
			}
			copy(ih[:], raw)
		default:
			return nil, fmt.Errorf("%s: for parameter info_hash: got %s, want a hex str or a torrent.metainfo", b.Name(), ihV.Type())
		}
		var list []starlark.Value
		for _, p := range tv.t.Peers(ih) {
			list = append(list, starlarkstruct.FromStringDict(starlark.String("torrent.tracked_peer"), starlark.StringDict{
				"peer_id":  starlark.String(p.ID[:]),
				"addr":     starlark.String(p.Addr.String()),
				"left":     starlark.MakeInt64(p.Left),
				"uploaded": starlark.MakeInt64(p.Uploaded),
			}))
		}
		return starlark.NewList(list), nil
	}),
	lang.Method("torrent.tracker.stop", `stop()

Stops the tracker.`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		tv, _ := lang.Receiver[*TrackerValue](b)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
			return nil, err
		}
		lang.Unlocked(th, func() { tv.Close() })
		return starlark.None, nil
	}),
)

func (tv *TrackerValue) String() string        { return fmt.Sprintf("<torrent.tracker %s>", tv.t.URL()) }
func (tv *TrackerValue) Type() string          { return "torrent.tracker" }
func (tv *TrackerValue) Freeze()               {}
func (tv *TrackerValue) Truth() starlark.Bool  { return true }
func (tv *TrackerValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: torrent.tracker") }
func (tv *TrackerValue) AttrNames() []string {
	return append(trackerMethods.Names(), "interval", "url")
}
func (tv *TrackerValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "url":
		return starlark.String(tv.t.URL()), nil
	case "interval":
		return starlark.Float(tv.interval.Seconds()), nil
	}
	return trackerMethods.Attr(tv, name), nil
}

// sortedKeys is for deterministic struct building.
func sortedKeys(m map[string]starlark.Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var _ = strings.TrimSpace
var _ context.Context
