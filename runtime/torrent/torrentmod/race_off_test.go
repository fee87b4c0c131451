//go:build !race

package torrentmod_test

const raceOn = false
