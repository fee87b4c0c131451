package lang

import "testing"

func TestKeywordAttrs(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"an attribute", `m = t.load("x.star")`, `m = t.Load("x.star")`},
		{"after a call", `f().load(1)`, `f().Load(1)`},
		{"the load statement stays", `load("lib.star", "f")`, `load("lib.star", "f")`},
		{"inside a string", `print("t.load")`, `print("t.load")`},
		{"inside a comment", "# t.load\nx = 1", "# t.load\nx = 1"},
		{"a longer name", `t.loader()`, `t.loader()`},
		{"triple-quoted", `"""a "t.load" b""" + t.load`, `"""a "t.load" b""" + t.Load`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(keywordAttrs([]byte(c.in))); got != c.want {
				t.Errorf("keywordAttrs(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
