//go:build !cgo

package compute

// BLASName says which BLAS serves gonum, for benchmarks and `itscope version`.
const BLASName = "gonum (pure Go)"
