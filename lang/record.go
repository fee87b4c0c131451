package lang

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// Record is a read-only value with named fields, reachable as attributes
// (r.status) and by key (r["status"]).
type Record struct {
	typ   string
	names []string
	vals  []starlark.Value
}

var (
	_ starlark.HasAttrs = (*Record)(nil)
	_ starlark.Mapping  = (*Record)(nil)
)

// NewRecord makes a Record of type typ from name, value pairs.
func NewRecord(typ string, kv ...any) *Record {
	r := &Record{typ: typ}
	for i := 0; i < len(kv); i += 2 {
		r.names = append(r.names, kv[i].(string))
		r.vals = append(r.vals, kv[i+1].(starlark.Value))
	}
	return r
}

func (r *Record) String() string {
	var b strings.Builder
	b.WriteString(r.typ + "(")
	for i, n := range r.names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n + "=" + r.vals[i].String())
	}
	b.WriteString(")")
	return b.String()
}
func (r *Record) Type() string          { return r.typ }
func (r *Record) Freeze()               {}
func (r *Record) Truth() starlark.Bool  { return true }
func (r *Record) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", r.typ) }
func (r *Record) AttrNames() []string {
	names := append([]string(nil), r.names...)
	sort.Strings(names)
	return names
}
func (r *Record) Attr(name string) (starlark.Value, error) {
	for i, n := range r.names {
		if n == name {
			return r.vals[i], nil
		}
	}
	return nil, nil
}
func (r *Record) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return nil, false, fmt.Errorf("%s: key must be a string, not %s", r.typ, k.Type())
	}
	v, _ := r.Attr(string(s))
	return v, v != nil, nil
}
