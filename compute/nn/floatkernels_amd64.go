//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// The AVX2 path: the assembly runs whole blocks of 8 values, the Go
// kernels the tail.
var avx2FloatKernels = &floatKernels{
	name: "avx2",
	biasReLU: func(dst, src []float32, b float32) {
		dst = dst[:len(src)]
		n8 := len(src) &^ 7
		if n8 > 0 {
			biasReLU8(&dst[0], &src[0], n8, b)
		}
		biasReLUGo(dst[n8:], src[n8:], b)
	},
	biasAdd: func(dst, src []float32, b float32) {
		dst = dst[:len(src)]
		n8 := len(src) &^ 7
		if n8 > 0 {
			biasAdd8(&dst[0], &src[0], n8, b)
		}
		biasAddGo(dst[n8:], src[n8:], b)
	},
	addReLU: func(dst, src []float32) {
		src = src[:len(dst)]
		n8 := len(dst) &^ 7
		if n8 > 0 {
			addReLU8(&dst[0], &src[0], n8)
		}
		addReLUGo(dst[n8:], src[n8:])
	},
	winogradCols: func(r, d [4][]float32) {
		n := len(d[0])
		n8 := n &^ 7
		if n8 > 0 {
			for k := range 4 { // bounds, once, for the assembly
				_, _ = r[k][n-1], d[k][n-1]
			}
			winogradCols8(&r[0][0], &r[1][0], &r[2][0], &r[3][0], &d[0][0], &d[1][0], &d[2][0], &d[3][0], n8)
		}
		var rt, dt [4][]float32
		for k := range 4 {
			rt[k], dt[k] = r[k][n8:], d[k][n8:n]
		}
		winogradColsGo(rt, dt)
	},
	winogradRows: func(m [4][]float32, t0, t1 []float32) {
		n := len(t0)
		n8 := n &^ 7
		if n8 > 0 {
			_ = t1[n-1]
			for k := range 4 {
				_ = m[k][n-1]
			}
			winogradRows8(&m[0][0], &m[1][0], &m[2][0], &m[3][0], &t0[0], &t1[0], n8)
		}
		mt := [4][]float32{m[0][n8:], m[1][n8:], m[2][n8:], m[3][n8:]}
		winogradRowsGo(mt, t0[n8:], t1[n8:])
	},
}

// supportedFloatKernels lists the paths this CPU runs, fastest first.
var supportedFloatKernels = func() []*floatKernels {
	if cpu.X86.HasAVX2 {
		return []*floatKernels{avx2FloatKernels, goFloatKernels}
	}
	return []*floatKernels{goFloatKernels}
}()

// Assembly (floatkernels_amd64.s): n > 0 and a multiple of 8, every slice
// at least n long.

//go:noescape
func biasReLU8(dst, src *float32, n int, b float32)

//go:noescape
func biasAdd8(dst, src *float32, n int, b float32)

//go:noescape
func addReLU8(dst, src *float32, n int)

//go:noescape
func winogradCols8(r0, r1, r2, r3, d0, d1, d2, d3 *float32, n int)

//go:noescape
func winogradRows8(m0, m1, m2, m3, t0, t1 *float32, n int)
