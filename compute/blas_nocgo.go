//go:build !cgo

package compute

// BLASName says which BLAS serves gonum, for benchmarks and `itscope version`.
const BLASName = "gonum (pure Go)"

// BLASThreads is 0: gonum's own BLAS manages its parallelism.
func BLASThreads() int { return 0 }

// SingleThreadBLAS does nothing without OpenBLAS.
func SingleThreadBLAS() (restore func()) { return func() {} }
