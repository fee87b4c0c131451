// Package torrent is netplay's BitTorrent engine: metainfo (.torrent files),
// an HTTP tracker with compact peer lists, and peers speaking the BEP 3
// peer-wire protocol with pluggable choking and piece selection. It is
// plain Go: the Starlark module (torrentmod) is a thin layer over it, and
// everything reaches the network and the clock through a stack.Stack, so a
// swarm runs alike on loopback and on the lab network.
package torrent

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/zeebo/bencode"
)

// BlockSize is the size of one request: 16 KiB, what every client asks for.
const BlockSize = 16 * 1024

// MaxMetainfoSize bounds a .torrent file: the largest real ones hold a few
// megabytes of piece hashes.
const MaxMetainfoSize = 32 << 20

// A File is one file of a multi-file torrent; a single-file torrent has one.
type File struct {
	Path   []string
	Length int64
}

// MetaInfo is a parsed .torrent file.
type MetaInfo struct {
	Announce    string
	Name        string
	PieceLength int64
	Length      int64      // total bytes of all files
	Hashes      [][20]byte // one SHA-1 per piece
	Files       []File     // nil for a single-file torrent
	Private     bool

	// InfoBytes are the info dictionary exactly as it appears in the file:
	// the info hash is their SHA-1, so re-encoding must never change them.
	InfoBytes []byte
	InfoHash  [20]byte
}

// NumPieces is the number of pieces.
func (m *MetaInfo) NumPieces() int { return len(m.Hashes) }

// PieceSize is the length of piece i: PieceLength except for the last one.
func (m *MetaInfo) PieceSize(i int) int {
	if i == len(m.Hashes)-1 {
		if r := m.Length - int64(i)*m.PieceLength; r > 0 {
			return int(r)
		}
	}
	return int(m.PieceLength)
}

// HexHash is the info hash in hexadecimal, as magnet links and trackers' logs show it.
func (m *MetaInfo) HexHash() string { return hex.EncodeToString(m.InfoHash[:]) }

