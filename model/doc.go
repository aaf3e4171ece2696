// Package model composes compute and data into what a user runs: feature
// extractors (pixels, pretrained and random networks), read-outs (PCA then
// least squares or ridge), CNNs trained from scratch, co-trained networks,
// saved runs and the job engine that the CLI, the TUI and the SSH server share.
package model
