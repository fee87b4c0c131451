package lang

import (
	"time"

	startime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
)

// setTimeNow makes time.now() on th follow the interpreter's clock, so it
// reads lab time inside a lab network.
func setTimeNow(th *starlark.Thread, in *Interp) {
	startime.SetNow(th, func() (time.Time, error) { return in.Clock().Now(), nil })
}