// Create builds the metainfo of data, hashing it in pieces of pieceLength.
func Create(data []byte, name string, pieceLength int64, announce string) (*MetaInfo, error) {
	if pieceLength < BlockSize || pieceLength&(pieceLength-1) != 0 {
		return nil, fmt.Errorf("piece length %d: want a power of two of at least 16 KiB", pieceLength)
	}
	if name == "" {
		return nil, errors.New("empty name")
	}
	if len(data) == 0 {
		return nil, errors.New("no data: a torrent needs at least one byte")
	}
	var pieces []byte
	for off := 0; off < len(data); off += int(pieceLength) {
		h := sha1.Sum(data[off:min(len(data), off+int(pieceLength))])
		pieces = append(pieces, h[:]...)
	}
	info := struct {
		Length      int64  `bencode:"length"`
		Name        string `bencode:"name"`
		PieceLength int64  `bencode:"piece length"`
		Pieces      []byte `bencode:"pieces"`
	}{int64(len(data)), name, pieceLength, pieces}
	ib, err := bencode.EncodeBytes(info)
	if err != nil {
		return nil, err
	}
	top := map[string]any{"info": bencode.RawMessage(ib)}
	if announce != "" {
		top["announce"] = announce
	}
	b, err := bencode.EncodeBytes(top)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Encode returns the .torrent file's bytes.
func (m *MetaInfo) Encode() []byte {
	top := map[string]any{"info": bencode.RawMessage(m.InfoBytes)}
	if m.Announce != "" {
		top["announce"] = m.Announce
	}
	b, err := bencode.EncodeBytes(top)
	if err != nil {
		panic(err) // a string and raw bytes that came from a parse always encode
	}
	return b
}

// A FieldError says which field of a .torrent file is wrong.
type FieldError struct {
	Field string // "info.piece length"
	Msg   string
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a .torrent file. A malformed one gets an error naming the
// field at fault ("field info.pieces: length 41 is not a multiple of 20").
func Parse(b []byte) (*MetaInfo, error) {
	if len(b) > MaxMetainfoSize {
		return nil, fmt.Errorf("metainfo of %d bytes is over the %d-byte limit", len(b), MaxMetainfoSize)
	}
	if err := Check(b); err != nil {
		return nil, fmt.Errorf("not bencoded metainfo: %v", err)
	}
	if len(b) == 0 || b[0] != 'd' {
		return nil, errors.New("not bencoded metainfo: the top level must be a dictionary")
	}
	var top map[string]bencode.RawMessage
	if err := bencode.DecodeBytes(b, &top); err != nil {
		return nil, fmt.Errorf("not bencoded metainfo: %v", err)
	}
	m := &MetaInfo{}
	if raw, ok := top["announce"]; ok {
		s, err := decodeString("announce", raw)
		if err != nil {
			return nil, err
		}
		m.Announce = s
	}
	raw, ok := top["info"]
	if !ok {
		return nil, fieldErr("info", "missing")
	}
	if len(raw) == 0 || raw[0] != 'd' {
		return nil, fieldErr("info", "want a dictionary")
	}
	m.InfoBytes = append([]byte(nil), raw...)
	m.InfoHash = sha1.Sum(m.InfoBytes)
	var info map[string]bencode.RawMessage
	if err := bencode.DecodeBytes(raw, &info); err != nil {
		return nil, fieldErr("info", "%v", err)
	}
	var err error
	if m.Name, err = needString(info, "name"); err != nil {
		return nil, err
	}
	if m.PieceLength, err = needInt(info, "piece length"); err != nil {
		return nil, err
	}
	if m.PieceLength <= 0 || m.PieceLength > 1<<30 {
		return nil, fieldErr("info.piece length", "%d is out of range (want 1 byte .. 1 GiB)", m.PieceLength)
	}
	pieces, err := needString(info, "pieces")
	if err != nil {
		return nil, err
	}
	if len(pieces)%20 != 0 || len(pieces) == 0 {
		return nil, fieldErr("info.pieces", "length %d is not a positive multiple of 20 (one SHA-1 per piece)", len(pieces))
	}
	for i := 0; i < len(pieces); i += 20 {
		m.Hashes = append(m.Hashes, [20]byte([]byte(pieces[i:i+20])))
	}
	if p, ok := info["private"]; ok {
		v, err := decodeInt("info.private", p)
		if err != nil {
			return nil, err
		}
		m.Private = v == 1
	}
	_, hasLength := info["length"]
	filesRaw, hasFiles := info["files"]
	switch {
	case hasLength && hasFiles:
		return nil, fieldErr("info.files", "both length and files are present")
	case hasLength:
		if m.Length, err = needInt(info, "length"); err != nil {
			return nil, err
		}
		if m.Length <= 0 {
			return nil, fieldErr("info.length", "%d is not positive", m.Length)
		}
	case hasFiles:
		if m.Files, err = decodeFiles(filesRaw); err != nil {
			return nil, err
		}
		for _, f := range m.Files {
			m.Length += f.Length
		}
		if m.Length <= 0 {
			return nil, fieldErr("info.files", "the files hold no bytes")
		}
	default:
		return nil, fieldErr("info.length", "missing (and no info.files either)")
	}
	want := (m.Length + m.PieceLength - 1) / m.PieceLength
	if int64(len(m.Hashes)) != want {
		return nil, fieldErr("info.pieces", "%d hashes for %d bytes in pieces of %d: want %d", len(m.Hashes), m.Length, m.PieceLength, want)
	}
	return m, nil
}

func decodeFiles(raw []byte) ([]File, error) {
	var list []bencode.RawMessage
	if len(raw) == 0 || raw[0] != 'l' {
		return nil, fieldErr("info.files", "want a list")
	}
	if err := bencode.DecodeBytes(raw, &list); err != nil {
		return nil, fieldErr("info.files", "%v", err)
	}
	var files []File
	for i, r := range list {
		where := "info.files[" + strconv.Itoa(i) + "]"
		if len(r) == 0 || r[0] != 'd' {
			return nil, fieldErr(where, "want a dictionary")
		}
		var d map[string]bencode.RawMessage
		if err := bencode.DecodeBytes(r, &d); err != nil {
			return nil, fieldErr(where, "%v", err)
		}
		lr, ok := d["length"]
		if !ok {
			return nil, fieldErr(where+".length", "missing")
		}
		n, err := decodeInt(where+".length", lr)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, fieldErr(where+".length", "%d is negative", n)
		}
		pr, ok := d["path"]
		if !ok {
			return nil, fieldErr(where+".path", "missing")
		}
		var path []string
		if len(pr) == 0 || pr[0] != 'l' || bencode.DecodeBytes(pr, &path) != nil || len(path) == 0 {
			return nil, fieldErr(where+".path", "want a non-empty list of strings")
		}
		files = append(files, File{Path: path, Length: n})
	}
	if len(files) == 0 {
		return nil, fieldErr("info.files", "empty list")
	}
	return files, nil
}

func needString(d map[string]bencode.RawMessage, key string) (string, error) {
	raw, ok := d[key]
	if !ok {
		return "", fieldErr("info."+key, "missing")
	}
	return decodeString("info."+key, raw)
}

func needInt(d map[string]bencode.RawMessage, key string) (int64, error) {
	raw, ok := d[key]
	if !ok {
		return 0, fieldErr("info."+key, "missing")
	}
	return decodeInt("info."+key, raw)
}

func decodeString(field string, raw []byte) (string, error) {
	var s string
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return "", fieldErr(field, "want a string, got %s", kindOf(raw))
	}
	if err := bencode.DecodeBytes(raw, &s); err != nil {
		return "", fieldErr(field, "%v", err)
	}
	return s, nil
}

