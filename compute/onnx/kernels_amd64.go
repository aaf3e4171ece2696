//go:build amd64 && !purego

package onnx

import "golang.org/x/sys/cpu"

var avx2Kernels = &int8Kernels{
	name:      "avx2",
	qgemm8x8:  qgemm8x8Asm,
	dwconv:    dwconvAsm,
	qadd:      qadd8Tail,
	quantize:  quantize8Tail,
	avgPlanes: avgPlanesAVX2,
	avgRows:   avgRowsGo,
	subsample: subsampleGo,
}

var vnniKernels = &int8Kernels{
	name:      "vnni",
	qgemm8x8:  qgemm8x8Asm,
	dwconv:    dwconvAsm,
	qadd:      qaddAVX512,
	quantize:  quantizeAVX512,
	avgPlanes: avgPlanesAVX512,
	avgRows:   avgRowsAVX512,
	subsample: subsampleAVX512,
	vnni:      true,
}

// The AVX2 kernels need FMA too (QLinearAdd); the VNNI ones use AVX-512
// F/BW (masks, byte moves), VL, VBMI (VPERMB) and VNNI (VPDPBUSD), and the
// OS must save the ZMM state (x/sys/cpu checks that for HasAVX512).
var (
	avx2Supported = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	vnniSupported = avx2Supported && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
		cpu.X86.HasAVX512VBMI && cpu.X86.HasAVX512VNNI
)

// supportedKernels lists the paths this CPU runs, fastest first.
var supportedKernels = func() []*int8Kernels {
	var ks []*int8Kernels
	if vnniSupported {
		ks = append(ks, vnniKernels)
	}
	if avx2Supported {
		ks = append(ks, avx2Kernels)
	}
	return append(ks, goKernels)
}()

// The assembly kernels as slices, for the tables.

func qadd8Tail(a, b, out []uint8, p *addParams) {
	n8 := len(out) &^ 7
	if n8 > 0 {
		qadd8(&a[0], &b[0], &out[0], n8, p)
	}
	qadd8Go(a[n8:len(out)], b[n8:len(out)], out[n8:], p)
}

func quantize8Tail(in []float32, out []uint8, p *quantParams) {
	n8 := len(out) &^ 7
	if n8 > 0 {
		quantize8(&in[0], &out[0], n8, p)
	}
	quantize8Go(in[n8:len(out)], out[n8:], p)
}

// avgPlanesAVX2 runs avgPlanes8 on whole groups of 8 planes of at least 32
// bytes (it reads each plane's last 32 bytes as one block), the rest in Go.
func avgPlanesAVX2(x []uint8, size int, out []uint8, post *requant1) {
	n8 := len(out) &^ 7
	if size < 32 || n8 == 0 {
		avgPlanesGo(x, size, out, post)
		return
	}
	_ = x[n8*size-1]
	avgPlanes8(&x[0], size, n8, &out[0], post)
	avgPlanesGo(x[n8*size:], size, out[n8:], post)
}

// The AVX-512 kernels take any length: the last values go under a mask.

func qaddAVX512(a, b, out []uint8, p *addParams) {
	if n := len(out); n > 0 {
		_, _ = a[n-1], b[n-1]
		qadd16(&a[0], &b[0], &out[0], n, p)
	}
}

func quantizeAVX512(in []float32, out []uint8, p *quantParams) {
	if n := len(out); n > 0 {
		_ = in[n-1]
		quantize16(&in[0], &out[0], n, p)
	}
}

func avgPlanesAVX512(x []uint8, size int, out []uint8, post *requant1) {
	if n := len(out); n > 0 && size > 0 {
		_ = x[n*size-1]
		avgPlanes16(&x[0], size, n, &out[0], post)
		return
	}
	avgPlanesGo(x, size, out, post)
}

func avgRowsAVX512(x []uint8, size int, out []uint8, post *requant1) {
	if c := len(out); c > 0 && size > 0 {
		_ = x[size*c-1]
		avgRows16(&x[0], size, c, &out[0], post)
		return
	}
	avgRowsGo(x, size, out, post)
}

// qgemm8x8Asm needs nblk > 0 and the slices to cover what it reads.
func qgemm8x8Asm(w []int32, x []uint8, plane, kp, nblk int, out []uint8, ldo int, post *requant8) {
	qgemm8x8(&w[0], &x[0], plane, kp, nblk, &out[0], ldo, post)
}

// dwconvAsm needs n to be a multiple of 16 and base to cover every tap's run.
func dwconvAsm(out []uint8, base []uint8, offs []int, w []int32, n int, post *requant1) {
	_ = base[offs[len(offs)-1]+n-1]
	_ = out[n-1]
	if len(offs) == 9 {
		var pairs [5]int32
		for p := range pairs {
			lo, hi := w[2*p], int32(0)
			if 2*p+1 < 9 {
				hi = w[2*p+1]
			}
			pairs[p] = int32(uint32(uint16(lo)) | uint32(uint16(hi))<<16)
		}
		dwconv3x3(&out[0], &base[0], &offs[0], &pairs[0], n, post)
		return
	}
	dwconv8(&out[0], &base[0], &offs[0], &w[0], len(offs), n, post)
}

// subsampleAVX512 is subsampleGo with evenBytes at stride 2 (the first
// convolution's im2col). evenBytes reads whole words, so when src ends on
// the last byte taken, that one is taken here.
func subsampleAVX512(dst, src []uint8, stride int) {
	n := len(dst)
	if stride != 2 || n == 0 {
		subsampleGo(dst, src, stride)
		return
	}
	dst[n-1] = src[2*(n-1)]
	if n--; n > 0 {
		_ = src[2*n-1]
		evenBytes(&dst[0], &src[0], n)
	}
}

//go:noescape
func qgemm8x8(w *int32, x *uint8, plane, kp, nblk int, out *uint8, ldo int, post *requant8)

//go:noescape
func dwconv8(out *uint8, base *uint8, offs *int, w *int32, ntaps, n int, post *requant1)

//go:noescape
func qadd8(a, b, out *uint8, n int, p *addParams)

//go:noescape
func quantize8(in *float32, out *uint8, n int, p *quantParams)

//go:noescape
func qadd16(a, b, out *uint8, n int, p *addParams)

//go:noescape
func quantize16(in *float32, out *uint8, n int, p *quantParams)

//go:noescape
func avgPlanes8(x *uint8, size, n int, out *uint8, post *requant1)

//go:noescape
func avgPlanes16(x *uint8, size, n int, out *uint8, post *requant1)

//go:noescape
func avgRows16(x *uint8, size, c int, out *uint8, post *requant1)

//go:noescape
func dwconv3x3(out *uint8, base *uint8, offs *int, w *int32, n int, post *requant1)

//go:noescape
func qgemmVNNI(w *int32, x *uint8, xstride, kq, nblk int, out *uint8, ldo int, post *requant8)

//go:noescape
func packQuads(dst *uint8, src *uint8, plane, dstStride, nquads, npx, ngroups int)

//go:noescape
func dw3x3VNNI(out *uint8, in *uint8, a *dwArgs)

//go:noescape
func copyRows(dst *uint8, src *uint8, w, h, dstStride int)

//go:noescape
func qgemvVNNI(w *int32, a *uint8, kq int, out *uint8, post *requant16)

//go:noescape
func evenBytes(dst *uint8, src *uint8, n int)
