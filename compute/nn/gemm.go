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
	// Column blocks (of op(b) and c) when c is at least as wide as tall, row
	// blocks (of op(a) and c) otherwise; a multiple of 8 long for the
	// kernels, as even as that allows (rounding up made 112/84 of 196
	// columns).
	byCols := n >= m
	length := m
	if byCols {
		length = n
	}
	size, blocks := blockSize(length, workers)
	parallel.For(blocks, func(i int) {
		at, l := i*size, blockLen(i, blocks, size, length)
		aa, bb, cc := a, b, c
		if byCols {
			bb = opColBlock(b, tB, at, l)
			cc = colBlock(c, at, l)
		} else {
			aa = opRowBlock(a, tA, at, l)
			cc = rowBlock(c, at, l)
		}
		blas32.Gemm(tA, tB, alpha, aa, bb, beta, cc)
	})
}

// rowBlock is rows [at, at+h) of g; colBlock is its columns [at, at+w).
func rowBlock(g blas32.General, at, h int) blas32.General {
	g.Rows, g.Data = h, g.Data[at*g.Stride:]
	return g
}

func colBlock(g blas32.General, at, w int) blas32.General {
	g.Cols, g.Data = w, g.Data[at:]
	return g
}

// opRowBlock is the block of g whose transpose t (as gemm applies it) is
// rows [at, at+h); opColBlock likewise for columns.
func opRowBlock(g blas32.General, t blas.Transpose, at, h int) blas32.General {
	if t == blas.NoTrans {
		return rowBlock(g, at, h)
	}
	return colBlock(g, at, h)
}

func opColBlock(g blas32.General, t blas.Transpose, at, w int) blas32.General {
	if t == blas.NoTrans {
		return colBlock(g, at, w)
	}
	return rowBlock(g, at, w)
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
