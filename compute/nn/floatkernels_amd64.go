//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// The AVX2 path: the assembly runs whole blocks of 8 values, the Go
// kernels the tail.
var avx2FloatKernels = &floatKernels{
	name:     "avx2",
	biasReLU: func(dst, src []float32, b float32) { biasBlocks8(dst, src, b, biasReLU8, biasReLUGo) },
	biasAdd:  func(dst, src []float32, b float32) { biasBlocks8(dst, src, b, biasAdd8, biasAddGo) },
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
			r, d = winogradBounds(r, d)
			winogradCols8(&r[0][0], &r[1][0], &r[2][0], &r[3][0], &d[0][0], &d[1][0], &d[2][0], &d[3][0], n8)
		}
		var rt, dt [4][]float32
		for k := range 4 {
			rt[k], dt[k] = r[k][n8:], d[k][n8:n]
		}
		winogradColsGo(rt, dt)
	},
	winogradTiles: winogradTilesGo,
	winogradRows: func(m [4][]float32, t0, t1 []float32) {
		n := len(t0)
		n8 := n &^ 7
		if n8 > 0 {
			m, t1 = winogradRowsBounds(m, t0, t1)
			winogradRows8(&m[0][0], &m[1][0], &m[2][0], &m[3][0], &t0[0], &t1[0], n8)
		}
		mt := [4][]float32{m[0][n8:], m[1][n8:], m[2][n8:], m[3][n8:]}
		winogradRowsGo(mt, t0[n8:], t1[n8:])
	},
	winogradPairs: winogradPairsGo,
	fill: func(s []float32, v float32) {
		n8 := len(s) &^ 7
		if n8 > 0 {
			fill8(&s[0], n8, v)
		}
		fillGo(s[n8:], v)
	},
}

// biasBlocks8 runs asm over the whole blocks of 8 values, tail over the
// rest.
func biasBlocks8(dst, src []float32, b float32, asm func(dst, src *float32, n int, b float32), tail func(dst, src []float32, b float32)) {
	dst = dst[:len(src)]
	n8 := len(src) &^ 7
	if n8 > 0 {
		asm(&dst[0], &src[0], n8, b)
	}
	tail(dst[n8:], src[n8:], b)
}

// The AVX-512 path masks its last step, so it needs no Go tail.
var avx512FloatKernels = &floatKernels{
	name: "avx512",
	biasReLU: func(dst, src []float32, b float32) {
		if len(src) > 0 {
			dst = dst[:len(src)]
			biasReLU16(&dst[0], &src[0], len(src), b)
		}
	},
	biasAdd: func(dst, src []float32, b float32) {
		if len(src) > 0 {
			dst = dst[:len(src)]
			biasAdd16(&dst[0], &src[0], len(src), b)
		}
	},
	addReLU: func(dst, src []float32) {
		if len(dst) > 0 {
			src = src[:len(dst)]
			addReLU16(&dst[0], &src[0], len(dst))
		}
	},
	winogradCols: func(r, d [4][]float32) {
		if n := len(d[0]); n > 0 {
			r, d = winogradBounds(r, d)
			winogradCols16(&r[0][0], &r[1][0], &r[2][0], &r[3][0], &d[0][0], &d[1][0], &d[2][0], &d[3][0], n)
		}
	},
	winogradTiles: func(cr []float32, o [4][]float32) {
		if n := len(o[0]); n > 0 {
			for k := range 4 {
				o[k] = o[k][:n]
			}
			cr = cr[:2*n+2]
			winogradTiles16(&cr[0], &o[0][0], &o[1][0], &o[2][0], &o[3][0], n)
		}
	},
	winogradRows: func(m [4][]float32, t0, t1 []float32) {
		if n := len(t0); n > 0 {
			m, t1 = winogradRowsBounds(m, t0, t1)
			winogradRows16(&m[0][0], &m[1][0], &m[2][0], &m[3][0], &t0[0], &t1[0], n)
		}
	},
	winogradPairs: func(q [4][]float32, pairs []float32, b float32) {
		if whole := len(pairs) / 2; whole > 0 {
			for k := range 4 {
				q[k] = q[k][:whole]
			}
			winogradPairs16(&q[0][0], &q[1][0], &q[2][0], &q[3][0], &pairs[0], b, whole)
		}
	},
	winogradBandReLU: func(m []float32, xiStride int, s [2][4][]float32, b float32, act Activation, out [2][]float32) {
		tw, row0 := len(s[0][0]), out[0]
		// the bounds Go's loops would check, once
		_ = m[15*xiStride+tw-1]
		if len(row0) > 2*tw || len(row0) < 2*tw-1 {
			panic("winogradBand: row length does not fit the tiles")
		}
		relu := 0
		if act == ActReLU {
			relu = 1
		}
		row1, nrows := &row0[0], 1
		if out[1] != nil {
			row1, nrows = &out[1][:len(row0)][0], 2
		}
		winogradBand16(&m[0], xiStride, tw, b, relu, &row0[0], row1, len(row0), nrows)
	},
	fill: func(s []float32, v float32) {
		if len(s) > 0 {
			fill16(&s[0], len(s), v)
		}
	},
}

// winogradBounds cuts r and d to len(d[0]) (panicking, as Go's loop would,
// if one is shorter) before the assembly reads and writes that many.
func winogradBounds(r, d [4][]float32) (rc, dc [4][]float32) {
	n := len(d[0])
	for k := range 4 {
		rc[k], dc[k] = r[k][:n], d[k][:n]
	}
	return rc, dc
}

// winogradRowsBounds cuts m and t1 to len(t0).
func winogradRowsBounds(m [4][]float32, t0, t1 []float32) ([4][]float32, []float32) {
	n := len(t0)
	for k := range 4 {
		m[k] = m[k][:n]
	}
	return m, t1[:n]
}

// supportedFloatKernels lists the paths this CPU runs, fastest first
// (x/sys/cpu's HasAVX512F includes the OS saving the ZMM and mask state).
var supportedFloatKernels = func() []*floatKernels {
	var ks []*floatKernels
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512FloatKernels)
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, avx2FloatKernels)
	}
	return append(ks, goFloatKernels)
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

//go:noescape
func fill8(dst *float32, n int, v float32)

// Assembly (floatkernels_avx512_amd64.s): n > 0, every slice at least n
// long.

//go:noescape
func biasReLU16(dst, src *float32, n int, b float32)

//go:noescape
func biasAdd16(dst, src *float32, n int, b float32)

//go:noescape
func addReLU16(dst, src *float32, n int)

//go:noescape
func winogradCols16(r0, r1, r2, r3, d0, d1, d2, d3 *float32, n int)

//go:noescape
func winogradRows16(m0, m1, m2, m3, t0, t1 *float32, n int)

//go:noescape
func winogradTiles16(cr, o0, o1, o2, o3 *float32, tw int)

//go:noescape
func winogradPairs16(q0, q1, q2, q3, pairs *float32, b float32, tiles int)

//go:noescape
func winogradBand16(m *float32, xiStride, tw int, b float32, relu int, row0, row1 *float32, ow, nrows int)

//go:noescape
func fill16(dst *float32, n int, v float32)
