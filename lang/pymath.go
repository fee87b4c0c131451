package lang

import (
	"fmt"
	"math"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// round and sum are Python builtins that Starlark lacks and that lab
// scripts reach for first (averages of measurements, printing them).

var roundBuiltin = Func("round", `round(x, ndigits=None) -> int or float

x rounded to the nearest integer (an int), or to ndigits decimal places (a
float), halves to even as in Python.

    round(2.5)          # 2
    round(1.23456, 2)   # 1.23`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	var nd starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x, "ndigits?", &nd); err != nil {
		return nil, err
	}
	f, ok := starlark.AsFloat(x)
	if !ok {
		return nil, fmt.Errorf("round: for parameter x: got %s, want int or float", x.Type())
	}
	if nd == starlark.None {
		if i, isInt := x.(starlark.Int); isInt {
			return i, nil
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("round: cannot round %v to an int", f)
		}
		return starlark.NumberToInt(starlark.Float(math.RoundToEven(f)))
	}
	n, err := starlark.AsInt32(nd)
	if err != nil {
		return nil, fmt.Errorf("round: for parameter ndigits: %v", err)
	}
	p := math.Pow(10, float64(n))
	return starlark.Float(math.RoundToEven(f*p) / p), nil
})

var sumBuiltin = Func("sum", `sum(iterable, start=0) -> number

The sum of the numbers in iterable, plus start.

    sum([1, 2, 3]) / 3   # 2.0`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var it starlark.Iterable
	var total starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &it, "start?", &total); err != nil {
		return nil, err
	}
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		var err error
		total, err = starlark.Binary(syntax.PLUS, total, x)
		if err != nil {
			return nil, fmt.Errorf("sum: %v", err)
		}
	}
	return total, nil
})

// Float is a float argument that, as in Python, may be given as an int:
// starlark.UnpackArgs into a *Float accepts 15 and 15.0 alike.
type Float float64

// Unpack implements starlark.Unpacker.
func (f *Float) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.Float:
		*f = Float(v)
		return nil
	case starlark.Int:
		x, ok := starlark.AsFloat(v)
		if !ok {
			return fmt.Errorf("int %s too large for a float", v)
		}
		*f = Float(x)
		return nil
	}
	return fmt.Errorf("got %s, want float or int", v.Type())
}
