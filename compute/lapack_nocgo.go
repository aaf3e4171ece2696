//go:build !cgo

package compute

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// symEigTop returns the k largest eigenvalues of the symmetric n x n matrix a
// (row-major), in descending order, and their eigenvectors as the columns of
// an n x k row-major matrix. Without cgo gonum's eigensolver serves.
func symEigTop(a []float64, n, k int) (vals, vecs []float64, err error) {
	if k <= 0 || k > n || len(a) != n*n {
		return nil, nil, fmt.Errorf("compute: eigen: want 0 < k <= n and n*n values, found n=%d k=%d len=%d", n, k, len(a))
	}
	var e mat.EigenSym
	if !e.Factorize(mat.NewSymDense(n, a), true) {
		return nil, nil, fmt.Errorf("compute: eigen: factorisation failed (input has NaN or Inf?)")
	}
	w := e.Values(nil)
	var z mat.Dense
	e.VectorsTo(&z)
	vals = make([]float64, k)
	vecs = make([]float64, n*k)
	for j := 0; j < k; j++ {
		src := n - 1 - j
		vals[j] = w[src]
		for i := 0; i < n; i++ {
			vecs[i*k+j] = z.At(i, src)
		}
	}
	return vals, vecs, nil
}

// thinSVD factorises the r x c row-major matrix a as U diag(s) Vᵀ with
// p = min(r, c) singular values, descending; u is r x p and vt is p x c.
func thinSVD(a []float64, r, c int) (s, u, vt []float64, err error) {
	if r == 0 || c == 0 {
		return nil, nil, nil, nil
	}
	var d mat.SVD
	if !d.Factorize(mat.NewDense(r, c, a), mat.SVDThin) {
		return nil, nil, nil, fmt.Errorf("compute: SVD did not converge (input has NaN or Inf?)")
	}
	s = d.Values(nil)
	var um, vm mat.Dense
	d.UTo(&um)
	d.VTo(&vm)
	p := len(s)
	u = make([]float64, r*p)
	vt = make([]float64, p*c)
	for i := 0; i < r; i++ {
		for j := 0; j < p; j++ {
			u[i*p+j] = um.At(i, j)
		}
	}
	for j := 0; j < p; j++ {
		for i := 0; i < c; i++ {
			vt[j*c+i] = vm.At(i, j)
		}
	}
	return s, u, vt, nil
}
