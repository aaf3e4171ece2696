// Package jobs is the job engine the CLI, the explorer and the SSH server
// share: a bounded pool running Jobs, each a function that emits Events and
// returns a run to save. Job and run states are one type, runs.State.
//
// Jobs with a Payload also live in the run store's queue (queue*.go,
// docs/jobs.md): <store>/.jobs/<id>/ holds each job's spec, state, events
// and heartbeat, so that every process that sees the store, on this machine
// or over NFS, lists them, follows their loss curves, cancels them, or runs
// them (itscope job run, job run-queued). A Registry turns a queued spec
// back into its Job.
//
// jobs imports, among itscope packages, only model/runs.
package jobs
