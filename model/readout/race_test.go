//go:build race

package readout

// raceEnabled shrinks the network tests under the race detector, which makes
// pure computation 10-50x slower; the normal test run covers them whole.
const raceEnabled = true
