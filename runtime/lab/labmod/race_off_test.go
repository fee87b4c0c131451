//go:build !race

package labmod_test

const raceOn = false
