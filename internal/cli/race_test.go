//go:build race

package cli

// raceEnabled: the race detector multiplies memory use several times, so
// the tests that measure a process's peak memory do not assert it then.
const raceEnabled = true
