//go:build amd64 && !purego

package onnx

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2+FMA kernels; without them the Go versions give the
// same bits, only slower.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

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
