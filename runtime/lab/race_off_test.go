//go:build !race

package lab_test

const raceOn = false
