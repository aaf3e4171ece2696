//go:build cgo

package compute

// #cgo LDFLAGS: -lopenblas
// #include <stddef.h>
// void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n,
//              double *a, const int *lda, const double *vl, const double *vu,
//              const int *il, const int *iu, const double *abstol, int *m,
//              double *w, double *z, const int *ldz, int *isuppz,
//              double *work, const int *lwork, int *iwork, const int *liwork, int *info,
//              size_t, size_t, size_t);
// void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda,
//              double *s, double *u, const int *ldu, double *vt, const int *ldvt,
//              double *work, const int *lwork, int *iwork, int *info, size_t);
import "C"

import (
	"fmt"
	"math"
)

// OpenBLAS ships LAPACK; its blocked, threaded eigensolver is an order of
// magnitude faster than gonum's pure-Go one at the Gram sizes PCA meets
// (a 2592 x 2592 eigenproblem takes about a minute in gonum).

// symEigTop returns the k largest eigenvalues of the symmetric n x n matrix a
// (row-major; destroyed), in descending order, and their eigenvectors as the
// columns of an n x k row-major matrix.
func symEigTop(a []float64, n, k int) (vals, vecs []float64, err error) {
	if k <= 0 || k > n || len(a) != n*n {
		return nil, nil, fmt.Errorf("compute: eigen: want 0 < k <= n and n*n values, found n=%d k=%d len=%d", n, k, len(a))
	}
	jobz, rng, uplo := C.char('V'), C.char('I'), C.char('L')
	cn, lda := C.int(n), C.int(n)
	il, iu := C.int(n-k+1), C.int(n)
	var vl, vu, abstol C.double
	var m, info C.int
	w := make([]float64, n)
	z := make([]float64, n*k)
	isuppz := make([]C.int, 2*k)
	ldz := C.int(n)
	// Workspace query first.
	var wq C.double
	var iwq C.int
	lw, liw := C.int(-1), C.int(-1)
	C.dsyevr_(&jobz, &rng, &uplo, &cn, (*C.double)(&a[0]), &lda, &vl, &vu, &il, &iu, &abstol, &m,
		(*C.double)(&w[0]), (*C.double)(&z[0]), &ldz, &isuppz[0], &wq, &lw, &iwq, &liw, &info, 1, 1, 1)
	if info != 0 {
		return nil, nil, fmt.Errorf("compute: eigen: LAPACK dsyevr workspace query failed (info %d)", int(info))
	}
	lw, liw = C.int(wq), iwq
	work := make([]float64, int(lw))
	iwork := make([]C.int, int(liw))
	C.dsyevr_(&jobz, &rng, &uplo, &cn, (*C.double)(&a[0]), &lda, &vl, &vu, &il, &iu, &abstol, &m,
		(*C.double)(&w[0]), (*C.double)(&z[0]), &ldz, &isuppz[0], (*C.double)(&work[0]), &lw, &iwork[0], &liw, &info, 1, 1, 1)
	if info != 0 || int(m) != k {
		return nil, nil, fmt.Errorf("compute: eigen: LAPACK dsyevr failed (info %d, %d of %d values)", int(info), int(m), k)
	}
	vals = make([]float64, k)
	vecs = make([]float64, n*k)
	for j := 0; j < k; j++ { // LAPACK orders ascending; we want descending.
		src := k - 1 - j
		vals[j] = w[src]
		col := z[src*n : (src+1)*n]
		for i, v := range col {
			vecs[i*k+j] = v
		}
	}
	return vals, vecs, nil
}

// thinSVD factorises the r x c row-major matrix a (destroyed) as U diag(s) Vᵀ
// with p = min(r, c) singular values, descending; u is r x p and vt is p x c,
// both row-major.
func thinSVD(a []float64, r, c int) (s, u, vt []float64, err error) {
	if r == 0 || c == 0 {
		return nil, nil, nil, nil
	}
	// Row-major a is column-major aᵀ (c x r); factorising aᵀ = V S Uᵀ hands us
	// Vᵀ and Uᵀ in column-major, which read as row-major are what we want.
	p := min(r, c)
	m, n := C.int(c), C.int(r)
	lda := m
	s = make([]float64, p)
	uc := make([]float64, c*p)  // column-major c x p: V
	vtc := make([]float64, p*r) // column-major p x r: Uᵀ
	ldu, ldvt := C.int(c), C.int(p)
	jobz := C.char('S')
	iwork := make([]C.int, 8*p)
	var wq C.double
	var info C.int
	lw := C.int(-1)
	C.dgesdd_(&jobz, &m, &n, (*C.double)(&a[0]), &lda, (*C.double)(&s[0]), (*C.double)(&uc[0]), &ldu,
		(*C.double)(&vtc[0]), &ldvt, &wq, &lw, &iwork[0], &info, 1)
	if info != 0 {
		return nil, nil, nil, fmt.Errorf("compute: SVD: LAPACK dgesdd workspace query failed (info %d)", int(info))
	}
	lw = C.int(wq)
	work := make([]float64, int(lw))
	C.dgesdd_(&jobz, &m, &n, (*C.double)(&a[0]), &lda, (*C.double)(&s[0]), (*C.double)(&uc[0]), &ldu,
		(*C.double)(&vtc[0]), &ldvt, (*C.double)(&work[0]), &lw, &iwork[0], &info, 1)
	if info != 0 {
		return nil, nil, nil, fmt.Errorf("compute: SVD: LAPACK dgesdd did not converge (info %d)", int(info))
	}
	// uc column-major c x p: element (i,j) at uc[i+j*c] = V[i][j]; as row-major
	// p x c that is Vᵀ[j][i]. vtc column-major p x r: (j,i) at vtc[j+i*p] = Uᵀ[j][i];
	// as row-major r x p that is U[i][j].
	for _, v := range s {
		if math.IsNaN(v) {
			return nil, nil, nil, fmt.Errorf("compute: SVD: NaN singular value (input has NaN or Inf?)")
		}
	}
	return s, vtc, uc, nil
}
