package lang

import (
	"testing"

	"go.starlark.net/starlark"
)

// The method tables reached through go:linkname in pycompat.go must be
// go.starlark.net's own: a renamed target would leave netplay writing into
// a table of its own that no string ever consults (see docs/architecture.md,
// "Upgrading go.starlark.net").
func TestLinknameTargets(t *testing.T) {
	t.Run("the tables are go.starlark.net's", func(t *testing.T) {
		if stringMethods["upper"] == nil || stringMethods["split"] == nil {
			t.Fatal("stringMethods lacks Starlark's own str methods: the go:linkname target was renamed")
		}
		if bytesMethods["elems"] == nil {
			t.Fatal("bytesMethods lacks Starlark's own bytes methods: the go:linkname target was renamed")
		}
		if listMethods["append"] == nil {
			t.Fatal("listMethods lacks Starlark's own list methods: the go:linkname target was renamed")
		}
	})
	cases := []struct {
		name   string
		recv   starlark.Value
		method string
		args   starlark.Tuple
		want   starlark.Value
	}{
		{"str.encode", starlark.String("héllo"), "encode", nil, starlark.Bytes("héllo")},
		{"bytes.decode", starlark.Bytes("héllo"), "decode", nil, starlark.String("héllo")},
		{"str.format with a Python spec", starlark.String("{:.2f}"), "format", starlark.Tuple{starlark.Float(3.14159)}, starlark.String("3.14")},
		{"list.count", starlark.NewList([]starlark.Value{starlark.MakeInt(1), starlark.MakeInt(1)}), "count", starlark.Tuple{starlark.MakeInt(1)}, starlark.MakeInt(2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := c.recv.(starlark.HasAttrs).Attr(c.method)
			if err != nil || m == nil {
				t.Fatalf("%s has no method %s: the go:linkname target was renamed", c.recv.Type(), c.method)
			}
			got, err := starlark.Call(&starlark.Thread{}, m, c.args, nil)
			if err != nil {
				t.Fatal(err)
			}
			if eq, _ := starlark.Equal(got, c.want); !eq {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
