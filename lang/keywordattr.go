package lang

import "go.starlark.net/syntax"

// Starlark's scanner makes "load" a keyword everywhere, so x.load(...)
// does not parse, yet torrent.load and t.load are the names users expect.
// Before parsing, a ".load" attribute is spelled with a placeholder
// identifier of the same length (columns in errors stay right), and after
// parsing the placeholder is renamed back: the compiler takes any name.

const loadPlaceholder = "l0ad"

// KeywordAttrs returns src with every ".load" attribute (outside strings
// and comments) spelled ".l0ad". Callers parse the result and then call
// Rewrite, which renames it back.
func KeywordAttrs(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case c == '"' || c == '\'':
			q := src[i : i+1]
			if i+2 < len(src) && src[i+1] == c && src[i+2] == c {
				q = src[i : i+3]
			}
			j := i + len(q)
			for j < len(src) {
				if src[j] == '\\' {
					j += 2
					continue
				}
				if len(q) == 1 && src[j] == '\n' {
					break
				}
				if j+len(q) <= len(src) && string(src[j:j+len(q)]) == string(q) {
					j += len(q) - 1
					break
				}
				j++
			}
			i = min(j, len(src)-1)
		case c == '.' && i+5 <= len(src) && string(src[i+1:i+5]) == "load" && (i+5 == len(src) || !isAttrByte(src[i+5])):
			if out == nil {
				out = append([]byte(nil), src...)
			}
			copy(out[i+1:], loadPlaceholder)
			i += 4
		}
	}
	if out == nil {
		return src
	}
	return out
}

func isAttrByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// restoreKeywordAttrs renames the placeholder attributes back (see KeywordAttrs).
func restoreKeywordAttrs(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		if d, ok := n.(*syntax.DotExpr); ok && d.Name.Name == loadPlaceholder {
			d.Name.Name = "load"
		}
		return true
	})
}
