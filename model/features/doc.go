// Package features turns a dataset's images into feature rows: the Features
// interface, pixels, network taps, the on-disk feature cache, and the
// extraction of many taps of one network in a single forward pass (used by
// the CLI's sweep and the explorer alike).
package features
