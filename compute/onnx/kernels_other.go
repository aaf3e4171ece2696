//go:build !amd64 || purego

package onnx

var useAsm = false

func qgemm8x8(w *int32, x *uint8, plane, kp, nblk int, out *uint8, ldo int, post *requant8) {
	panic("unreachable")
}

func dwconv8(out *uint8, base *uint8, offs *int, w *int32, ntaps, n int, post *requant1) {
	panic("unreachable")
}

func qadd8(a, b, out *uint8, n int, p *addParams) { panic("unreachable") }

func quantize8(in *float32, out *uint8, n int, p *quantParams) { panic("unreachable") }

func dwconv3x3(out *uint8, base *uint8, offs *int, w *int32, n int, post *requant1) {
	panic("unreachable")
}
