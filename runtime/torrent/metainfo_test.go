package torrent

import (
	"bytes"
	"crypto/sha1"
	"strings"
	"testing"
)

func TestCreateAndParse(t *testing.T) {
	data := bytes.Repeat([]byte("netplay!"), 100000) // 800,000 bytes
	m, err := Create(data, "file.bin", 256*1024, "http://127.0.0.1:6969/announce")
	if err != nil {
		t.Fatal(err)
	}
	if m.NumPieces() != 4 || m.PieceSize(3) != 800000-3*262144 || m.Length != 800000 {
		t.Fatalf("pieces %d, last %d, length %d", m.NumPieces(), m.PieceSize(3), m.Length)
	}
	back, err := Parse(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if back.InfoHash != m.InfoHash || back.Announce != m.Announce || back.Name != "file.bin" {
		t.Fatalf("round trip changed the metainfo: %+v", back)
	}
	if sha1.Sum(back.InfoBytes) != m.InfoHash {
		t.Fatal("info hash is not the SHA-1 of the info dictionary")
	}
}

// The info hash covers the info dictionary's bytes as written, even keys
// this package does not know about.
func TestInfoHashKeepsUnknownKeys(t *testing.T) {
	info := "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:" + strings.Repeat("a", 20) + "7:privatei1e1:zi7ee"
	m, err := Parse([]byte("d4:info" + info + "e"))
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash != sha1.Sum([]byte(info)) || !m.Private {
		t.Fatal("info hash not over the original bytes")
	}
}

func TestMultiFile(t *testing.T) {
	info := "d5:filesld6:lengthi3e4:pathl1:aeed6:lengthi4e4:pathl3:dir1:beee4:name1:d12:piece lengthi16384e6:pieces20:" + strings.Repeat("a", 20) + "e"
	m, err := Parse([]byte("d4:info" + info + "e"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Length != 7 || len(m.Files) != 2 || m.Files[1].Path[0] != "dir" {
		t.Fatalf("got %+v", m)
	}
}

func TestBadMetainfoNamesTheField(t *testing.T) {
	h := strings.Repeat("a", 20)
	for _, c := range []struct{ name, in, want string }{
		{"not bencode", "hello", "not bencoded"},
		{"a list", "le", "must be a dictionary"},
		{"no info", "d8:announce3:urle", "field info: missing"},
		{"info not a dict", "d4:infoi3ee", "field info: want a dictionary"},
		{"no name", "d4:infod6:lengthi5e12:piece lengthi16384e6:pieces20:" + h + "ee", "field info.name: missing"},
		{"piece length string", "d4:infod6:lengthi5e4:name1:x12:piece length2:xx6:pieces20:" + h + "ee", "field info.piece length: want an integer, got a string"},
		{"pieces not multiple of 20", "d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces3:abcee", "field info.pieces: length 3"},
		{"too many hashes", "d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces40:" + h + h + "ee", "field info.pieces: 2 hashes"},
		{"negative length", "d4:infod6:lengthi-5e4:name1:x12:piece lengthi16384e6:pieces20:" + h + "ee", "field info.length"},
		{"no length", "d4:infod4:name1:x12:piece lengthi16384e6:pieces20:" + h + "ee", "field info.length: missing"},
		{"announce int", "d8:announcei1e4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:" + h + "ee", "field announce: want a string"},
		{"file without path", "d4:infod5:filesld6:lengthi3eee4:name1:x12:piece lengthi16384e6:pieces20:" + h + "ee", "field info.files[0].path: missing"},
		{"huge string", "d4:info2000000000:xe", "claims 2000000000 bytes"},
		{"trailing", "d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:" + h + "eexx", "trailing data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	m, _ := Create([]byte("hello world"), "x", 16384, "http://t/announce")
	f.Add(m.Encode())
	f.Add([]byte("d4:infod5:filesld6:lengthi3e4:pathl1:aeee4:name1:d12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"))
	f.Add([]byte("d4:infoli1ei2eee"))
	f.Add([]byte("l" + strings.Repeat("l", 100)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if m.NumPieces() == 0 || m.Length <= 0 || m.PieceSize(m.NumPieces()-1) <= 0 {
			t.Fatalf("accepted an impossible torrent: %+v", m)
		}
		if _, err := Parse(m.Encode()); err != nil {
			t.Fatalf("re-encoded metainfo does not parse: %v", err)
		}
	})
}
