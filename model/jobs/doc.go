// Package jobs is the job engine the CLI, the explorer and the SSH server
// share: a bounded pool running Jobs, each a function that emits Events and
// returns a run to save. Job and run states are one type, runs.Status.
//
// jobs imports, among itscope packages, only model/runs.
package jobs
