package lang

import (
	"fmt"
	"strings"
	_ "unsafe" // for go:linkname

	"go.starlark.net/starlark"
)

// The course's socket programs convert with str.encode() and bytes.decode()
// on every send and receive. Starlark has no such methods and no API to add
// methods to built-in types, so netplay adds these two to go.starlark.net's
// method tables, keeping the programs portable line by line. The tables are
// written once, at init, before any thread runs. lang's tests fail if a
// go.starlark.net upgrade renames them.

//go:linkname stringMethods go.starlark.net/starlark.stringMethods
var stringMethods map[string]*starlark.Builtin

//go:linkname bytesMethods go.starlark.net/starlark.bytesMethods
var bytesMethods map[string]*starlark.Builtin

func init() {
	stringMethods["encode"] = starlark.NewBuiltin("encode", strEncode)
	bytesMethods["decode"] = starlark.NewBuiltin("decode", bytesDecode)
}

func checkCodec(name string, args starlark.Tuple, kwargs []starlark.Tuple) error {
	encoding, errors := "utf-8", "strict"
	if err := starlark.UnpackArgs(name, args, kwargs, "encoding?", &encoding, "errors?", &errors); err != nil {
		return err
	}
	switch strings.ToLower(strings.ReplaceAll(encoding, "_", "-")) {
	case "utf-8", "utf8", "ascii", "us-ascii":
		return nil
	}
	return fmt.Errorf("%s: encoding %q not supported: strings are UTF-8", name, encoding)
}

// strEncode is str.encode(encoding="utf-8"): the string's bytes.
func strEncode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := checkCodec("encode", args, kwargs); err != nil {
		return nil, err
	}
	return starlark.Bytes(b.Receiver().(starlark.String)), nil
}

// bytesDecode is bytes.decode(encoding="utf-8"): the bytes as a string,
// invalid UTF-8 replaced by U+FFFD as str(bytes) does.
func bytesDecode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := checkCodec("decode", args, kwargs); err != nil {
		return nil, err
	}
	return starlark.String(strings.ToValidUTF8(string(b.Receiver().(starlark.Bytes)), "\uFFFD")), nil
}
