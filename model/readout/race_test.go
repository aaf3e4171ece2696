//go:build race

package readout

// raceEnabled shrinks the network tests under the race detector, which makes
// pure computation 10-50x slower; the normal test run covers them whole. The
// race detector also multiplies memory use, so the tests that measure a
// process's peak memory do not assert it then.
const raceEnabled = true
