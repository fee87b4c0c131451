package lang

import "testing"

func TestKeywordAttrs(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"attribute", `m = torrent.load("x")`, `m = torrent.l0ad("x")`},
		{"load statement kept", `load("lib.star", "f")`, `load("lib.star", "f")`},
		{"longer name kept", `x.loader()`, `x.loader()`},
		{"inside a string", `print(".load")`, `print(".load")`},
		{"inside a comment", `# t.load`, `# t.load`},
		{"triple-quoted", `"""a.load""" + t.load`, `"""a.load""" + t.l0ad`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := string(KeywordAttrs([]byte(c.in))); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
