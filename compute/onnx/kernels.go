package onnx

import "math"

// Parameter blocks shared with the assembly kernels: kernels_amd64.s reads
// their fields at fixed offsets (TestKernelParamOffsets pins them).

// requant8 requantizes 8 output channels: q = sat(round(float(acc+bias)*scale) + zp)
// with the float clamped to [lo, hi] = [0-zp, 255-zp] first, as MLAS does.
type requant8 struct {
	bias   [8]int32
	scale  [8]float32
	lo, hi float32
	zp     int32
	_      int32
}

// requant1 is requant8 for a single channel.
type requant1 struct {
	bias   int32
	scale  float32
	lo, hi float32
	zp     int32
	_      [3]int32
}

// addParams holds MlasQLinearAdd's constants: rA = sA/sC, rB = sB/sC and
// fixed = zC - (rA*zA + rB*zB).
type addParams struct {
	rA, rB, fixed float32
	_             float32
}

// quantParams holds QuantizeLinear's scale, clamp range and zero point.
type quantParams struct {
	scale, lo, hi float32
	zp            int32
}

// cvtps2dq is VCVTPS2DQ: round half to even; NaN and out-of-range give
// math.MinInt32 (the "integer indefinite" value).
func cvtps2dq(f float32) int32 {
	if f != f || f >= 2147483648 || f < -2147483648 {
		return math.MinInt32
	}
	return int32(math.RoundToEven(float64(f)))
}

// satU8 is VPACKSSDW followed by VPACKUSWB: int32 saturated to [0,255].
func satU8(v int32) uint8 {
	return uint8(min(max(v, 0), 255))
}

func requantGo(acc int32, scale, lo, hi float32, zp int32) uint8 {
	f := float32(acc) * scale
	if !(f >= lo) { // VMAXPS(f, lo) also gives lo for NaN
		f = lo
	}
	f = min(f, hi)
	return satU8(cvtps2dq(f) + zp)
}

// fma32 is a correctly rounded float32 fused multiply-add (VFMADD*PS): the
// product is exact in float64, and the one case where rounding the float64
// sum to float32 would round twice (a float32 halfway point) is settled by
// the sum's exact error.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact: 24+24 bits
	s := p + float64(c)
	bv := s - p
	e := (p - (s - bv)) + (float64(c) - bv)
	r := float32(s)
	bits := math.Float64bits(s)
	if e != 0 && bits&(1<<29-1) == 1<<28 { // s is exactly halfway between two float32s
		if e > 0 && float64(r) < s {
			r = math.Nextafter32(r, float32(math.Inf(1)))
		} else if e < 0 && float64(r) > s {
			r = math.Nextafter32(r, float32(math.Inf(-1)))
		}
	}
	return r
}

// Portable versions of the assembly kernels, identical in arithmetic.

func qgemm8x8Go(w []int32, x []uint8, plane, kp, nblk int, out []uint8, ldo int, post *requant8) {
	for b := 0; b < nblk; b++ {
		var acc [8][8]int32
		for k := 0; k < kp; k++ {
			x0 := x[2*k*plane+8*b:]
			x1 := x[(2*k+1)*plane+8*b:]
			ws := w[8*k : 8*k+8]
			for r, wp := range ws {
				w0, w1 := int32(int16(wp)), int32(int16(wp>>16))
				for j := 0; j < 8; j++ {
					acc[r][j] += int32(x0[j])*w0 + int32(x1[j])*w1
				}
			}
		}
		for r := 0; r < 8; r++ {
			o := out[r*ldo+8*b:]
			for j := 0; j < 8; j++ {
				o[j] = requantGo(acc[r][j]+post.bias[r], post.scale[r], post.lo, post.hi, post.zp)
			}
		}
	}
}

func dwconv8Go(out []uint8, base []uint8, offs []int, w []int32, n int, post *requant1) {
	for i := 0; i < n; i++ {
		var acc int32
		for t, off := range offs {
			acc += w[t] * int32(base[off+i])
		}
		out[i] = requantGo(acc+post.bias, post.scale, post.lo, post.hi, post.zp)
	}
}

func qadd8Go(a, b, out []uint8, p *addParams) {
	for i := range out {
		lo := fma32(float32(b[i]), p.rB, p.fixed)
		out[i] = satU8(cvtps2dq(fma32(float32(a[i]), p.rA, lo)))
	}
}

func quantize8Go(in []float32, out []uint8, p *quantParams) {
	for i := range out {
		f := in[i] / p.scale
		if !(f >= p.lo) {
			f = p.lo
		}
		f = min(f, p.hi)
		out[i] = satU8(cvtps2dq(f) + p.zp)
	}
}

func avgPlanesGo(x []uint8, size int, out []uint8, post *requant1) {
	for i := range out {
		acc := post.bias
		for _, v := range x[i*size : (i+1)*size] {
			acc += int32(v)
		}
		out[i] = requantGo(acc, post.scale, post.lo, post.hi, post.zp)
	}
}

func avgRowsGo(x []uint8, size int, out []uint8, post *requant1) {
	c := len(out)
	for j := range out {
		acc := post.bias
		for i := range size {
			acc += int32(x[i*c+j])
		}
		out[j] = requantGo(acc, post.scale, post.lo, post.hi, post.zp)
	}
}

func subsampleGo(dst, src []uint8, stride int) {
	_ = src[(len(dst)-1)*stride]
	for i := range dst {
		dst[i] = src[i*stride]
	}
}
