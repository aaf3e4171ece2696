//go:build !race

package readout

const raceEnabled = false
