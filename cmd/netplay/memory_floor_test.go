package main

import (
	"bytes"
	"testing"
)

// TestHeapFloor checks that a script run without --max-memory gets the heap
// floor that spaces the collector's cycles, and that the floor's bytes are
// not counted against a memory limit (a limited run never makes it).
func TestHeapFloor(t *testing.T) {
	o := &options{}
	var ran bool
	withMemoryLimit(o, nil, &bytes.Buffer{}, &bytes.Buffer{}, func() (int, error) {
		ran = true
		return 0, nil
	})
	if !ran || len(heapFloor) != heapFloorSize {
		t.Fatalf("ran %v, floor %d bytes, want %d", ran, len(heapFloor), heapFloorSize)
	}
}
