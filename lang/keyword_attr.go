package lang

import (
	"bytes"
	"os"

	"go.starlark.net/syntax"
)

// LoadAttr is the attribute name a script's x.load becomes. Starlark
// reserves load as a keyword, so x.load(...) does not parse; netplay's
// dialect accepts it, as Python does, by reading it as x.Load — the same
// length, so error columns stay right. A type with a load method (the
// grader's t.load) answers to LoadAttr.
const LoadAttr = "Load"

// keywordAttrs rewrites ".load" after an expression into ".Load", outside
// strings and comments.
func keywordAttrs(src []byte) []byte {
	if !bytes.Contains(src, []byte(".load")) {
		return src
	}
	out := append([]byte(nil), src...)
	var quote []byte // the open string's delimiter
	for i := 0; i < len(out); i++ {
		c := out[i]
		if quote != nil {
			switch {
			case c == '\\':
				i++
			case bytes.HasPrefix(out[i:], quote):
				i += len(quote) - 1
				quote = nil
			}
			continue
		}
		switch {
		case c == '#':
			for i < len(out) && out[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			quote = []byte{c}
			if bytes.HasPrefix(out[i:], []byte{c, c, c}) {
				quote = []byte{c, c, c}
				i += 2
			}
		case c == '.' && bytes.HasPrefix(out[i+1:], []byte("load")) &&
			(i+5 >= len(out) || !isIdentByte(out[i+5])) && i > 0 && (isIdentByte(out[i-1]) || out[i-1] == ')' || out[i-1] == ']'):
			out[i+1] = 'L'
			i += 4
		}
	}
	return out
}


// sourceBytes reads a script's source as the parser would.
func sourceBytes(filename string, src any) ([]byte, error) {
	switch s := src.(type) {
	case string:
		return []byte(s), nil
	case []byte:
		return s, nil
	case nil:
		return os.ReadFile(filename)
	}
	return nil, nil
}

// Parse parses a file of netplay's dialect as the interpreter does,
// x.load included.
func Parse(filename string, src []byte) (*syntax.File, error) {
	return Dialect.Parse(filename, keywordAttrs(src), 0)
}
