package lang

import (
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"

	"go.starlark.net/starlark"
)

// Views share bytes between Starlark values and Go slices instead of
// copying them, for the bodies of network messages, which may be many
// megabytes and would otherwise be copied once each way. They are safe
// only because of a promise the caller makes: nobody writes to the bytes,
// ever. A Starlark str or bytes is immutable (a script that sees it change
// would be wrong, and a literal's bytes may be read-only memory), so the
// slice BytesView returns must only be read; and a slice given to
// StringView or Text must never be written again, by anyone, since the
// value made from it is that memory.

// BytesView is BytesOf without the copy: the bytes of the str or bytes v,
// which the caller and everything it hands them to must only read.
func BytesView(fn, param string, v starlark.Value) ([]byte, error) {
	switch v := v.(type) {
	case starlark.String:
		return ReadOnly(string(v)), nil
	case starlark.Bytes:
		return ReadOnly(string(v)), nil
	}
	return nil, fmt.Errorf("%s: for parameter %s: got %s, want str or bytes", fn, param, v.Type())
}

// ReadOnly is s's own bytes, without a copy: they must only be read.
func ReadOnly(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// StringView is b as a string, without a copy: b must never be written
// again.
func StringView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Text is b as a Starlark str: b itself when it is valid UTF-8 (b must
// then never be written again), or else a copy in which each run of
// invalid bytes is replaced by U+FFFD, as strings.ToValidUTF8 does.
func Text(b []byte) starlark.String {
	if utf8.Valid(b) {
		return starlark.String(StringView(b))
	}
	return starlark.String(strings.ToValidUTF8(string(b), "\uFFFD"))
}
