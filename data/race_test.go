//go:build race

package data

// raceEnabled skips the tests that measure a child process's peak memory
// against a budget of gigabytes: the race detector multiplies memory use.
const raceEnabled = true
