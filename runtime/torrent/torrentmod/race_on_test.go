//go:build race

package torrentmod_test

// raceOn: the race detector shuffles the Go scheduler's choices.
const raceOn = true
