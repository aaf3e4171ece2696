// Package readout fits linear read-outs from features to neural responses
// (features -> [standardise] -> [PCA] -> linear, ridge or ridge CV ->
// metrics), sweeps a read-out over a network's taps and picks each neuron's
// best layer of a sweep by training CV, compares two runs by the paired
// bootstrap, scores features by Brain-Score's protocol, expands grids of
// read-outs and training runs, and describes datasets. FitJob, SweepJobs and
// GridJob are the one place their jobs are made.
package readout
