//go:build cgo

package compute

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// OpenBLAS does the heavy matrix work whenever cgo is available; every package
// that does linear algebra imports compute, so this runs before any of it.
func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
}

// BLASName says which BLAS serves gonum, for benchmarks and `itscope version`.
const BLASName = "OpenBLAS"
