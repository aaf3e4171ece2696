// Package runs is the run store: a folder per run holding run.json (RunMeta
// with its Summary), the per-neuron scores, the predictions and, for trained
// networks, their weights as safetensors. Every file is written atomically
// (temp file, fsync, rename), so a crash leaves a run whole or absent.
//
// runs imports no other itscope package: the job engine, the CLI and the
// explorer all build on it. So it takes the encoding of predictions.npy from
// its caller (Store.Matrices; the command line sets data/npy's Matrices).
package runs
