package compute

import "itscope/data/npy"

// NpyFile is npy.File, kept under its old name until model/ uses data/npy
// directly.
//
// Deprecated: use npy.File.
type NpyFile = npy.File

// OpenNpy is npy.Open, kept until model/ uses data/npy directly.
//
// Deprecated: use npy.Open.
func OpenNpy(path string) (*npy.File, error) { return npy.Open(path) }
