package data

import (
	"fmt"
	"math"
)

// The HDF5 loader allocates what a dataset's header declares (shape times
// element width) before libhdf5 reads into it; these checks, in plain Go
// so that they are fuzzed without libhdf5, bound that against the file.

// maxCompression bounds how much smaller than its values a dataset's stored
// bytes may be: deflate, the strongest filter Debian's libhdf5 has, stops
// near 1032:1.
const maxCompression = 1100

// maxH5DatasetBytes bounds one dataset as read (16 GiB; the NX-414 course
// file's largest, stimulus_train, is 1.6 GB).
const maxH5DatasetBytes = 16 << 30

// maxLabelBytes bounds the width of a fixed-length object label (4 KiB;
// NX-414's are a few bytes). A width of 10^9 in a 400 kB file would
// otherwise ask for a gigabyte per image.
const maxLabelBytes = 4096

// checkStored checks a dataset's declared shape dims, read as elements of
// width bytes, against the bytes the file stores for it (stored, from the
// layout), the file's size and maxH5DatasetBytes, and returns the shape as
// ints. path is already Printable.
func checkStored(path, key string, dims []uint64, width int, stored, fileSize int64) ([]int, error) {
	if width < 1 || width > maxLabelBytes {
		return nil, fmt.Errorf("%s: key %q: want elements of 1 to %d bytes, found %d-byte elements", path, key, maxLabelBytes, width)
	}
	shape := make([]int, len(dims))
	need := uint64(width) // bytes the values take in memory
	for i, d := range dims {
		if d > math.MaxInt32 || (d > 0 && need > math.MaxInt64/d) {
			return nil, fmt.Errorf("%s: key %q: want a shape that fits in memory, found %v", path, key, dims)
		}
		need *= d
		shape[i] = int(d)
	}
	if len(dims) == 0 || need == 0 {
		return shape, nil
	}
	if stored < 0 || stored > fileSize {
		return nil, fmt.Errorf("%s: key %q: its header claims %d stored bytes, but the file has %d (forged or damaged file)", path, key, stored, fileSize)
	}
	what := "as float32"
	if width != 4 {
		what = fmt.Sprintf("as %d-byte strings", width)
	}
	if need/maxCompression > uint64(stored) {
		return nil, fmt.Errorf("%s: key %q: shape %v needs %d bytes %s, but the file stores only %d bytes for it (damaged, truncated or never written?)",
			path, key, dims, need, what, stored)
	}
	if need > maxH5DatasetBytes {
		return nil, fmt.Errorf("%s: key %q: shape %v needs %d bytes %s; want at most %s", path, key, dims, need, what, byteSize(maxH5DatasetBytes))
	}
	return shape, nil
}

// checkVarLabels bounds variable-length labels, whose total length (need,
// from libhdf5) comes from lengths written in the file: each string's bytes
// are in the file, so together they cannot exceed it.
func checkVarLabels(path, key string, need uint64, fileSize int64) error {
	if need > uint64(max(fileSize, 0)) || need > math.MaxInt32 {
		return fmt.Errorf("%s: key %q: its strings claim %d bytes, more than the file's %d (forged or damaged file)", path, key, need, fileSize)
	}
	return nil
}
