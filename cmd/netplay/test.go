package main

import (
	"fmt"
	"io"

	"github.com/netplay-dev/netplay/grade"
)

func testCmd(o *options, args []string, stdout, stderr io.Writer) (int, error) {
	paths, err := parseSub(o, "test", args)
	if err != nil {
		return 0, err
	}
	files, err := grade.Find(paths)
	if err != nil {
		return 0, fmt.Errorf("test: %v", err)
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("test: no *_test.star files in %v", paths)
	}
	return withMemoryLimit(o, nil, stdout, stderr, func() (int, error) {
		sum := grade.Run(files, grade.Options{
			Timeout:  o.timeout,
			MaxSteps: o.maxSteps,
			AllowFS:  o.allowFS,
			Seed:     o.seed,
			Stdout:   stdout,
			Stderr:   stderr,
		})
		if sum.Failed > 0 {
			return 1, nil
		}
		return 0, nil
	})
}
