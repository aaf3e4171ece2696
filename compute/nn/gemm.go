package nn

import (
	"runtime"

	"itscope/compute"
	"itscope/compute/parallel"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemmSplitFlops: below this many multiply-adds a product is not worth
// spreading over goroutines.
const gemmSplitFlops = 1 << 20

// gemm is blas32.Gemm (c = alpha op(a) op(b) + beta c). When OpenBLAS runs
// single-threaded (compute.SingleThreadBLAS), a large product is cut into
// blocks of c's rows or columns, one per core; k is never split, so every
// element is summed in the same order as one call would.
func gemm(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General) {
	m, n := c.Rows, c.Cols
	k := a.Cols
	if tA == blas.Trans {
		k = a.Rows
	}
	workers := runtime.GOMAXPROCS(0)
	if compute.BLASThreads() != 1 || workers < 2 || m*n*k < gemmSplitFlops {
		blas32.Gemm(tA, tB, alpha, a, b, beta, c)
		return
	}
	if n >= m {
		// Column blocks, a multiple of 8 wide for the kernels, as even as
		// that allows (rounding up made 112/84 of 196 columns).
		size, blocks := blockSize(n, workers)
		parallel.For(blocks, func(i int) {
			j0 := i * size
			w := blockLen(i, blocks, size, n)
			bb := b
			if tB == blas.NoTrans {
				bb.Cols, bb.Data = w, b.Data[j0:]
			} else {
				bb.Rows, bb.Data = w, b.Data[j0*b.Stride:]
			}
			cc := c
			cc.Cols, cc.Data = w, c.Data[j0:]
			blas32.Gemm(tA, tB, alpha, a, bb, beta, cc)
		})
		return
	}
	size, blocks := blockSize(m, workers)
	parallel.For(blocks, func(i int) {
		i0 := i * size
		h := blockLen(i, blocks, size, m)
		aa := a
		if tA == blas.NoTrans {
			aa.Rows, aa.Data = h, a.Data[i0*a.Stride:]
		} else {
			aa.Cols, aa.Data = h, a.Data[i0:]
		}
		cc := c
		cc.Rows, cc.Data = h, c.Data[i0*c.Stride:]
		blas32.Gemm(tA, tB, alpha, aa, b, beta, cc)
	})
}

// blockSize cuts n into at most workers blocks a multiple of 8 long, the
// last taking the rest, with the size rounded to the nearest multiple so the
// blocks come out even.
func blockSize(n, workers int) (size, blocks int) {
	size = max(8, (n/workers+4)&^7)
	return size, min(workers, (n+size-1)/size)
}

// blockLen is the length of block i of blockSize's cut.
func blockLen(i, blocks, size, n int) int {
	if i == blocks-1 {
		return n - i*size
	}
	return size
}
