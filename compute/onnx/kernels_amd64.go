//go:build amd64 && !purego

package onnx

import "golang.org/x/sys/cpu"

var avx2Kernels = &int8Kernels{
	name:      "avx2",
	qgemm8x8:  qgemm8x8Asm,
	dwconv:    dwconvAsm,
	qadd:      qadd8Tail,
	quantize:  quantize8Tail,
	subsample: subsampleGo,
}

var vnniKernels = &int8Kernels{
	name:      "vnni",
	qgemm8x8:  qgemm8x8Asm,
	dwconv:    dwconvAsm,
	qadd:      qadd8Tail,
	quantize:  quantize8Tail,
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

//go:noescape
func qgemm8x8(w *int32, x *uint8, plane, kp, nblk int, out *uint8, ldo int, post *requant8)

//go:noescape
func dwconv8(out *uint8, base *uint8, offs *int, w *int32, ntaps, n int, post *requant1)

//go:noescape
func qadd8(a, b, out *uint8, n int, p *addParams)

//go:noescape
func quantize8(in *float32, out *uint8, n int, p *quantParams)

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
