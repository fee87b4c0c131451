package main

import (
	"fmt"
	"io"

	"github.com/netplay-dev/netplay/stdlib/testing"
)

func testCmd(o *options, args []string, stdout, stderr io.Writer) (int, error) {
	paths, err := parseSub(o, "test", args)
	if err != nil {
		return 0, err
	}
	files, err := testing.Find(paths)
	if err != nil {
		return 0, fmt.Errorf("test: %v", err)
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("test: no *_test.star files in %v", paths)
	}
	return withMemoryLimit(o, nil, stdout, stderr, func() (int, error) {
		return runTests(o, files, stdout, stderr), nil
	})
}

func runTests(o *options, files []string, stdout, stderr io.Writer) int {
	sum := testing.Run(files, testing.Options{
		Timeout:  o.timeout,
		MaxSteps: o.maxSteps,
		AllowFS:  o.allowFS,
		Seed:     o.seed,
		Stdout:   stdout,
		Stderr:   stderr,
	})
	if sum.Failed > 0 {
		return 1
	}
	return 0
}
