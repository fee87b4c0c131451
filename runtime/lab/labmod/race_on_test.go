//go:build race

package labmod_test

// raceOn: the race detector slows the lab's event loop several times.
const raceOn = true