func decodeInt(field string, raw []byte) (int64, error) {
	var n int64
	if len(raw) == 0 || raw[0] != 'i' {
		return 0, fieldErr(field, "want an integer, got %s", kindOf(raw))
	}
	if err := bencode.DecodeBytes(raw, &n); err != nil {
		return 0, fieldErr(field, "%v", err)
	}
	return n, nil
}

func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == 'd':
		return "a dictionary"
	case c == 'l':
		return "a list"
	case c == 'i':
		return "an integer"
	case c >= '0' && c <= '9':
		return "a string"
	}
	return "garbage"
}

// maxDepth bounds nesting, so a file of a million 'l's cannot exhaust the stack.
const maxDepth = 64

// Check reports whether b is exactly one well-formed bencoded value. The
// library decoder trusts string lengths (it allocates what "2000000000:"
// announces before reading), so input from the network is checked first.
func Check(b []byte) error {
	n, err := checkValue(b, 0, 0)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%d bytes of trailing data at offset %d", len(b)-n, n)
	}
	return nil
}

func checkValue(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("nested more than %d deep at offset %d", maxDepth, i)
	}
	if i >= len(b) {
		return 0, fmt.Errorf("input ends at offset %d where a value should start", i)
	}
	switch c := b[i]; {
	case c == 'i':
		end := bytes.IndexByte(b[i+1:], 'e')
		if end < 0 {
			return 0, fmt.Errorf("integer at offset %d has no end", i)
		}
		digits := string(b[i+1 : i+1+end])
		if _, err := strconv.ParseInt(digits, 10, 64); err != nil {
			return 0, fmt.Errorf("bad integer %q at offset %d", digits, i)
		}
		return i + end + 2, nil
	case c >= '0' && c <= '9':
		colon := bytes.IndexByte(b[i:], ':')
		if colon < 0 || colon > 10 {
			return 0, fmt.Errorf("string length at offset %d has no colon", i)
		}
		n, err := strconv.Atoi(string(b[i : i+colon]))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad string length at offset %d", i)
		}
		start := i + colon + 1
		if n > len(b)-start {
			return 0, fmt.Errorf("string at offset %d claims %d bytes, only %d remain", i, n, len(b)-start)
		}
		return start + n, nil
	case c == 'l' || c == 'd':
		j := i + 1
		for k := 0; ; k++ {
			if j >= len(b) {
				return 0, fmt.Errorf("%s at offset %d has no end", map[byte]string{'l': "list", 'd': "dictionary"}[c], i)
			}
			if b[j] == 'e' {
				return j + 1, nil
			}
			if c == 'd' && k%2 == 0 && (b[j] < '0' || b[j] > '9') {
				return 0, fmt.Errorf("dictionary key at offset %d is not a string", j)
			}
			var err error
			if j, err = checkValue(b, j, depth+1); err != nil {
				return 0, err
			}
			if c == 'd' && k%2 == 0 && j < len(b) && b[j] == 'e' {
				return 0, fmt.Errorf("dictionary key at offset %d has no value", j)
			}
		}
	}
	return 0, fmt.Errorf("unexpected byte %q at offset %d", b[i], i)
}
