// Package json is the Starlark module json, go.starlark.net's own.
package json

import (
	"github.com/netplay-dev/netplay/lang"
	starjson "go.starlark.net/lib/json"
)

// Module is the json module.
var Module = lang.NewModule("json", `JSON encoding and decoding.`, members, notes...)

var members, notes = lang.Adopt("json", starjson.Module.Members, map[string]string{
	"encode": `encode(x) -> str

The JSON text of x: None, bools, numbers, strings, lists, tuples, dicts with
string keys.

    json.encode({"items": [1, 2]})   # '{"items":[1,2]}'`,
	"encode_indent": `encode_indent(x, /, *, prefix="", indent="\t") -> str

Like encode, indented for reading.`,
	"decode": `decode(x, default=...) -> value

The value that the JSON text x denotes; objects become dicts, arrays lists. Fails
on invalid JSON unless default is given, which is then returned.`,
	"indent": `indent(text, /, *, prefix="", indent="\t") -> str

Re-indents a JSON text.`,
})
