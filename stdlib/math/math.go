// Package math is the Starlark module math, go.starlark.net's own.
package math

import (
	"github.com/netplay-dev/netplay/lang"
	starmath "go.starlark.net/lib/math"
)

// Module is the math module.
var Module = lang.NewModule("math", `Mathematical functions, as in Python's math module. All accept ints and
floats.`, members, notes...)

var members, notes = lang.Adopt("math", starmath.Module.Members, docs())

func docs() map[string]string {
	d := map[string]string{
		"e":     "e\n\nThe base of natural logarithms, 2.718281…",
		"pi":    "pi\n\nThe ratio of a circle's circumference to its diameter, 3.14159…",
		"log":   "log(x, base=e) -> float\n\nThe logarithm of x in base.",
		"ceil":  "ceil(x) -> int\n\nThe smallest integer not less than x.",
		"floor": "floor(x) -> int\n\nThe largest integer not greater than x.",
		"round": "round(x) -> float\n\nx rounded to the nearest integer, halves away from zero.",
	}
	for _, f := range []string{"fabs", "exp", "sqrt", "acos", "asin", "atan", "cos", "sin", "tan",
		"degrees", "radians", "acosh", "asinh", "atanh", "cosh", "sinh", "tanh", "gamma"} {
		d[f] = f + "(x) -> float\n\nAs Python's math." + f + "."
	}
	for _, f := range []string{"copysign", "mod", "pow", "remainder", "atan2", "hypot"} {
		d[f] = f + "(x, y) -> float\n\nAs Python's math." + f + "."
	}
	return d
}
