// Package features turns a dataset's images into feature rows: the Features
// interface, pixels, network taps, the on-disk feature cache, and the
// extraction of many taps of one network in a single forward pass (used by
// the CLI's sweep and the explorer alike).
//
// The cache keeps itself healthy (docs/cache.md): each entry carries a
// CRC-32C of its rows, verified when opened; a size bound evicts the least
// recently used entries that no job has pinned; and temporary files of
// killed writers are removed when the cache opens.
package features
