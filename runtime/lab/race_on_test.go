//go:build race

package lab_test

// raceOn: the race detector slows the lab's event loop several times.
const raceOn = true
