package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"itscope/compute"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestGemmSplit checks that cutting a product into row or column blocks over
// goroutines gives what one OpenBLAS call gives, for every transpose.
func TestGemmSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	for _, tc := range []struct{ m, n, k int }{{32, 4099, 27}, {577, 64, 300}, {64, 576, 4096}, {64, 196, 300}, {300, 196, 64}} {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				a := blas32.General{Rows: tc.m, Cols: tc.k, Stride: tc.k, Data: rnd(tc.m * tc.k)}
				if tA == blas.Trans {
					a.Rows, a.Cols, a.Stride = tc.k, tc.m, tc.m
				}
				b := blas32.General{Rows: tc.k, Cols: tc.n, Stride: tc.n, Data: rnd(tc.k * tc.n)}
				if tB == blas.Trans {
					b.Rows, b.Cols, b.Stride = tc.n, tc.k, tc.k
				}
				c0 := rnd(tc.m * tc.n)
				want := blas32.General{Rows: tc.m, Cols: tc.n, Stride: tc.n, Data: append([]float32(nil), c0...)}
				blas32.Gemm(tA, tB, 0.5, a, b, 1, want)
				got := blas32.General{Rows: tc.m, Cols: tc.n, Stride: tc.n, Data: append([]float32(nil), c0...)}
				restore := compute.SingleThreadBLAS()
				gemm(tA, tB, 0.5, a, b, 1, got)
				restore()
				for i, w := range want.Data {
					if d := math.Abs(float64(got.Data[i] - w)); d > 1e-4*(1+math.Abs(float64(w))) {
						t.Fatalf("%v tA=%c tB=%c: element %d = %g, want %g", tc, tA, tB, i, got.Data[i], w)
					}
				}
			}
		}
	}
}
