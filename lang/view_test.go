package lang

import (
	"testing"
	"unsafe"

	"go.starlark.net/starlark"
)

func TestViewsShareBytes(t *testing.T) {
	s := starlark.String("héllo")
	b, err := BytesView("f", "data", s)
	if err != nil || string(b) != "héllo" || unsafe.SliceData(b) != unsafe.StringData(string(s)) {
		t.Errorf("BytesView(%q) = %q, %v, not the str's own bytes", s, b, err)
	}
	if _, err := BytesView("f", "data", starlark.MakeInt(1)); err == nil || err.Error() != "f: for parameter data: got int, want str or bytes" {
		t.Errorf("BytesView(1): %v", err)
	}
	body := []byte("ok \xff\xfe end")
	if got := Text(body); got != "ok \uFFFD end" {
		t.Errorf("Text of invalid UTF-8 = %q", got)
	}
	body = []byte("plain")
	if got := Text(body); got != "plain" || unsafe.StringData(string(got)) != unsafe.SliceData(body) {
		t.Errorf("Text of valid UTF-8 = %q, not a view of its bytes", got)
	}
	if got := StringView(nil); got != "" {
		t.Errorf("StringView(nil) = %q", got)
	}
}
