package labmod

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/lab"
	"go.starlark.net/starlark"
)

var plotBuiltin = lang.Func("lab.plot", `plot(path, series, title="", xlabel="", ylabel="")

Saves a line plot of an experiment's results as PNG or SVG (by path's
extension). series maps each line's name to a list of (x, y) pairs. Nothing
is written unless a script calls this.

    lab.plot("plt.svg", {"non-persistent": [(1, 0.9), (5, 3.3)],
                         "pipelined": [(1, 0.7), (5, 0.9)]},
             title="page-load time", xlabel="N objects", ylabel="seconds")`, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path, title, xlabel, ylabel string
	var seriesV *starlark.Dict
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "series", &seriesV, "title?", &title, "xlabel?", &xlabel, "ylabel?", &ylabel); err != nil {
		return nil, err
	}
	var series []lab.Series
	for _, item := range seriesV.Items() {
		name, ok := starlark.AsString(item[0])
		if !ok {
			name = item[0].String()
		}
		s := lab.Series{Name: name}
		it := starlark.Iterate(item[1])
		if it == nil {
			return nil, fmt.Errorf("%s: for parameter series: %s: got %s, want a list of (x, y)", b.Name(), name, item[1].Type())
		}
		var pt starlark.Value
		for it.Next(&pt) {
			tup, ok := pt.(starlark.Indexable)
			if !ok || tup.Len() != 2 {
				it.Done()
				return nil, fmt.Errorf("%s: for parameter series: %s: got %s, want (x, y) pairs", b.Name(), name, pt.String())
			}
			x, ok1 := starlark.AsFloat(tup.Index(0))
			y, ok2 := starlark.AsFloat(tup.Index(1))
			if !ok1 || !ok2 {
				it.Done()
				return nil, fmt.Errorf("%s: for parameter series: %s: got %s, want numbers", b.Name(), name, pt.String())
			}
			s.X, s.Y = append(s.X, x), append(s.Y, y)
		}
		it.Done()
		series = append(series, s)
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return nil, fmt.Errorf("%s: %s: want a .png or .svg file", b.Name(), path)
	}
	var buf bytes.Buffer
	var err error
	lang.Unlocked(th, func() { err = lab.WritePlot(&buf, path, title, xlabel, ylabel, series) })
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if err := lang.WriteFile(th, b.Name(), path, buf.Bytes()); err != nil {
		return nil, err
	}
	return starlark.None, nil
})
