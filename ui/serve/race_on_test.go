//go:build race

package serve

// raceEnabled: the race detector slows everything about tenfold, so the load
// test checks for races with less load and reports no figures.
const raceEnabled = true
